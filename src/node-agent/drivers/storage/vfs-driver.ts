/**
 * Volume and snapshot flows shared by drivers whose volumes are directories in a mounted pool
 * (incus `generic_vfs.go`): dir and btrfs. A subclass supplies the pool lifecycle and five
 * primitives (empty volume, clone, remove, quota, usage); this class does the rest the same way
 * for both: per-volume locking, idempotency, temp names renamed into place (so a crash never
 * leaves a half volume under its real name), and a Reverter around every multi-step change.
 */
import { mkdir, rename, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errors, Reverter, type Logger } from '../../../shared/index.js';
import type { ConfigMap, PoolSpec, VolumeRef } from '../../types.js';
import type { DriverContext } from '../registry.js';
import type { ImageUnpacker, PoolUsage, StorageDriver } from '../storage-driver.js';
import {
  checkAbort,
  checkSnapshotName,
  checkVolumeRef,
  exists,
  KeyedLock,
  listNames,
  listTempEntries,
  poolMountPath,
  tmpPath,
  VOLUME_DIRS,
} from './common.js';

export abstract class VfsStorageDriver implements StorageDriver {
  abstract readonly name: string;
  protected readonly log: Logger;
  private readonly locks = new KeyedLock();

  constructor(protected readonly ctx: DriverContext) {
    this.log = ctx.log.child({ component: 'storage' });
  }

  abstract validatePool(config: ConfigMap): void;
  abstract createPool(pool: PoolSpec, signal: AbortSignal): Promise<ConfigMap>;
  abstract mountPool(pool: PoolSpec, signal: AbortSignal): Promise<void>;
  abstract unmountPool(pool: PoolSpec, signal: AbortSignal): Promise<void>;
  abstract deletePool(pool: PoolSpec, signal: AbortSignal): Promise<void>;
  abstract updatePool(pool: PoolSpec, changed: ConfigMap, signal: AbortSignal): Promise<void>;
  abstract poolUsage(pool: PoolSpec, signal: AbortSignal): Promise<PoolUsage>;

  /** Creates an empty volume at `path` (directory or subvolume). */
  protected abstract createEmpty(pool: PoolSpec, path: string, signal: AbortSignal): Promise<void>;
  /** Makes `dst` (absent) a copy of `src`: a copy for dir, a (read-only when asked) snapshot for btrfs. */
  protected abstract clone(pool: PoolSpec, src: string, dst: string, readonly: boolean, signal: AbortSignal): Promise<void>;
  /** Removes the volume or snapshot at `path` (which may be a temp entry). Missing → no-op. */
  protected abstract removeTree(pool: PoolSpec, path: string, signal: AbortSignal): Promise<void>;
  /** Sets or (undefined) clears the quota of the volume at `path`; INVALID_ARGUMENT when unsupported. */
  protected abstract applyQuota(pool: PoolSpec, path: string, sizeBytes: number | undefined, signal: AbortSignal): Promise<void>;
  /** Used bytes and quota (0 = none) of the volume at `path`. */
  protected abstract usageOf(pool: PoolSpec, path: string, signal: AbortSignal): Promise<{ usedBytes: number; quotaBytes: number }>;
  /** The quota (0 = none) of the volume at `path`; cheaper than usageOf when only the quota matters. */
  protected async quotaOf(pool: PoolSpec, path: string, signal: AbortSignal): Promise<number> {
    return (await this.usageOf(pool, path, signal)).quotaBytes;
  }
  /** Rejects a quota the driver cannot enforce before any work starts (pure). */
  protected abstract checkQuota(sizeBytes: number | undefined): void;
  /** Seals a freshly unpacked image volume (btrfs: read-only). */
  protected async sealImageVolume(_pool: PoolSpec, _path: string, _signal: AbortSignal): Promise<void> {}

  volumePath(pool: PoolSpec, volume: VolumeRef): string {
    checkVolumeRef(volume);
    return join(poolMountPath(this.ctx.paths.storagePools, pool), VOLUME_DIRS[volume.type].dir, volume.name);
  }

  /** Directory holding the volume's snapshots. */
  protected snapshotsDir(pool: PoolSpec, volume: VolumeRef): string {
    checkVolumeRef(volume);
    const dir = VOLUME_DIRS[volume.type].snapshots;
    if (!dir) throw errors.invalid(`Volumes of type "${volume.type}" have no snapshots`);
    return join(poolMountPath(this.ctx.paths.storagePools, pool), dir, volume.name);
  }

  protected snapshotPath(pool: PoolSpec, volume: VolumeRef, snapshot: string): string {
    checkSnapshotName(snapshot);
    return join(this.snapshotsDir(pool, volume), snapshot);
  }

  private lock<T>(pool: PoolSpec, volume: VolumeRef, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(`${pool.name}/${volume.type}/${volume.name}`, fn);
  }

  /** Removes temp entries a crash left in the pool (call from mountPool). */
  protected async sweepTemp(pool: PoolSpec, signal: AbortSignal): Promise<void> {
    for (const path of await listTempEntries(poolMountPath(this.ctx.paths.storagePools, pool))) {
      this.log.warn({ pool: pool.name, path }, 'removing leftover of an interrupted volume operation');
      await this.removeTree(pool, path, signal);
    }
  }

  async ensureImageVolume(pool: PoolSpec, fingerprint: string, unpack: ImageUnpacker, signal: AbortSignal): Promise<void> {
    const volume: VolumeRef = { type: 'image', name: fingerprint };
    const target = this.volumePath(pool, volume);
    await this.lock(pool, volume, async () => {
      if (await exists(target)) return;
      checkAbort(signal, `Unpacking image "${fingerprint}"`);
      const start = performance.now();
      const tmp = tmpPath(dirname(target), fingerprint);
      await this.withReverter(async (r) => {
        r.add(`temporary image volume ${tmp}`, () => this.removeTree(pool, tmp, AbortSignal.timeout(60_000)));
        await this.createEmpty(pool, tmp, signal);
        await unpack(tmp, signal);
        await this.sealImageVolume(pool, tmp, signal);
        await rename(tmp, target);
      });
      this.log.info({ pool: pool.name, fingerprint, durationMs: Math.round(performance.now() - start) }, 'image volume created');
    });
  }

  async createVolumeFromImage(
    pool: PoolSpec,
    volume: VolumeRef,
    fingerprint: string,
    options: { readonly sizeBytes?: number },
    signal: AbortSignal,
  ): Promise<void> {
    this.checkQuota(options.sizeBytes);
    const target = this.volumePath(pool, volume);
    const image = this.volumePath(pool, { type: 'image', name: fingerprint });
    await this.lock(pool, volume, async () => {
      if (await exists(target)) {
        // A retried call: the volume is there; make sure the quota is too.
        if (options.sizeBytes !== undefined) await this.applyQuota(pool, target, options.sizeBytes, signal);
        return;
      }
      if (!(await exists(image))) {
        throw errors.precondition(`Image volume "${fingerprint}" does not exist on storage pool "${pool.name}"`);
      }
      checkAbort(signal, `Creating volume "${volume.name}"`);
      const tmp = tmpPath(dirname(target), volume.name);
      await this.withReverter(async (r) => {
        r.add(`temporary volume ${tmp}`, () => this.removeTree(pool, tmp, AbortSignal.timeout(60_000)));
        await this.clone(pool, image, tmp, false, signal);
        if (options.sizeBytes !== undefined) await this.applyQuota(pool, tmp, options.sizeBytes, signal);
        await rename(tmp, target);
      });
    });
  }

  async createVolume(pool: PoolSpec, volume: VolumeRef, options: { readonly sizeBytes?: number }, signal: AbortSignal): Promise<void> {
    this.checkQuota(options.sizeBytes);
    const target = this.volumePath(pool, volume);
    await this.lock(pool, volume, async () => {
      if (await exists(target)) {
        if (options.sizeBytes !== undefined) await this.applyQuota(pool, target, options.sizeBytes, signal);
        return;
      }
      const tmp = tmpPath(dirname(target), volume.name);
      await this.withReverter(async (r) => {
        r.add(`temporary volume ${tmp}`, () => this.removeTree(pool, tmp, AbortSignal.timeout(60_000)));
        await this.createEmpty(pool, tmp, signal);
        if (volume.type === 'container') await mkdir(join(tmp, 'rootfs'), { mode: 0o755 });
        if (options.sizeBytes !== undefined) await this.applyQuota(pool, tmp, options.sizeBytes, signal);
        await rename(tmp, target);
      });
    });
  }

  async copyVolume(pool: PoolSpec, source: VolumeRef, target: VolumeRef, signal: AbortSignal): Promise<void> {
    const src = this.volumePath(pool, source);
    const dst = this.volumePath(pool, target);
    await this.lock(pool, target, async () => {
      if (await exists(dst)) return;
      if (!(await exists(src))) throw errors.notFound(`Volume "${source.name}" not found on storage pool "${pool.name}"`);
      const tmp = tmpPath(dirname(dst), target.name);
      await this.withReverter(async (r) => {
        r.add(`temporary volume ${tmp}`, () => this.removeTree(pool, tmp, AbortSignal.timeout(60_000)));
        await this.clone(pool, src, tmp, false, signal);
        const quotaBytes = await this.quotaOf(pool, src, signal);
        if (quotaBytes > 0) await this.applyQuota(pool, tmp, quotaBytes, signal);
        await rename(tmp, dst);
      });
    });
  }

  async deleteVolume(pool: PoolSpec, volume: VolumeRef, signal: AbortSignal): Promise<void> {
    const path = this.volumePath(pool, volume);
    await this.lock(pool, volume, async () => {
      if (VOLUME_DIRS[volume.type].snapshots) {
        const snaps = this.snapshotsDir(pool, volume);
        for (const s of await listNames(snaps)) await this.removeTree(pool, join(snaps, s), signal);
        await removeEmptyDir(snaps);
      }
      if (!(await exists(path))) return;
      // Move it out of its name first, so an interrupted delete leaves only a swept temp entry.
      const doomed = tmpPath(dirname(path), volume.name);
      await rename(path, doomed);
      await this.removeTree(pool, doomed, signal);
    });
  }

  async renameVolume(pool: PoolSpec, volume: VolumeRef, newName: string, signal: AbortSignal): Promise<void> {
    checkAbort(signal, `Renaming volume "${volume.name}"`);
    const target: VolumeRef = { type: volume.type, name: newName };
    const from = this.volumePath(pool, volume);
    const to = this.volumePath(pool, target);
    if (volume.type === 'image') throw errors.invalid('Image volumes cannot be renamed');
    // Both names are locked, in a fixed order so opposite renames cannot deadlock.
    const [first, second] = volume.name < newName ? [volume, target] : [target, volume];
    await this.lock(pool, first, () =>
      this.lock(pool, second, async () => {
        const fromExists = await exists(from);
        if (!fromExists && (await exists(to))) return; // a retried rename
        if (!fromExists) throw errors.notFound(`Volume "${volume.name}" not found on storage pool "${pool.name}"`);
        if (await exists(to)) throw errors.exists(`Volume "${newName}" already exists on storage pool "${pool.name}"`);
        const snapsFrom = this.snapshotsDir(pool, volume);
        const snapsTo = this.snapshotsDir(pool, target);
        await this.withReverter(async (r) => {
          if (await exists(snapsFrom)) {
            await rename(snapsFrom, snapsTo);
            r.add(`snapshots of "${newName}"`, () => rename(snapsTo, snapsFrom));
          }
          await rename(from, to);
        });
      }),
    );
  }

  async setVolumeQuota(pool: PoolSpec, volume: VolumeRef, sizeBytes: number | undefined, signal: AbortSignal): Promise<void> {
    this.checkQuota(sizeBytes);
    const path = this.volumePath(pool, volume);
    await this.lock(pool, volume, async () => {
      if (!(await exists(path))) throw errors.notFound(`Volume "${volume.name}" not found on storage pool "${pool.name}"`);
      await this.applyQuota(pool, path, sizeBytes, signal);
    });
  }

  async volumeUsage(pool: PoolSpec, volume: VolumeRef, signal: AbortSignal): Promise<{ readonly usedBytes: number; readonly quotaBytes: number }> {
    const path = this.volumePath(pool, volume);
    if (!(await exists(path))) throw errors.notFound(`Volume "${volume.name}" not found on storage pool "${pool.name}"`);
    return this.usageOf(pool, path, signal);
  }

  async createSnapshot(pool: PoolSpec, volume: VolumeRef, snapshot: string, signal: AbortSignal): Promise<void> {
    const path = this.volumePath(pool, volume);
    const snap = this.snapshotPath(pool, volume, snapshot);
    await this.lock(pool, volume, async () => {
      if (await exists(snap)) return;
      if (!(await exists(path))) throw errors.notFound(`Volume "${volume.name}" not found on storage pool "${pool.name}"`);
      const dir = dirname(snap);
      const tmp = tmpPath(dir, snapshot);
      await this.withReverter(async (r) => {
        if (!(await exists(dir))) {
          await mkdir(dir, { mode: 0o700 });
          r.add(`snapshot directory ${dir}`, () => removeEmptyDir(dir));
        }
        r.add(`temporary snapshot ${tmp}`, () => this.removeTree(pool, tmp, AbortSignal.timeout(60_000)));
        await this.clone(pool, path, tmp, true, signal);
        await rename(tmp, snap);
      });
    });
  }

  async restoreSnapshot(pool: PoolSpec, volume: VolumeRef, snapshot: string, signal: AbortSignal): Promise<void> {
    const path = this.volumePath(pool, volume);
    const snap = this.snapshotPath(pool, volume, snapshot);
    await this.lock(pool, volume, async () => {
      if (!(await exists(snap))) {
        throw errors.notFound(`Snapshot "${snapshot}" of volume "${volume.name}" not found on storage pool "${pool.name}"`);
      }
      const fresh = tmpPath(dirname(path), volume.name);
      const old = tmpPath(dirname(path), volume.name);
      await this.withReverter(async (r) => {
        r.add(`temporary volume ${fresh}`, () => this.removeTree(pool, fresh, AbortSignal.timeout(60_000)));
        await this.clone(pool, snap, fresh, false, signal);
        const hadVolume = await exists(path);
        if (hadVolume) {
          const quotaBytes = await this.quotaOf(pool, path, signal);
          if (quotaBytes > 0) await this.applyQuota(pool, fresh, quotaBytes, signal);
          await rename(path, old);
          r.add(`volume "${volume.name}" moved aside`, () => rename(old, path));
        }
        await rename(fresh, path);
      });
      await this.removeTree(pool, old, signal);
    });
  }

  async deleteSnapshot(pool: PoolSpec, volume: VolumeRef, snapshot: string, signal: AbortSignal): Promise<void> {
    const snap = this.snapshotPath(pool, volume, snapshot);
    await this.lock(pool, volume, async () => {
      if (!(await exists(snap))) return;
      const doomed = tmpPath(dirname(snap), snapshot);
      await rename(snap, doomed);
      await this.removeTree(pool, doomed, signal);
      await removeEmptyDir(dirname(snap));
    });
  }

  async renameSnapshot(pool: PoolSpec, volume: VolumeRef, snapshot: string, newName: string, signal: AbortSignal): Promise<void> {
    checkAbort(signal, `Renaming snapshot "${snapshot}"`);
    const from = this.snapshotPath(pool, volume, snapshot);
    const to = this.snapshotPath(pool, volume, newName);
    await this.lock(pool, volume, async () => {
      const fromExists = await exists(from);
      if (!fromExists && (await exists(to))) return;
      if (!fromExists) throw errors.notFound(`Snapshot "${snapshot}" of volume "${volume.name}" not found`);
      if (await exists(to)) throw errors.exists(`Snapshot "${newName}" of volume "${volume.name}" already exists`);
      await rename(from, to);
    });
  }

  async listSnapshots(pool: PoolSpec, volume: VolumeRef, _signal: AbortSignal): Promise<readonly string[]> {
    if (!(await exists(this.volumePath(pool, volume)))) {
      throw errors.notFound(`Volume "${volume.name}" not found on storage pool "${pool.name}"`);
    }
    return listNames(this.snapshotsDir(pool, volume));
  }

  /** Runs `fn` with a Reverter that undoes its registered steps unless `fn` completes. */
  protected async withReverter<T>(fn: (r: Reverter) => Promise<T>): Promise<T> {
    const r = new Reverter();
    try {
      const out = await fn(r);
      r.success();
      return out;
    } finally {
      await r.fail();
    }
  }
}

/** Removes `dir` if it exists and is empty. */
async function removeEmptyDir(dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  }
}
