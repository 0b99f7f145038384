// Covers src/node-agent/drivers/storage/dir.ts on the real host filesystem: the shared StorageDriver
// contract, then dir specifics (pools lent through `source`, config validation, no quotas) and the
// busybox image path the agent benchmark uses (unpack once, then cp -a per instance), timed.
import { strict as assert } from 'node:assert';
import { lstat, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buildBusyboxImage } from '../../../src/node-agent/images/busybox.js';
import { FsImageStore } from '../../../src/node-agent/images/fs-image-store.js';
import { ErrorCode, isShoalError, silentLogger } from '../../../src/shared/index.js';
import { makeDirPool } from '../../support/storage-pools.js';
import { CleanupStack } from '../../support/storage-cleanup.js';
import { describeStorageDriverContract } from '../../support/storage-driver-contract.js';

const sig = (): AbortSignal => AbortSignal.timeout(60_000);
const invalid = (err: unknown): boolean => isShoalError(err, ErrorCode.InvalidArgument);

describe('src/node-agent/drivers/storage/dir', () => {
  describeStorageDriverContract('dir', (cleanup) => makeDirPool(cleanup));

  describe('DirStorageDriver', () => {
    const cleanup = new CleanupStack();
    afterEach(() => cleanup.run());

    it('validates pool config', async () => {
      const { driver } = await makeDirPool(cleanup);
      assert.throws(() => driver.validatePool({ size: '5GiB' }), invalid);
      assert.throws(() => driver.validatePool({ 'btrfs.mount_options': 'x' }), invalid);
      assert.throws(() => driver.validatePool({ source: 'relative/dir' }), invalid);
      driver.validatePool({ source: '/srv/pool', 'user.note': 'ok' });
    });

    it('uses an existing directory lent as source and leaves it on delete', async () => {
      const lent = join(await cleanup.tempDir('lent'), 'data');
      await mkdir(lent);
      const { driver, pool, paths } = await makeDirPool(cleanup, { source: lent });
      assert.equal(pool.config['source'], lent);
      assert.ok((await lstat(join(paths.storagePools, pool.name))).isSymbolicLink());
      await driver.createVolume(pool, { type: 'custom', name: 'd' }, {}, sig());
      assert.ok((await stat(join(lent, 'custom/d'))).isDirectory());
      await driver.mountPool(pool, sig());
      await driver.deletePool(pool, sig());
      assert.deepEqual(await readdir(lent), []);
      await assert.rejects(lstat(join(paths.storagePools, pool.name)), /ENOENT/);
    });

    it('refuses quotas instead of ignoring them', async () => {
      const { driver, pool } = await makeDirPool(cleanup);
      const c1 = { type: 'container', name: 'c1' } as const;
      await assert.rejects(driver.createVolume(pool, c1, { sizeBytes: 1 << 30 }, sig()), invalid);
      await driver.createVolume(pool, c1, {}, sig());
      await assert.rejects(driver.setVolumeQuota(pool, c1, 1 << 30, sig()), invalid);
      await driver.setVolumeQuota(pool, c1, undefined, sig());
    });

    it('refuses to mount a pool whose directory is gone', async () => {
      const { driver, pool } = await makeDirPool(cleanup);
      await driver.deletePool(pool, sig());
      await assert.rejects(driver.mountPool(pool, sig()), (err: unknown) => isShoalError(err, ErrorCode.FailedPrecondition));
    });

    it('unpacks the busybox image once and copies it per instance (timed)', async () => {
      const { driver, pool, paths } = await makeDirPool(cleanup);
      const store = await FsImageStore.open(paths.images, silentLogger());
      const img = await buildBusyboxImage({}, sig());
      await store.importUnified(Readable.from([img.tarball]), {}, sig());
      let t = performance.now();
      await driver.ensureImageVolume(pool, img.fingerprint, (dir, s) => store.unpack(img.fingerprint, dir, s), sig());
      const unpackMs = performance.now() - t;
      const copies: number[] = [];
      for (let i = 0; i < 5; i++) {
        t = performance.now();
        await driver.createVolumeFromImage(pool, { type: 'container', name: `bb${i}` }, img.fingerprint, {}, sig());
        copies.push(performance.now() - t);
      }
      copies.sort((a, b) => a - b);
      console.log(`      dir: busybox image volume ${unpackMs.toFixed(1)} ms, volume from image median ${copies[2]?.toFixed(1)} ms`);
      const root = join(driver.volumePath(pool, { type: 'container', name: 'bb0' }), 'rootfs');
      assert.match(await readFile(join(root, 'etc/inittab'), 'utf8'), /sysinit/);
      assert.equal((await stat(join(root, 'bin/busybox'))).size, (await stat('/bin/busybox')).size);
    });
  });
});
