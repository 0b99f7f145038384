// Covers src/node-agent/drivers/storage/btrfs.ts on real btrfs filesystems made on small loop
// files in this test's temp dir: the shared StorageDriver contract, then btrfs specifics (read-only
// image subvolumes, quotas that really stop writes, growing a full pool online, remounting after
// a restart, block-device sources, nested subvolumes) and the busybox timings. Every mount and
// loop device under the temp dir is released in afterEach, even when a test fails.
import { strict as assert } from 'node:assert';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { storageDrivers } from '../../../src/node-agent/drivers/registry.js';
import { loopDevicesFor, mountAt } from '../../../src/node-agent/drivers/storage/block.js';
import { run } from '../../../src/node-agent/exec.js';
import { buildBusyboxImage } from '../../../src/node-agent/images/busybox.js';
import { FsImageStore } from '../../../src/node-agent/images/fs-image-store.js';
import { agentPaths, type PoolSpec, type VolumeRef } from '../../../src/node-agent/types.js';
import { ErrorCode, isShoalError, silentLogger } from '../../../src/shared/index.js';
import { makeBtrfsPool } from '../../support/storage-pools.js';
import { CleanupStack, releaseHostObjectsUnder } from '../../support/storage-cleanup.js';
import { describeStorageDriverContract, fakeImageUnpacker, FP } from '../../support/storage-driver-contract.js';

const MiB = 2 ** 20;
const sig = (): AbortSignal => AbortSignal.timeout(120_000);
const code = (c: ErrorCode) => (err: unknown) => isShoalError(err, c);

/** Writes `mib` MiB of zeros with dd (stored as-is: the pool has no compression); resolves to the bytes written and whether dd failed. */
async function fill(path: string, mib: number): Promise<{ ok: boolean; stderr: string; bytes: number }> {
  const r = await run('dd', ['if=/dev/zero', `of=${path}`, 'bs=1M', `count=${mib}`, 'conv=fsync'], { okCodes: [0, 1] });
  return { ok: r.code === 0, stderr: r.stderr, bytes: (await stat(path)).size };
}

const subvolRo = async (path: string): Promise<string> =>
  (await run('btrfs', ['property', 'get', '-ts', path, 'ro'])).stdout.trim();

describe('src/node-agent/drivers/storage/btrfs', () => {
  describeStorageDriverContract('btrfs', (cleanup) => makeBtrfsPool(cleanup));

  describe('BtrfsStorageDriver', () => {
    const cleanup = new CleanupStack();
    afterEach(() => cleanup.run());
    const c1: VolumeRef = { type: 'container', name: 'c1' };

    it('validates pool config', async () => {
      const { driver } = await makeBtrfsPool(cleanup);
      const invalid = code(ErrorCode.InvalidArgument);
      assert.throws(() => driver.validatePool({ 'zfs.pool_name': 'x' }), invalid);
      assert.throws(() => driver.validatePool({ size: '1MiB' }), invalid);
      assert.throws(() => driver.validatePool({ size: 'big' }), invalid);
      assert.throws(() => driver.validatePool({ source: '/dev/sdz', size: '5GiB' }), invalid);
      assert.throws(() => driver.validatePool({ source: 'disk.img' }), invalid);
      driver.validatePool({ size: '5GiB', 'btrfs.mount_options': 'user_subvol_rm_allowed,compress=zstd' });
    });

    it('keeps one read-only image subvolume; volumes are writable snapshots, snapshots read-only', async () => {
      const { driver, pool } = await makeBtrfsPool(cleanup);
      const u = fakeImageUnpacker();
      await driver.ensureImageVolume(pool, FP, u.unpack, sig());
      const img = driver.volumePath(pool, { type: 'image', name: FP });
      assert.equal((await stat(img)).ino, 256);
      assert.equal(await subvolRo(img), 'ro=true');
      await driver.createVolumeFromImage(pool, c1, FP, {}, sig());
      const vol = driver.volumePath(pool, c1);
      assert.equal((await stat(vol)).ino, 256);
      assert.equal(await subvolRo(vol), 'ro=false');
      await driver.createSnapshot(pool, c1, 's0', sig());
      assert.equal(await subvolRo(join(driver.volumePath(pool, c1).replace('/containers/', '/containers-snapshots/'), 's0')), 'ro=true');
      assert.equal(u.calls(), 1);
    });

    it('enforces the root disk size as a quota that stops writes', async () => {
      const { driver, pool } = await makeBtrfsPool(cleanup);
      await driver.ensureImageVolume(pool, FP, fakeImageUnpacker().unpack, sig());
      await driver.createVolumeFromImage(pool, c1, FP, { sizeBytes: 16 * MiB }, sig());
      assert.equal((await driver.volumeUsage(pool, c1, sig())).quotaBytes, 16 * MiB);
      const big = join(driver.volumePath(pool, c1), 'rootfs/big');
      const r = await fill(big, 64);
      assert.equal(r.ok, false, 'dd past the quota fails');
      assert.match(r.stderr, /Disk quota exceeded/);
      assert.ok(r.bytes <= 16 * MiB, `wrote ${r.bytes} bytes`);
      await driver.setVolumeQuota(pool, c1, 128 * MiB, sig());
      assert.equal((await fill(join(driver.volumePath(pool, c1), 'rootfs/more'), 32)).ok, true);
      await driver.setVolumeQuota(pool, c1, undefined, sig());
      assert.equal((await driver.volumeUsage(pool, c1, sig())).quotaBytes, 0);
      // A restore keeps the volume's quota.
      await driver.setVolumeQuota(pool, c1, 100 * MiB, sig());
      await driver.createSnapshot(pool, c1, 's', sig());
      await driver.restoreSnapshot(pool, c1, 's', sig());
      assert.equal((await driver.volumeUsage(pool, c1, sig())).quotaBytes, 100 * MiB);
    });

    it('grows a full loop-backed pool online when its size is raised', async () => {
      const { driver, pool } = await makeBtrfsPool(cleanup, { size: '288MiB' });
      await driver.createVolume(pool, c1, {}, sig());
      const root = join(driver.volumePath(pool, c1), 'rootfs');
      const before = await driver.poolUsage(pool, sig());
      const full = await fill(join(root, 'fill1'), 512);
      assert.equal(full.ok, false, 'the pool fills up');
      assert.match(full.stderr, /No space left on device/);
      await driver.updatePool(pool, { size: '512MiB' }, sig());
      const after = await driver.poolUsage(pool, sig());
      assert.equal(after.totalBytes, 512 * MiB);
      assert.ok(after.totalBytes > before.totalBytes);
      assert.equal((await fill(join(root, 'fill2'), 128)).ok, true, 'writes succeed after growing');
      await assert.rejects(driver.updatePool(pool, { size: '300MiB' }, sig()), code(ErrorCode.InvalidArgument));
    });

    it('remounts after a restart with its contents, and unmounting releases the loop device', async () => {
      const { driver, pool, paths } = await makeBtrfsPool(cleanup);
      const file = driver.loopFilePath(pool);
      const mnt = join(paths.storagePools, pool.name);
      await driver.createVolume(pool, c1, {}, sig());
      await writeFile(join(driver.volumePath(pool, c1), 'rootfs/keep'), 'kept');
      assert.equal((await loopDevicesFor(file, sig())).length, 1);
      await driver.unmountPool(pool, sig());
      await driver.unmountPool(pool, sig());
      assert.equal(await mountAt(mnt), undefined);
      assert.deepEqual(await loopDevicesFor(file, sig()), []);
      await driver.mountPool(pool, sig());
      await driver.mountPool(pool, sig());
      assert.equal((await mountAt(mnt))?.fsType, 'btrfs');
      assert.equal((await stat(join(driver.volumePath(pool, c1), 'rootfs/keep'))).size, 4);
      await driver.deletePool(pool, sig());
      assert.deepEqual(await loopDevicesFor(file, sig()), []);
      await assert.rejects(stat(file), /ENOENT/);
    });

    it('uses a blank block device and refuses one holding another filesystem', async () => {
      const state = await cleanup.tempDir('btrfs-dev');
      cleanup.add('host objects', async () => void (await releaseHostObjectsUnder(state)));
      const disk = join(state, 'disk.img');
      await run('truncate', ['-s', '400M', disk]);
      const dev = (await run('losetup', ['--find', '--show', disk])).stdout.trim();
      cleanup.add(`loop ${dev}`, async () => {
        if ((await loopDevicesFor(disk, AbortSignal.timeout(10_000))).includes(dev)) await run('losetup', ['--detach', dev]);
      });
      const paths = agentPaths(join(state, 'agent'));
      const driver = storageDrivers['btrfs']!({ paths, log: silentLogger() });
      const pool: PoolSpec = { name: 'sst-dev', driver: 'btrfs', config: { source: dev } };
      cleanup.add('device pool', () => driver.deletePool(pool, AbortSignal.timeout(60_000)));
      await run('mkfs.ext4', ['-q', dev]);
      await assert.rejects(driver.createPool(pool, sig()), code(ErrorCode.FailedPrecondition));
      await run('wipefs', ['--all', '--quiet', dev]);
      const effective = await driver.createPool(pool, sig());
      assert.equal(effective['source'], dev);
      await driver.createPool(pool, sig());
      await driver.createVolume(pool, c1, {}, sig());
      await driver.unmountPool(pool, sig());
      await driver.createPool(pool, sig()); // adopts its own filesystem
      assert.ok((await stat(driver.volumePath(pool, c1))).isDirectory());
      await assert.rejects(driver.updatePool(pool, { size: '1GiB' }, sig()), code(ErrorCode.InvalidArgument));
      await driver.deletePool(pool, sig());
      assert.equal((await run('blkid', ['--probe', dev], { okCodes: [0, 2] })).code, 2, 'device wiped');
    });

    it('deletes volumes holding nested subvolumes', async () => {
      const { driver, pool } = await makeBtrfsPool(cleanup);
      await driver.createVolume(pool, c1, {}, sig());
      const root = join(driver.volumePath(pool, c1), 'rootfs');
      await run('btrfs', ['subvolume', 'create', join(root, 'nested')]);
      await run('btrfs', ['subvolume', 'create', join(root, 'nested/deeper')]);
      await driver.deleteVolume(pool, c1, sig());
      await assert.rejects(stat(driver.volumePath(pool, c1)), /ENOENT/);
    });

    it('unpacks the busybox image once and snapshots it per instance (timed)', async () => {
      const { driver, pool, paths } = await makeBtrfsPool(cleanup);
      const store = await FsImageStore.open(paths.images, silentLogger());
      const img = await buildBusyboxImage({}, sig());
      await store.importUnified(Readable.from([img.tarball]), {}, sig());
      let t = performance.now();
      await driver.ensureImageVolume(pool, img.fingerprint, (dir, s) => store.unpack(img.fingerprint, dir, s), sig());
      const unpackMs = performance.now() - t;
      const snaps: number[] = [];
      for (let i = 0; i < 5; i++) {
        t = performance.now();
        await driver.createVolumeFromImage(pool, { type: 'container', name: `bb${i}` }, img.fingerprint, {}, sig());
        snaps.push(performance.now() - t);
      }
      snaps.sort((a, b) => a - b);
      console.log(`      btrfs: busybox image volume ${unpackMs.toFixed(1)} ms, volume from image (snapshot) median ${snaps[2]?.toFixed(1)} ms`);
      assert.equal((await stat(join(driver.volumePath(pool, { type: 'container', name: 'bb0' }), 'rootfs/bin/busybox'))).size, (await stat('/bin/busybox')).size);
    });
  });
});
