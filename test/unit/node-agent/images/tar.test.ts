// Covers src/node-agent/images/tar-writer.ts, tar-reader.ts and archive-vetter.ts: round trips
// through the pure writer and reader (ustar prefix names, pax and GNU long names, bodies captured
// on demand), malformed input, and the vetting rules that keep extraction inside its directory.
import { strict as assert } from 'node:assert';
import { ArchiveVetter, normaliseMemberPath } from '../../../../src/node-agent/images/archive-vetter.js';
import { detectArchiveKind } from '../../../../src/node-agent/images/archive.js';
import { TarReader, type TarEntry } from '../../../../src/node-agent/images/tar-reader.js';
import { writeTar } from '../../../../src/node-agent/images/tar-writer.js';
import { ErrorCode, isShoalError } from '../../../../src/shared/index.js';

function readAll(tar: Buffer, capture: (e: TarEntry) => boolean = () => false, chunk = 700) {
  const entries: TarEntry[] = [];
  const bodies = new Map<string, string>();
  const r = new TarReader({
    onEntry: (e) => (entries.push(e), capture(e)),
    onBody: (e, b) => void bodies.set(e.path, b.toString()),
  });
  for (let i = 0; i < tar.length; i += chunk) r.push(tar.subarray(i, i + chunk));
  r.end();
  return { entries, bodies };
}

/** A header block built by hand (for pax and GNU long-name members the writer never emits). */
function rawHeader(name: string, flag: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write(flag, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}
const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

describe('src/node-agent/images/tar', () => {
  describe('writeTar + TarReader', () => {
    it('round-trips files, directories, links, owners and modes', () => {
      const long = `rootfs/${'d'.repeat(90)}/${'f'.repeat(60)}`;
      const tar = writeTar(
        [
          { type: 'directory', path: 'rootfs', mode: 0o755 },
          { type: 'file', path: 'rootfs/a', mode: 0o4750, uid: 7, gid: 8, content: Buffer.from('hello') },
          { type: 'symlink', path: 'rootfs/s', target: '/bin/busybox' },
          { type: 'hardlink', path: 'rootfs/h', target: 'rootfs/a' },
          { type: 'file', path: long, mode: 0o600, content: Buffer.alloc(1500, 1) },
        ],
        42,
      );
      const { entries, bodies } = readAll(tar, (e) => e.path === 'rootfs/a');
      assert.deepEqual(
        entries.map((e) => [e.path, e.type, e.linkPath, e.size, e.mode, e.uid, e.gid]),
        [
          ['rootfs/', 'directory', '', 0, 0o755, 0, 0],
          ['rootfs/a', 'file', '', 5, 0o4750, 7, 8],
          ['rootfs/s', 'symlink', '/bin/busybox', 0, 0o777, 0, 0],
          ['rootfs/h', 'hardlink', 'rootfs/a', 0, 0o777, 0, 0],
          [long, 'file', '', 1500, 0o600, 0, 0],
        ],
      );
      assert.deepEqual([...bodies], [['rootfs/a', 'hello']]);
    });

    it('is deterministic', () => {
      const e = [{ type: 'file' as const, path: 'x', mode: 0o644, content: Buffer.from('x') }];
      assert.ok(writeTar(e, 1).equals(writeTar(e, 1)));
    });

    it('applies pax path and GNU long-name headers to the next member', () => {
      const paxRec = (k: string, v: string): string => {
        const body = ` ${k}=${v}\n`;
        let len = body.length + 1;
        if (String(len).length + body.length !== len) len = String(len + 1).length + body.length;
        return `${String(body.length + String(len).length)}${body}`;
      };
      const paxBody = Buffer.from(paxRec('path', `pax/${'p'.repeat(150)}`));
      const gnuBody = Buffer.from(`gnu/${'g'.repeat(120)}\0`);
      const tar = Buffer.concat([
        rawHeader('PaxHeader', 'x', paxBody.length),
        pad(paxBody),
        rawHeader('short', '0', 0),
        rawHeader('././@LongLink', 'L', gnuBody.length),
        pad(gnuBody),
        rawHeader('trunc', '5', 0),
        Buffer.alloc(1024),
      ]);
      assert.deepEqual(
        readAll(tar).entries.map((e) => e.path),
        [`pax/${'p'.repeat(150)}`, `gnu/${'g'.repeat(120)}`],
      );
    });

    it('rejects a bad checksum, a truncated archive and an empty one', () => {
      const tar = writeTar([{ type: 'file', path: 'x', mode: 0o644, content: Buffer.alloc(600) }], 1);
      const corrupt = Buffer.from(tar);
      corrupt[10] = 0x41;
      const isInvalid = (err: unknown) => isShoalError(err, ErrorCode.InvalidArgument);
      assert.throws(() => readAll(corrupt), isInvalid);
      assert.throws(() => readAll(tar.subarray(0, 800)), /truncated/);
      assert.throws(() => readAll(Buffer.alloc(1024)), /empty archive/);
    });
  });

  describe('ArchiveVetter', () => {
    const e = (path: string, type: TarEntry['type'] = 'file', linkPath = ''): TarEntry => ({
      path,
      type,
      linkPath,
      size: 0,
      mode: 0o644,
      uid: 0,
      gid: 0,
    });
    const vet = (...entries: TarEntry[]): string[] => {
      const v = new ArchiveVetter();
      return entries.map((x) => v.check(x));
    };

    it('normalises accepted paths', () => {
      assert.deepEqual(vet(e('./metadata.yaml'), e('rootfs/', 'directory'), e('./rootfs//bin/')), [
        'metadata.yaml',
        'rootfs',
        'rootfs/bin',
      ]);
      assert.equal(normaliseMemberPath('./'), '');
    });

    it('accepts absolute symlinks and relative ones that stay inside', () => {
      assert.deepEqual(
        vet(e('rootfs/bin/sh', 'symlink', '/bin/busybox'), e('rootfs/usr/lib64', 'symlink', '../lib'), e('rootfs/x', 'symlink', 'y/../z')),
        ['rootfs/bin/sh', 'rootfs/usr/lib64', 'rootfs/x'],
      );
    });

    const rejected: [string, TarEntry[], RegExp][] = [
      ['absolute paths', [e('/etc/passwd')], /absolute path/],
      ['".." components', [e('rootfs/../../x')], /containing "\.\."/],
      ['hard links to ".." targets', [e('rootfs/h', 'hardlink', '../x')], /hard link target containing/],
      ['hard links to absolute targets', [e('rootfs/h', 'hardlink', '/etc/shadow')], /absolute hard link target/],
      ['members below a planted symlink', [e('rootfs/l', 'symlink', '/'), e('rootfs/l/etc/x')], /through the symlink/],
      ['symlinks climbing above the root', [e('a/b', 'symlink', '../../x')], /pointing outside/],
      ['empty symlink targets', [e('a', 'symlink', '')], /empty symlink target/],
      ['empty names', [e('')], /empty or invalid path/],
      ['a directory later replaced by a symlink', [e('rootfs/', 'directory'), e('rootfs', 'symlink', '/')], /replaces an earlier directory with a symlink/],
      ['a file later replaced by a symlink', [e('metadata.yaml'), e('metadata.yaml', 'symlink', '/etc/shadow')], /replaces an earlier file/],
    ];
    for (const [what, entries, message] of rejected) {
      it(`rejects ${what}`, () => {
        assert.throws(() => vet(...entries), (err: unknown) => isShoalError(err, ErrorCode.InvalidArgument) && message.test(err.message));
      });
    }

    it('accepts a member repeated with the same type', () => {
      assert.deepEqual(vet(e('a', 'directory'), e('a/f'), e('a/f'), e('./a/', 'directory')), ['a', 'a/f', 'a/f', 'a']);
    });
  });

  describe('detectArchiveKind', () => {
    it('recognises compressions and squashfs by magic bytes', () => {
      const kinds = [
        [Buffer.from([0x1f, 0x8b, 8]), 'gzip'],
        [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]), 'xz'],
        [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'zstd'],
        [Buffer.from('BZh9'), 'bzip2'],
        [Buffer.from([0x5d, 0, 0, 0x80]), 'lzma'],
        [writeTar([{ type: 'directory', path: 'x', mode: 0o755 }], 1), 'none'],
      ] as const;
      for (const [head, compression] of kinds) assert.deepEqual(detectArchiveKind(head), { kind: 'tar', compression });
      assert.deepEqual(detectArchiveKind(Buffer.from('hsqs')), { kind: 'squashfs' });
      assert.equal(detectArchiveKind(Buffer.from('nonsense')), undefined);
    });
  });
});
