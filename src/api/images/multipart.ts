/**
 * A streaming `multipart/form-data` reader for split image uploads (`lxc image import META
 * ROOTFS` sends parts `metadata` and `rootfs`/`rootfs.img`). It never holds more than one
 * incoming chunk plus a delimiter's worth of bytes, so a multi-GiB rootfs streams through.
 * Output is a flat sequence of events: `part` (its name), then that part's `data` chunks.
 */
import { errors } from '../../shared/index.js';

/** One event of {@link readMultipart}. */
export type MultipartEvent = { readonly type: 'part'; readonly name: string; readonly filename: string } | { readonly type: 'data'; readonly data: Buffer };

/** The boundary of a `multipart/form-data` Content-Type, or undefined when it is not one. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  if (!b || b.length > 200) throw errors.invalid('Invalid multipart Content-Type: missing or bad boundary');
  return b;
}

const MAX_HEADER_BYTES = 16 * 1024;

/**
 * Reads `body` as multipart with `boundary`. Throws INVALID_ARGUMENT on malformed input (no
 * opening delimiter, headers too long, a part without a name, a missing closing delimiter).
 */
export async function* readMultipart(body: AsyncIterable<Buffer | Uint8Array | string>, boundary: string): AsyncGenerator<MultipartEvent> {
  const delim = Buffer.from(`\r\n--${boundary}`);
  // A leading CRLF lets the first delimiter (at the very start) match like the others.
  let buf: Buffer = Buffer.from('\r\n');
  let state: 'preamble' | 'after-delim' | 'headers' | 'body' | 'done' = 'preamble';
  let preamble = 0;
  for await (const raw of body) {
    if (state === 'preamble') preamble += raw.length;
    buf = buf.length === 0 ? toBuffer(raw) : Buffer.concat([buf, toBuffer(raw)]);
    for (;;) {
      if (state === 'preamble') {
        const i = buf.indexOf(delim);
        if (i < 0) {
          buf = buf.subarray(Math.max(0, buf.length - delim.length + 1));
          if (preamble > MAX_HEADER_BYTES) throw errors.invalid('Invalid multipart body: no opening boundary');
          break;
        }
        buf = buf.subarray(i + delim.length);
        state = 'after-delim';
      }
      if (state === 'after-delim') {
        if (buf.length < 2) break;
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          state = 'done';
          buf = Buffer.alloc(0);
          break;
        }
        const eol = buf.indexOf('\r\n');
        if (eol < 0) {
          if (buf.length > 256) throw errors.invalid('Invalid multipart body: garbage after a boundary');
          break;
        }
        buf = buf.subarray(eol + 2);
        state = 'headers';
      }
      if (state === 'headers') {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buf.length > MAX_HEADER_BYTES) throw errors.invalid('Invalid multipart body: part headers too long');
          break;
        }
        const head = buf.subarray(0, end).toString('utf8');
        buf = buf.subarray(end + 4);
        yield { type: 'part', ...dispositionOf(head) };
        state = 'body';
      }
      if (state === 'body') {
        const i = buf.indexOf(delim);
        if (i >= 0) {
          if (i > 0) yield { type: 'data', data: buf.subarray(0, i) };
          buf = buf.subarray(i + delim.length);
          state = 'after-delim';
          continue;
        }
        const keep = delim.length - 1;
        if (buf.length > keep) {
          yield { type: 'data', data: buf.subarray(0, buf.length - keep) };
          buf = buf.subarray(buf.length - keep);
        }
        break;
      }
      if (state === 'done') break;
    }
  }
  if (state === 'preamble') throw errors.invalid('Invalid multipart body: no opening boundary');
  if (state !== 'done') throw errors.invalid('Invalid multipart body: it ends before the closing boundary');
}

function toBuffer(b: Buffer | Uint8Array | string): Buffer {
  return typeof b === 'string' ? Buffer.from(b) : Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function dispositionOf(head: string): { name: string; filename: string } {
  for (const line of head.split('\r\n')) {
    const m = /^content-disposition\s*:\s*(.*)$/i.exec(line);
    if (!m) continue;
    const value = m[1]!;
    const name = /(?:^|;)\s*name="([^"]*)"/i.exec(value)?.[1] ?? /(?:^|;)\s*name=([^;\s]+)/i.exec(value)?.[1];
    const filename = /;\s*filename="([^"]*)"/i.exec(value)?.[1] ?? '';
    if (name === undefined || name === '') break;
    return { name, filename };
  }
  throw errors.invalid('Invalid multipart body: a part has no Content-Disposition name');
}
