/**
 * The shared StorageDriver contract: every real driver (dir, btrfs, later lvm/zfs) must pass it.
 * It covers pool idempotency, image volumes unpacked once, volumes from images (contents, owners,
 * independence), all-or-nothing creation (failing unpacker, unsupported quota, abort at random
 * points), copy, rename, delete, snapshots (frozen content, restore, rename, delete), usage
 * figures and name validation. `makePool` builds a created, mounted pool and registers its cleanup.
 */
import { strict as assert } from 'node:assert';
import { afterEach, beforeEach, describe, it } from 'mocha';
import { chmod, chown, lstat, mkdir, readFile, readlink, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listTempEntries, poolMountPath } from '../../src/node-agent/drivers/storage/common.js';
import type { ImageUnpacker, StorageDriver } from '../../src/node-agent/drivers/storage-driver.js';
import type { AgentPaths, PoolSpec, VolumeRef } from '../../src/node-agent/types.js';
import { ErrorCode, isShoalError } from '../../src/shared/index.js';
import { CleanupStack } from './storage-cleanup.js';

export interface StorageContractFixture {
  readonly driver: StorageDriver;
  /** A pool already created and mounted by `makePool`. */
  readonly pool: PoolSpec;
  readonly paths: AgentPaths;
}

export type MakePool = (cleanup: CleanupStack) => Promise<StorageContractFixture>;

export const FP = 'a'.repeat(64);
const sig = (): AbortSignal => AbortSignal.timeout(60_000);
const code = (c: ErrorCode) => (err: unknown) => isShoalError(err, c);

/** An unpacker writing a small image tree (owners, modes, a symlink); counts its calls. */
export function fakeImageUnpacker(files = 3): { unpack: ImageUnpacker; calls: () => number } {
  let calls = 0;
  return {
    calls: () => calls,
    unpack: async (dir) => {
      calls++;
      await writeFile(join(dir, 'metadata.yaml'), 'architecture: x86_64\n');
      await mkdir(join(dir, 'templates'));
      await mkdir(join(dir, 'rootfs/etc'), { recursive: true });
      await mkdir(join(dir, 'rootfs/bin'));
      await writeFile(join(dir, 'rootfs/etc/hostname'), 'image\n');
      await writeFile(join(dir, 'rootfs/bin/su'), 'su');
      await chown(join(dir, 'rootfs/bin/su'), 1000, 1001);
      await chmod(join(dir, 'rootfs/bin/su'), 0o4755); // after chown, which clears set-id bits
      await symlink('/bin/su', join(dir, 'rootfs/bin/sudo'));
      for (let i = 0; i < files; i++) await writeFile(join(dir, `rootfs/etc/f${i}`), `file ${i}\n`.repeat(100));
    },
  };
}

export function describeStorageDriverContract(name: string, makePool: MakePool): void {
  describe(`StorageDriver contract: ${name}`, () => {
    const cleanup = new CleanupStack();
    let f: StorageContractFixture;
    const c1: VolumeRef = { type: 'container', name: 'c1' };
    const vol = (v: VolumeRef): string => f.driver.volumePath(f.pool, v);
    const withImage = async (): Promise<void> => f.driver.ensureImageVolume(f.pool, FP, fakeImageUnpacker().unpack, sig());
    const noTemp = async (): Promise<void> =>
      assert.deepEqual(await listTempEntries(poolMountPath(f.paths.storagePools, f.pool)), []);

    beforeEach(async () => {
      f = await makePool(cleanup);
    });
    afterEach(() => cleanup.run());

    it('creates and mounts a pool idempotently', async () => {
      const again = await f.driver.createPool(f.pool, sig());
      assert.deepEqual(await f.driver.createPool({ ...f.pool, config: again }, sig()), again);
      await f.driver.mountPool(f.pool, sig());
      await f.driver.mountPool(f.pool, sig());
      const root = poolMountPath(f.paths.storagePools, f.pool);
      for (const d of ['containers', 'containers-snapshots', 'images', 'custom', 'custom-snapshots']) {
        assert.ok((await stat(join(root, d))).isDirectory(), d);
      }
    });

    it('unpacks an image volume once, even when asked concurrently', async () => {
      const u = fakeImageUnpacker();
      await Promise.all([1, 2, 3].map(() => f.driver.ensureImageVolume(f.pool, FP, u.unpack, sig())));
      await f.driver.ensureImageVolume(f.pool, FP, u.unpack, sig());
      assert.equal(u.calls(), 1);
      const img = vol({ type: 'image', name: FP });
      assert.equal(await readFile(join(img, 'rootfs/etc/hostname'), 'utf8'), 'image\n');
      await noTemp();
    });

    it('leaves nothing when unpacking fails halfway', async () => {
      const failing: ImageUnpacker = async (dir, s) => {
        await fakeImageUnpacker().unpack(dir, s);
        throw new Error('disk on fire');
      };
      await assert.rejects(f.driver.ensureImageVolume(f.pool, FP, failing, sig()), /disk on fire/);
      assert.equal(await exists(vol({ type: 'image', name: FP })), false);
      await noTemp();
    });

    it('creates a volume from the image with contents, owners and modes, independent of it', async () => {
      await withImage();
      await f.driver.createVolumeFromImage(f.pool, c1, FP, {}, sig());
      await f.driver.createVolumeFromImage(f.pool, c1, FP, {}, sig());
      const root = join(vol(c1), 'rootfs');
      const su = await stat(join(root, 'bin/su'));
      assert.deepEqual([su.uid, su.gid, su.mode & 0o7777], [1000, 1001, 0o4755]);
      assert.equal(await readlink(join(root, 'bin/sudo')), '/bin/su');
      assert.equal(await readFile(join(vol(c1), 'metadata.yaml'), 'utf8'), 'architecture: x86_64\n');
      await writeFile(join(root, 'etc/hostname'), 'c1\n');
      assert.equal(await readFile(join(vol({ type: 'image', name: FP }), 'rootfs/etc/hostname'), 'utf8'), 'image\n');
      await noTemp();
    });

    it('refuses a volume from a missing image volume', async () => {
      await assert.rejects(f.driver.createVolumeFromImage(f.pool, c1, FP, {}, sig()), code(ErrorCode.FailedPrecondition));
      assert.equal(await exists(vol(c1)), false);
    });

    it('leaves nothing behind when the quota cannot be honoured', async () => {
      await withImage();
      await assert.rejects(
        f.driver.createVolumeFromImage(f.pool, c1, FP, { sizeBytes: 4096 }, sig()),
        code(ErrorCode.InvalidArgument),
      );
      assert.equal(await exists(vol(c1)), false);
      await noTemp();
    });

    it('is all-or-nothing when aborted at any point', async () => {
      await f.driver.ensureImageVolume(f.pool, FP, fakeImageUnpacker(300).unpack, sig());
      for (const [i, delayMs] of [0, 1, 3, 10, 30].entries()) {
        const v: VolumeRef = { type: 'container', name: `abort${i}` };
        const ac = new AbortController();
        const timer = setTimeout(() => ac.abort(), delayMs);
        const outcome = await f.driver.createVolumeFromImage(f.pool, v, FP, {}, ac.signal).then(
          () => 'done',
          (err: unknown) => {
            assert.ok(isShoalError(err, ErrorCode.Cancelled), String(err));
            return 'cancelled';
          },
        );
        clearTimeout(timer);
        if (outcome === 'done') assert.equal((await readdir(join(vol(v), 'rootfs/etc'))).length, 301);
        else assert.equal(await exists(vol(v)), false);
        await noTemp();
      }
    });

    it('creates empty container and custom volumes', async () => {
      await f.driver.createVolume(f.pool, c1, {}, sig());
      await f.driver.createVolume(f.pool, { type: 'custom', name: 'data' }, {}, sig());
      assert.deepEqual(await readdir(vol(c1)), ['rootfs']);
      assert.deepEqual(await readdir(vol({ type: 'custom', name: 'data' })), []);
    });

    it('copies, renames (with snapshots) and deletes volumes idempotently', async () => {
      await withImage();
      await f.driver.createVolumeFromImage(f.pool, c1, FP, {}, sig());
      await writeFile(join(vol(c1), 'rootfs/etc/hostname'), 'c1\n');
      const c2: VolumeRef = { type: 'container', name: 'c2' };
      await f.driver.copyVolume(f.pool, c1, c2, sig());
      await f.driver.copyVolume(f.pool, c1, c2, sig());
      assert.equal(await readFile(join(vol(c2), 'rootfs/etc/hostname'), 'utf8'), 'c1\n');
      await f.driver.createSnapshot(f.pool, c2, 'snap0', sig());
      await assert.rejects(f.driver.renameVolume(f.pool, c2, 'c1', sig()), code(ErrorCode.AlreadyExists));
      await f.driver.renameVolume(f.pool, c2, 'c3', sig());
      await f.driver.renameVolume(f.pool, c2, 'c3', sig());
      const c3: VolumeRef = { type: 'container', name: 'c3' };
      assert.deepEqual(await f.driver.listSnapshots(f.pool, c3, sig()), ['snap0']);
      assert.equal(await exists(vol(c2)), false);
      await f.driver.deleteVolume(f.pool, c3, sig());
      await f.driver.deleteVolume(f.pool, c3, sig());
      assert.equal(await exists(vol(c3)), false);
      await assert.rejects(f.driver.listSnapshots(f.pool, c3, sig()), code(ErrorCode.NotFound));
      await noTemp();
    });

    it('snapshots freeze content; restore brings it back; rename and delete work', async () => {
      await withImage();
      await f.driver.createVolumeFromImage(f.pool, c1, FP, {}, sig());
      const root = join(vol(c1), 'rootfs');
      await writeFile(join(root, 'etc/state'), 'v1\n');
      await f.driver.createSnapshot(f.pool, c1, 'snap0', sig());
      await f.driver.createSnapshot(f.pool, c1, 'snap0', sig());
      await writeFile(join(root, 'etc/state'), 'v2\n');
      await writeFile(join(root, 'etc/later'), 'later\n');
      await f.driver.createSnapshot(f.pool, c1, 'snap1', sig());
      assert.deepEqual(await f.driver.listSnapshots(f.pool, c1, sig()), ['snap0', 'snap1']);
      await f.driver.restoreSnapshot(f.pool, c1, 'snap0', sig());
      assert.equal(await readFile(join(root, 'etc/state'), 'utf8'), 'v1\n');
      assert.equal(await exists(join(root, 'etc/later')), false);
      const su = await stat(join(root, 'bin/su'));
      assert.deepEqual([su.uid, su.mode & 0o7777], [1000, 0o4755]);
      await writeFile(join(root, 'etc/state'), 'v3\n');
      await f.driver.restoreSnapshot(f.pool, c1, 'snap1', sig());
      assert.equal(await readFile(join(root, 'etc/later'), 'utf8'), 'later\n');
      await f.driver.renameSnapshot(f.pool, c1, 'snap1', 'latest', sig());
      await f.driver.renameSnapshot(f.pool, c1, 'snap1', 'latest', sig());
      await assert.rejects(f.driver.restoreSnapshot(f.pool, c1, 'snap1', sig()), code(ErrorCode.NotFound));
      await f.driver.deleteSnapshot(f.pool, c1, 'snap0', sig());
      await f.driver.deleteSnapshot(f.pool, c1, 'snap0', sig());
      assert.deepEqual(await f.driver.listSnapshots(f.pool, c1, sig()), ['latest']);
      await noTemp();
    });

    it('reports volume and pool usage', async () => {
      await f.driver.createVolume(f.pool, c1, {}, sig());
      const before = await f.driver.volumeUsage(f.pool, c1, sig());
      const poolBefore = await f.driver.poolUsage(f.pool, sig());
      await writeFile(join(vol(c1), 'rootfs/blob'), Buffer.alloc(4 * 1024 * 1024, 1));
      const after = await f.driver.volumeUsage(f.pool, c1, sig());
      assert.ok(after.usedBytes >= before.usedBytes + 4 * 1024 * 1024, `${before.usedBytes} -> ${after.usedBytes}`);
      assert.equal(after.quotaBytes, 0);
      assert.ok(poolBefore.totalBytes > 0 && poolBefore.usedBytes > 0 && poolBefore.usedBytes <= poolBefore.totalBytes);
      await assert.rejects(f.driver.volumeUsage(f.pool, { type: 'container', name: 'nope' }, sig()), code(ErrorCode.NotFound));
    });

    it('rejects names that are not one safe path component', async () => {
      for (const bad of ['../escape', '.hidden', 'a/b', '', '..']) {
        await assert.rejects(f.driver.createVolume(f.pool, { type: 'container', name: bad }, {}, sig()), code(ErrorCode.InvalidArgument), bad);
      }
      await f.driver.createVolume(f.pool, c1, {}, sig());
      await assert.rejects(f.driver.createSnapshot(f.pool, c1, '../x', sig()), code(ErrorCode.InvalidArgument));
      assert.throws(() => f.driver.volumePath(f.pool, { type: 'image', name: 'not-a-fingerprint' }), code(ErrorCode.InvalidArgument));
    });

    it('sweeps what an interrupted operation left when the pool is mounted', async () => {
      await f.driver.createVolume(f.pool, c1, {}, sig());
      await f.driver.createSnapshot(f.pool, c1, 's', sig());
      const root = poolMountPath(f.paths.storagePools, f.pool);
      await mkdir(join(root, 'containers/.shoal-tmp-c2-dead/rootfs'), { recursive: true });
      await mkdir(join(root, 'containers-snapshots/c1/.shoal-tmp-s2-dead'));
      await writeFile(join(root, 'images/.shoal-tmp-half'), 'x');
      await f.driver.mountPool(f.pool, sig());
      await noTemp();
      assert.deepEqual(await f.driver.listSnapshots(f.pool, c1, sig()), ['s']);
    });

    it('deletes the pool with everything on it, idempotently', async () => {
      await withImage();
      await f.driver.createVolumeFromImage(f.pool, c1, FP, {}, sig());
      await f.driver.createSnapshot(f.pool, c1, 's', sig());
      await f.driver.deletePool(f.pool, sig());
      await f.driver.deletePool(f.pool, sig());
      assert.equal(await exists(poolMountPath(f.paths.storagePools, f.pool)), false);
    });
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
