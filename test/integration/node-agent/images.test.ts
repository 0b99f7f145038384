// Covers src/node-agent/images (FsImageStore, archive, busybox builder) against real GNU tar, xz,
// gzip, mksquashfs and unsquashfs: LXD fingerprints for unified and split images, compressed
// input, rejection of unsafe or malformed uploads (leaving nothing behind), crash leftovers,
// chunked reads, prefix resolution, and unpacking with owners, modes and xattrs kept.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { run } from '../../../src/node-agent/exec.js';
import { buildBusyboxImage, type BuiltImage } from '../../../src/node-agent/images/busybox.js';
import { FsImageStore } from '../../../src/node-agent/images/fs-image-store.js';
import { writeTar, type TarWriteEntry } from '../../../src/node-agent/images/tar-writer.js';
import { ErrorCode, isShoalError, silentLogger } from '../../../src/shared/index.js';
import { CleanupStack } from '../../support/storage-cleanup.js';

const META = 'architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  os: test\n';
const sig = (): AbortSignal => AbortSignal.timeout(60_000);
const sha = (...bufs: Buffer[]): string => {
  const h = createHash('sha256');
  for (const b of bufs) h.update(b);
  return h.digest('hex');
};
const file = (path: string, content: string, mode = 0o644): TarWriteEntry => ({
  type: 'file',
  path,
  mode,
  content: Buffer.from(content),
});
const dir = (path: string, mode = 0o755): TarWriteEntry => ({ type: 'directory', path, mode });
const unified = (extra: TarWriteEntry[] = [], meta = META): Buffer =>
  writeTar([file('metadata.yaml', meta), dir('rootfs'), file('rootfs/hello', 'hi\n'), ...extra], 1700000000);
const code = (c: ErrorCode) => (err: unknown) => isShoalError(err, c);

describe('src/node-agent/images', () => {
  const cleanup = new CleanupStack();
  let base: string;
  let store: FsImageStore;
  let busybox: BuiltImage;

  before(async () => {
    busybox = await buildBusyboxImage({}, sig());
  });
  beforeEach(async () => {
    base = await cleanup.tempDir('images');
    store = await FsImageStore.open(join(base, 'images'), silentLogger());
  });
  afterEach(() => cleanup.run());

  /** Files in the store directory besides the empty .tmp/. */
  const storeFiles = async (): Promise<string[]> => {
    const names = (await readdir(join(base, 'images'))).filter((n) => n !== '.tmp');
    return [...names, ...(await readdir(join(base, 'images', '.tmp'))).map((n) => `.tmp/${n}`)].sort();
  };

  describe('FsImageStore import', () => {
    it('fingerprints a unified image as the SHA-256 of the tarball', async () => {
      const info = await store.importUnified(Readable.from([busybox.tarball]), {}, sig());
      assert.equal(info.fingerprint, sha(busybox.tarball));
      assert.equal(info.fingerprint, busybox.fingerprint);
      assert.deepEqual(
        { format: info.format, arch: info.architecture, size: info.sizeBytes, os: info.properties['os'] },
        { format: 'unified', arch: 'x86_64', size: busybox.tarball.length, os: 'busybox' },
      );
      assert.deepEqual(await storeFiles(), [info.fingerprint, `${info.fingerprint}.json`]);
    });

    it('is idempotent by fingerprint', async () => {
      const a = await store.importUnified(Readable.from([busybox.tarball]), {}, sig());
      const b = await store.importUnified(Readable.from([busybox.tarball]), {}, sig());
      assert.deepEqual(a, b);
      assert.equal((await store.list()).length, 1);
    });

    for (const [name, args] of [
      ['gzip', ['gzip', '-n', '-k']],
      ['xz', ['xz', '-k', '-T1']],
      ['zstd', ['zstd', '-q', '-k']],
      ['bzip2', ['bzip2', '-k']],
    ] as const) {
      it(`accepts a ${name}-compressed unified tarball and fingerprints the compressed bytes`, async () => {
        const raw = join(base, 'image.tar');
        await writeFile(raw, busybox.tarball);
        await run(args[0], [...args.slice(1), raw]);
        const ext = { gzip: 'gz', xz: 'xz', zstd: 'zst', bzip2: 'bz2' }[name];
        const bytes = await readFile(`${raw}.${ext}`);
        const info = await store.importUnified(Readable.from([bytes]), {}, sig());
        assert.equal(info.fingerprint, sha(bytes));
        const target = join(base, 'unpacked');
        await store.unpack(info.fingerprint, target, sig());
        assert.ok((await stat(join(target, 'rootfs/bin/busybox'))).isFile());
      });
    }

    it('fingerprints a split image (squashfs rootfs) over metadata then rootfs bytes', async () => {
      const meta = writeTar([file('metadata.yaml', META), dir('templates'), file('templates/t.tpl', 'x')], 1);
      const tree = join(base, 'tree');
      await mkdir(join(tree, 'etc'), { recursive: true });
      await writeFile(join(tree, 'etc/issue'), 'split\n');
      const sqfs = join(base, 'rootfs.squashfs');
      await run('mksquashfs', [tree, sqfs, '-noappend', '-quiet', '-no-progress', '-all-root']);
      const rootfs = await readFile(sqfs);
      const info = await store.importSplit(Readable.from([meta]), Readable.from([rootfs]), {}, sig());
      assert.equal(info.fingerprint, sha(meta, rootfs));
      assert.equal(info.format, 'split');
      assert.equal(info.sizeBytes, meta.length + rootfs.length);
      const target = join(base, 'unpacked');
      await store.unpack(info.fingerprint, target, sig());
      assert.equal(await readFile(join(target, 'rootfs/etc/issue'), 'utf8'), 'split\n');
      assert.equal(await readFile(join(target, 'templates/t.tpl'), 'utf8'), 'x');
      assert.ok((await stat(join(target, 'metadata.yaml'))).isFile());
    });

    it('accepts a split image whose rootfs is an xz tarball', async () => {
      const meta = writeTar([file('metadata.yaml', META)], 1);
      const rootTar = join(base, 'rootfs.tar');
      await writeFile(rootTar, writeTar([dir('etc'), file('etc/os-release', 'ID=test\n')], 1));
      await run('xz', ['-k', '-T1', rootTar]);
      const rootfs = await readFile(`${rootTar}.xz`);
      const info = await store.importSplit(Readable.from([meta]), Readable.from([rootfs]), {}, sig());
      assert.equal(info.fingerprint, sha(meta, rootfs));
      const target = join(base, 'unpacked');
      await store.unpack(info.fingerprint, target, sig());
      assert.equal(await readFile(join(target, 'rootfs/etc/os-release'), 'utf8'), 'ID=test\n');
    });

    it('checks the expected fingerprint', async () => {
      const tar = unified();
      await assert.rejects(
        store.importUnified(Readable.from([tar]), { expectedFingerprint: '0'.repeat(64) }, sig()),
        code(ErrorCode.InvalidArgument),
      );
      const info = await store.importUnified(Readable.from([tar]), { expectedFingerprint: sha(tar).toUpperCase() }, sig());
      assert.equal(info.fingerprint, sha(tar));
    });
  });

  describe('FsImageStore rejects bad input and leaves nothing behind', () => {
    const bad: [string, () => Buffer, RegExp][] = [
      ['no metadata.yaml', () => writeTar([dir('rootfs'), file('rootfs/a', 'a')], 1), /no metadata\.yaml/],
      ['no architecture', () => unified([], 'creation_date: 1\n'), /missing "architecture"/],
      ['an unknown architecture', () => unified([], 'architecture: vax\n'), /unknown architecture "vax"/],
      ['a ".." member', () => unified([file('rootfs/../../evil', 'x')]), /containing "\.\."/],
      ['an absolute member', () => unified([file('/etc/evil', 'x')]), /absolute path/],
      [
        'a member written through a planted symlink',
        () => unified([{ type: 'symlink', path: 'rootfs/etc', target: '/etc' }, file('rootfs/etc/cron.d/evil', 'x')]),
        /through the symlink "rootfs\/etc"/,
      ],
      [
        'a hard link through a planted symlink',
        () =>
          unified([
            { type: 'symlink', path: 'rootfs/h', target: '/etc' },
            { type: 'hardlink', path: 'rootfs/shadow', target: 'rootfs/h/shadow' },
          ]),
        /through the symlink "rootfs\/h"/,
      ],
      [
        'a relative symlink climbing out',
        () => unified([{ type: 'symlink', path: 'rootfs/up', target: '../../../etc' }]),
        /symlink pointing outside/,
      ],
      ['no rootfs', () => writeTar([file('metadata.yaml', META)], 1), /no rootfs\/ directory/],
      [
        'a rootfs that is a symlink to the host root',
        () => writeTar([file('metadata.yaml', META), { type: 'symlink', path: 'rootfs', target: '/' }], 1),
        /no rootfs\/ directory/,
      ],
      [
        'a rootfs directory later replaced by a symlink',
        () => unified([{ type: 'symlink', path: 'rootfs', target: '/' }]),
        /replaces an earlier directory with a symlink/,
      ],
      ['garbage', () => Buffer.from('this is not a tarball at all'.repeat(40)), /not a tarball/],
      ['a truncated tarball', () => unified().subarray(0, 1024 + 100), /truncated/],
      ['malformed YAML', () => unified([], 'architecture: [x86_64\n'), /Invalid metadata\.yaml/],
    ];
    for (const [what, make, message] of bad) {
      it(`rejects ${what} with INVALID_ARGUMENT`, async () => {
        await assert.rejects(store.importUnified(Readable.from([make()]), {}, sig()), (err: unknown) => {
          assert.ok(isShoalError(err, ErrorCode.InvalidArgument), String(err));
          assert.match(err.message, message);
          return true;
        });
        assert.deepEqual(await storeFiles(), []);
      });
    }

    it('keeps nothing of an upload that fails midway', async () => {
      const tar = busybox.tarball;
      const broken = new Readable({
        read() {
          this.push(tar.subarray(0, 65536));
          this.destroy(new Error('connection reset'));
        },
      });
      await assert.rejects(store.importUnified(broken, {}, sig()), /connection reset/);
      assert.deepEqual(await storeFiles(), []);
    });

    it('rejects a split image whose rootfs is neither squashfs nor a tarball', async () => {
      const meta = writeTar([file('metadata.yaml', META)], 1);
      await assert.rejects(
        store.importSplit(Readable.from([meta]), Readable.from([Buffer.alloc(4096, 7)]), {}, sig()),
        code(ErrorCode.InvalidArgument),
      );
      assert.deepEqual(await storeFiles(), []);
    });

    it('sweeps what a crash left on open and never lists it', async () => {
      const fp = 'ab'.repeat(32);
      await writeFile(join(base, 'images/.tmp/upload-dead'), 'partial');
      await writeFile(join(base, `images/${fp}.json`), '{}');
      await writeFile(join(base, `images/${fp}.rootfs`), 'x');
      assert.deepEqual(await store.list(), []);
      assert.equal(await store.has(fp), false);
      await FsImageStore.open(join(base, 'images'), silentLogger());
      assert.deepEqual(await storeFiles(), []);
    });
  });

  describe('FsImageStore queries', () => {
    it('lists, gets, resolves prefixes and deletes', async () => {
      const infos = [];
      const byFirst = new Map<string, string[]>();
      // Import small images until two share a first hex digit (an ambiguous prefix).
      for (let i = 0; ; i++) {
        const info = await store.importUnified(Readable.from([unified([file('rootfs/n', String(i))])]), {}, sig());
        infos.push(info);
        const k = info.fingerprint[0] as string;
        byFirst.set(k, [...(byFirst.get(k) ?? []), info.fingerprint]);
        if ((byFirst.get(k) ?? []).length > 1) break;
      }
      const [shared] = [...byFirst.entries()].find(([, v]) => v.length > 1) as [string, string[]];
      assert.deepEqual(
        (await store.list()).map((i) => i.fingerprint),
        infos.map((i) => i.fingerprint).sort(),
      );
      const one = infos[0]!;
      assert.deepEqual(await store.get(one.fingerprint.toUpperCase()), one);
      assert.equal(await store.resolve(one.fingerprint.slice(0, 12)), one.fingerprint);
      await assert.rejects(store.resolve(shared), code(ErrorCode.InvalidArgument));
      await assert.rejects(store.resolve('zz'), code(ErrorCode.InvalidArgument));
      const missing = [...'0123456789abcdef'].find((c) => !byFirst.has(c));
      if (missing !== undefined) await assert.rejects(store.resolve(missing), code(ErrorCode.NotFound));
      await store.delete(one.fingerprint);
      await store.delete(one.fingerprint);
      assert.equal(await store.has(one.fingerprint), false);
      await assert.rejects(store.get(one.fingerprint), code(ErrorCode.NotFound));
      await assert.rejects(store.resolve(one.fingerprint), code(ErrorCode.NotFound));
    });

    it('streams parts in chunks from any offset', async () => {
      const info = await store.importUnified(Readable.from([busybox.tarball]), {}, sig());
      const read = async (offset: number, chunk: number): Promise<Buffer[]> => {
        const out: Buffer[] = [];
        for await (const b of store.open(info.fingerprint, 'metadata', offset, chunk)) out.push(b as Buffer);
        return out;
      };
      assert.equal(await store.partSize(info.fingerprint, 'metadata'), busybox.tarball.length);
      const whole = await read(0, 100_000);
      assert.ok(whole.every((b) => b.length <= 100_000));
      assert.equal(whole.length, Math.ceil(busybox.tarball.length / 100_000));
      assert.ok(Buffer.concat(whole).equals(busybox.tarball));
      const tail = await read(1_000_001, 4096);
      assert.ok(Buffer.concat(tail).equals(busybox.tarball.subarray(1_000_001)));
      assert.deepEqual(await read(busybox.tarball.length, 10), []);
      await assert.rejects(read(busybox.tarball.length + 1, 10), code(ErrorCode.InvalidArgument));
      await assert.rejects(store.partSize(info.fingerprint, 'rootfs'), code(ErrorCode.InvalidArgument));
      await assert.rejects(store.open('f'.repeat(64), 'metadata', 0, 1).toArray(), code(ErrorCode.NotFound));
    });
  });

  describe('FsImageStore unpack', () => {
    it('keeps numeric owners, modes, setuid bits, xattrs and symlinks', async () => {
      const tree = join(base, 'src');
      await mkdir(join(tree, 'rootfs/usr/bin'), { recursive: true });
      await writeFile(join(tree, 'metadata.yaml'), META);
      await writeFile(join(tree, 'rootfs/usr/bin/su'), 'su');
      await run('chown', ['1234:5678', join(tree, 'rootfs/usr/bin/su')]);
      await run('chmod', ['4750', join(tree, 'rootfs/usr/bin/su')]);
      await run('setfattr', ['-n', 'user.shoal', '-v', 'kept', join(tree, 'rootfs/usr/bin/su')]);
      await run('ln', ['-s', '/usr/bin/su', join(tree, 'rootfs/su')]);
      const tarPath = join(base, 'img.tar');
      await run('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-C', tree, '-cf', tarPath, '.']);
      const info = await store.importUnified(Readable.from([await readFile(tarPath)]), {}, sig());
      const target = join(base, 'unpacked');
      await store.unpack(info.fingerprint, target, sig());
      const st = await stat(join(target, 'rootfs/usr/bin/su'));
      assert.deepEqual({ uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 }, { uid: 1234, gid: 5678, mode: 0o4750 });
      const attr = await run('getfattr', ['--only-values', '-n', 'user.shoal', join(target, 'rootfs/usr/bin/su')]);
      assert.equal(attr.stdout, 'kept');
      assert.equal(await readlink(join(target, 'rootfs/su')), '/usr/bin/su');
    });

    it('unpacks the busybox image with its applets and init files', async () => {
      const info = await store.importUnified(Readable.from([busybox.tarball]), {}, sig());
      const target = join(base, 'unpacked');
      const t0 = performance.now();
      await store.unpack(info.fingerprint, target, sig());
      console.log(`      busybox unpack: ${(performance.now() - t0).toFixed(1)} ms`);
      assert.deepEqual((await readdir(target)).sort(), ['metadata.yaml', 'rootfs', 'templates']);
      const bb = await stat(join(target, 'rootfs/bin/busybox'));
      assert.equal(bb.mode & 0o7777, 0o755);
      assert.ok(bb.nlink > 200, `busybox has ${bb.nlink} links`);
      for (const applet of ['bin/sh', 'sbin/init', 'sbin/udhcpc', 'usr/bin/awk', 'sbin/ip']) {
        assert.equal((await stat(join(target, 'rootfs', applet))).ino, bb.ino, applet);
      }
      assert.equal(await readlink(join(target, 'rootfs/var/run')), '../run');
      assert.equal((await stat(join(target, 'rootfs/tmp'))).mode & 0o7777, 0o1777);
      assert.equal((await stat(join(target, 'rootfs/root'))).mode & 0o7777, 0o700);
      assert.match(await readFile(join(target, 'rootfs/etc/inittab'), 'utf8'), /::sysinit:\/etc\/init\.d\/rcS/);
      assert.ok((await lstat(join(target, 'rootfs/dev'))).isDirectory());
      assert.deepEqual((await readdir(join(target, 'templates'))).sort(), ['hostname.tpl', 'hosts.tpl']);
    });

    it('refuses a non-empty target and cleans up after a failed unpack', async () => {
      const info = await store.importUnified(Readable.from([unified()]), {}, sig());
      const target = join(base, 'busy');
      await mkdir(target);
      await writeFile(join(target, 'x'), 'x');
      await assert.rejects(store.unpack(info.fingerprint, target, sig()), code(ErrorCode.FailedPrecondition));
      const ac = new AbortController();
      ac.abort();
      const fresh = join(base, 'fresh');
      await assert.rejects(store.unpack(info.fingerprint, fresh, ac.signal), code(ErrorCode.Cancelled));
      await assert.rejects(stat(fresh), /ENOENT/);
    });
  });

  describe('buildBusyboxImage', () => {
    it('is deterministic for the same busybox binary', async () => {
      const again = await buildBusyboxImage({}, sig());
      assert.equal(again.fingerprint, busybox.fingerprint);
      const gz1 = await buildBusyboxImage({ compression: 'gzip' }, sig());
      const gz2 = await buildBusyboxImage({ compression: 'gzip' }, sig());
      assert.equal(gz1.fingerprint, gz2.fingerprint);
      assert.ok(gz1.tarball.length < busybox.tarball.length);
    });
  });
});
