// The streaming multipart reader of split image uploads: parts and their bytes come out intact
// whatever the chunking (one byte at a time, random cuts, a boundary split across chunks), and
// malformed bodies are refused with INVALID_ARGUMENT.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { multipartBoundary, readMultipart } from '../../../../src/api/images/multipart.js';
import { ErrorCode, isShoalError } from '../../../../src/shared/index.js';

const B = 'X-BOUNDARY-1234';

function body(parts: Array<{ name: string; filename?: string; data: Buffer }>): Buffer {
  const out: Buffer[] = [Buffer.from('preamble ignored\r\n')];
  for (const p of parts) {
    out.push(Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${p.name}"; filename="${p.filename ?? p.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
    out.push(p.data, Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${B}--\r\n`));
  return Buffer.concat(out);
}

async function* cut(buf: Buffer, sizes: () => number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; ) {
    const n = Math.max(1, sizes());
    yield buf.subarray(i, i + n);
    i += n;
  }
}

async function collect(input: AsyncIterable<Buffer>): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer[]> = {};
  let cur = '';
  for await (const e of readMultipart(input, B)) {
    if (e.type === 'part') {
      cur = e.name;
      out[cur] = [];
    } else out[cur]!.push(e.data);
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Buffer.concat(v)]));
}

const code = (c: ErrorCode, includes: string) => (err: unknown) => isShoalError(err, c) && err.message.includes(includes);

describe('src/api/images/multipart.ts', () => {
  describe('multipartBoundary', () => {
    it('reads quoted and bare boundaries and ignores other types', () => {
      assert.equal(multipartBoundary(`multipart/form-data; boundary=${B}`), B);
      assert.equal(multipartBoundary(`multipart/form-data; boundary="a b"`), 'a b');
      assert.equal(multipartBoundary('application/octet-stream'), undefined);
      assert.throws(() => multipartBoundary('multipart/form-data'), code(ErrorCode.InvalidArgument, 'boundary'));
    });
  });

  describe('readMultipart', () => {
    const meta = randomBytes(3000);
    // Bytes that look like the start of a delimiter must pass through.
    const rootfs = Buffer.concat([randomBytes(70_000), Buffer.from(`\r\n--${B.slice(0, 5)}`), randomBytes(5000)]);
    const whole = body([{ name: 'metadata', data: meta }, { name: 'rootfs', data: rootfs }]);

    it('returns each part intact when read one byte at a time', async () => {
      const got = await collect(cut(whole, () => 1));
      assert.deepEqual(Object.keys(got), ['metadata', 'rootfs']);
      assert.ok(got['metadata']!.equals(meta));
      assert.ok(got['rootfs']!.equals(rootfs));
    });

    it('returns each part intact for random chunkings', async () => {
      for (let run = 0; run < 20; run++) {
        const got = await collect(cut(whole, () => 1 + Math.floor(Math.random() * 9000)));
        assert.ok(got['metadata']!.equals(meta) && got['rootfs']!.equals(rootfs), `run ${run}`);
      }
    });

    it('refuses a body without the closing boundary', async () => {
      await assert.rejects(collect(cut(whole.subarray(0, whole.length - 10), () => 4096)), code(ErrorCode.InvalidArgument, 'closing boundary'));
    });

    it('refuses a body without any boundary', async () => {
      await assert.rejects(collect(cut(randomBytes(40_000), () => 4096)), code(ErrorCode.InvalidArgument, 'no opening boundary'));
    });

    it('refuses a part without a name', async () => {
      const bad = Buffer.from(`--${B}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${B}--\r\n`);
      await assert.rejects(collect(cut(bad, () => 100)), code(ErrorCode.InvalidArgument, 'no Content-Disposition name'));
    });
  });
});
