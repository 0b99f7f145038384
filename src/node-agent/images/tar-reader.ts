/**
 * A streaming tar header reader (POSIX ustar, pax `x` headers, GNU long names `L`/`K`, base-256
 * numbers). It reports every member (path, type, link target, size, owner, mode) without
 * extracting anything, and can hand back the bodies of selected small members (metadata.yaml).
 * Used to vet an archive before GNU tar extracts it. Pure: the caller pushes decompressed bytes.
 */
import { errors } from '../../shared/index.js';

export const TarEntryType = {
  File: 'file',
  Hardlink: 'hardlink',
  Symlink: 'symlink',
  CharDevice: 'char',
  BlockDevice: 'block',
  Directory: 'directory',
  Fifo: 'fifo',
} as const;
export type TarEntryType = (typeof TarEntryType)[keyof typeof TarEntryType];

/** One archive member as stored (path not normalised, so callers can vet it). */
export interface TarEntry {
  readonly path: string;
  readonly type: TarEntryType;
  /** Link target for symlinks and hard links, '' otherwise. */
  readonly linkPath: string;
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** Callbacks of {@link TarReader}. */
export interface TarReaderHandlers {
  /** Called for each member; return true to receive its body through `onBody`. Throwing aborts the read. */
  onEntry(entry: TarEntry): boolean;
  onBody?(entry: TarEntry, body: Buffer): void;
}

const BLOCK = 512;
/** Bodies of pax/GNU meta headers and captured members are capped (they are held in memory). */
const MAX_META_BYTES = 1024 * 1024;

const TYPE_BY_FLAG: Readonly<Record<string, TarEntryType>> = {
  '0': TarEntryType.File,
  '\0': TarEntryType.File,
  '7': TarEntryType.File,
  S: TarEntryType.File,
  '1': TarEntryType.Hardlink,
  '2': TarEntryType.Symlink,
  '3': TarEntryType.CharDevice,
  '4': TarEntryType.BlockDevice,
  '5': TarEntryType.Directory,
  D: TarEntryType.Directory,
  '6': TarEntryType.Fifo,
};

type State =
  | { readonly kind: 'header' }
  | { readonly kind: 'skip'; remaining: number }
  | { readonly kind: 'collect'; remaining: number; pad: number; parts: Buffer[]; readonly purpose: Purpose }
  | { readonly kind: 'ended' };

type Purpose =
  | { readonly kind: 'pax' }
  | { readonly kind: 'gnuName' }
  | { readonly kind: 'gnuLink' }
  | { readonly kind: 'body'; readonly entry: TarEntry };

/** Incremental tar reader: `push` decompressed chunks, then `end`. Throws INVALID_ARGUMENT on malformed input. */
export class TarReader {
  private state: State = { kind: 'header' };
  private pending: Buffer = Buffer.alloc(0);
  private pax: Map<string, string> = new Map();
  private gnuName: string | undefined;
  private gnuLink: string | undefined;
  private count = 0;

  constructor(private readonly handlers: TarReaderHandlers) {}

  /** Number of members reported so far. */
  get entries(): number {
    return this.count;
  }

  push(chunk: Buffer): void {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    let off = 0;
    while (off < buf.length) {
      const st = this.state;
      if (st.kind === 'ended') return;
      if (st.kind === 'skip') {
        const n = Math.min(st.remaining, buf.length - off);
        st.remaining -= n;
        off += n;
        if (st.remaining === 0) this.state = { kind: 'header' };
        continue;
      }
      if (st.kind === 'collect') {
        const n = Math.min(st.remaining, buf.length - off);
        st.parts.push(buf.subarray(off, off + n));
        st.remaining -= n;
        off += n;
        if (st.remaining === 0) {
          this.finishCollect(Buffer.concat(st.parts), st.purpose);
          this.state = st.pad > 0 ? { kind: 'skip', remaining: st.pad } : { kind: 'header' };
        }
        continue;
      }
      if (buf.length - off < BLOCK) {
        this.pending = Buffer.from(buf.subarray(off));
        return;
      }
      this.header(buf.subarray(off, off + BLOCK));
      off += BLOCK;
    }
  }

  /** Throws INVALID_ARGUMENT when the archive stopped in the middle of a member. */
  end(): void {
    const ended = this.state.kind === 'ended';
    if (!ended && (this.state.kind !== 'header' || this.pending.length > 0)) throw errors.invalid('truncated archive');
    if (this.count === 0) throw errors.invalid('empty archive');
  }

  private header(h: Buffer): void {
    if (h.every((b) => b === 0)) {
      this.state = { kind: 'ended' };
      return;
    }
    if (!checksumOk(h)) throw errors.invalid('bad header checksum');
    const flag = String.fromCharCode(h[156] ?? 0);
    const size = readNumber(h, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'x' || flag === 'L' || flag === 'K') {
      if (size > MAX_META_BYTES) throw errors.invalid('oversized extended header');
      const purpose: Purpose =
        flag === 'x' ? { kind: 'pax' } : flag === 'L' ? { kind: 'gnuName' } : { kind: 'gnuLink' };
      this.startCollect(size, padded - size, purpose);
      return;
    }
    if (flag === 'g' || flag === 'V' || flag === 'M' || flag === 'N') {
      // Global pax headers, volume labels and multi-volume markers carry no member.
      this.state = padded > 0 ? { kind: 'skip', remaining: padded } : { kind: 'header' };
      return;
    }
    const type = TYPE_BY_FLAG[flag];
    if (type === undefined) throw errors.invalid(`unsupported member type "${flag}"`);
    const magic = h.subarray(257, 263).toString('latin1');
    const name = readString(h, 0, 100);
    const prefix = magic === 'ustar\0' ? readString(h, 345, 155) : '';
    const paxSize = this.pax.get('size');
    const entry: TarEntry = {
      path: this.pax.get('path') ?? this.gnuName ?? (prefix ? `${prefix}/${name}` : name),
      type,
      linkPath: this.pax.get('linkpath') ?? this.gnuLink ?? readString(h, 157, 100),
      size: paxSize === undefined ? size : Number(paxSize),
      mode: readNumber(h, 100, 8),
      uid: this.pax.has('uid') ? Number(this.pax.get('uid')) : readNumber(h, 108, 8),
      gid: this.pax.has('gid') ? Number(this.pax.get('gid')) : readNumber(h, 116, 8),
    };
    this.pax = new Map();
    this.gnuName = undefined;
    this.gnuLink = undefined;
    if (!Number.isSafeInteger(entry.size) || entry.size < 0) throw errors.invalid('bad member size');
    this.count++;
    // Hard links, symlinks, devices, fifos and directories have no body, whatever the size field says
    // (GNU dumpdir 'D' members do, and are skipped).
    const bodyBytes = type === TarEntryType.File || flag === 'D' ? entry.size : 0;
    const bodyPadded = Math.ceil(bodyBytes / BLOCK) * BLOCK;
    const wanted = this.handlers.onEntry(entry);
    if (wanted && type === TarEntryType.File && this.handlers.onBody) {
      if (bodyBytes > MAX_META_BYTES) throw errors.invalid(`"${entry.path}" is too large`);
      this.startCollect(bodyBytes, bodyPadded - bodyBytes, { kind: 'body', entry });
      return;
    }
    this.state = bodyPadded > 0 ? { kind: 'skip', remaining: bodyPadded } : { kind: 'header' };
  }

  private startCollect(size: number, pad: number, purpose: Purpose): void {
    if (size === 0) {
      this.finishCollect(Buffer.alloc(0), purpose);
      this.state = pad > 0 ? { kind: 'skip', remaining: pad } : { kind: 'header' };
      return;
    }
    this.state = { kind: 'collect', remaining: size, pad, parts: [], purpose };
  }

  private finishCollect(body: Buffer, purpose: Purpose): void {
    switch (purpose.kind) {
      case 'pax':
        this.pax = parsePax(body);
        return;
      case 'gnuName':
        this.gnuName = cString(body);
        return;
      case 'gnuLink':
        this.gnuLink = cString(body);
        return;
      case 'body':
        this.handlers.onBody?.(purpose.entry, body);
        return;
    }
  }
}

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.subarray(0, nul === -1 ? b.length : nul).toString('utf8');
}

function readString(h: Buffer, off: number, len: number): string {
  return cString(h.subarray(off, off + len));
}

/** Octal (NUL/space terminated) or GNU base-256 (high bit set) numbers. */
function readNumber(h: Buffer, off: number, len: number): number {
  const first = h[off] ?? 0;
  if (first & 0x80) {
    if (first === 0xff) throw errors.invalid('negative number in header');
    let v = first & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + (h[off + i] ?? 0);
    return v;
  }
  const s = h
    .subarray(off, off + len)
    .toString('latin1')
    .replace(/[\0 ]+$/g, '')
    .trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw errors.invalid('malformed number in header');
  return parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  const stored = readNumber(h, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (h[i] ?? 0);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** pax records: "<len> <key>=<value>\n". */
function parsePax(body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let off = 0;
  while (off < body.length) {
    const sp = body.indexOf(0x20, off);
    if (sp === -1) break;
    const len = Number(body.subarray(off, sp).toString('latin1'));
    if (!Number.isSafeInteger(len) || len <= 0 || off + len > body.length) {
      throw errors.invalid('malformed pax header');
    }
    const rec = body.subarray(sp + 1, off + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    off += len;
  }
  return out;
}
