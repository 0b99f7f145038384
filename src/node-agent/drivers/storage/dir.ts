/**
 * The `dir` storage driver: a pool is a directory (storage-pools/<pool>, or a symlink there to an
 * existing directory given as `source`); volumes are plain directory trees. An image is unpacked
 * once per pool into images/<fp>; instance volumes and snapshots are `cp -a --reflink=auto`
 * copies of it (reflinks where the filesystem has them), restore swaps in a fresh copy.
 *
 * Quotas: LXD's dir driver can only enforce `size` through project quotas (ext4/xfs with
 * prjquota), and silently skips it otherwise. We refuse `size` with INVALID_ARGUMENT instead, so a
 * limit the user asked for is never silently missing. Usage comes from statfs (pool) and du (volume).
 */
import { lstat, mkdir, readlink, rm, stat, symlink, unlink } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { errors, wrap } from '../../../shared/index.js';
import { run } from '../../exec.js';
import type { ConfigMap, PoolSpec } from '../../types.js';
import type { PoolUsage } from '../storage-driver.js';
import {
  checkAbort,
  checkConfigKeys,
  checkPoolName,
  duBytes,
  exists,
  makePoolDirs,
  poolMountPath,
  POOL_DIR_MODES,
  statfsUsage,
} from './common.js';
import { VfsStorageDriver } from './vfs-driver.js';

const KEYS = ['source'] as const;

export class DirStorageDriver extends VfsStorageDriver {
  readonly name = 'dir';

  validatePool(config: ConfigMap): void {
    if (config['size'] !== undefined) {
      throw errors.invalid('Invalid pool config key "size" for the "dir" driver: dir pools take the size of their filesystem');
    }
    checkConfigKeys(this.name, config, KEYS);
    const source = config['source'];
    if (source !== undefined && source !== '' && !isAbsolute(source)) {
      throw errors.invalid(`Invalid value for "source": "${source}" is not an absolute path`);
    }
  }

  async createPool(pool: PoolSpec, signal: AbortSignal): Promise<ConfigMap> {
    checkPoolName(pool.name);
    this.validatePool(pool.config);
    checkAbort(signal, `Creating storage pool "${pool.name}"`);
    const path = poolMountPath(this.ctx.paths.storagePools, pool);
    const source = this.sourceOf(pool);
    await mkdir(this.ctx.paths.storagePools, { recursive: true, mode: 0o711 });
    await this.withReverter(async (r) => {
      if (source === undefined) {
        if (!(await exists(path))) {
          await mkdir(path, { mode: 0o711 });
          r.add(`pool directory ${path}`, () => rm(path, { recursive: true, force: true }));
        } else if ((await lstat(path)).isSymbolicLink()) {
          throw errors.exists(`Storage pool "${pool.name}" already exists with source "${await readlink(path)}"`);
        }
      } else {
        const st = await stat(source).catch(() => undefined);
        if (!st?.isDirectory()) throw errors.invalid(`Invalid value for "source": "${source}" is not an existing directory`);
        if (await exists(path)) {
          const current = (await lstat(path)).isSymbolicLink() ? await readlink(path) : path;
          if (current !== source) throw errors.exists(`Storage pool "${pool.name}" already exists with source "${current}"`);
        } else {
          await symlink(source, path);
          r.add(`pool link ${path}`, () => unlink(path));
        }
      }
      await makePoolDirs(path);
    });
    this.log.info({ pool: pool.name, source: source ?? path }, 'storage pool created');
    return { ...pool.config, source: source ?? path };
  }

  async mountPool(pool: PoolSpec, signal: AbortSignal): Promise<void> {
    const path = poolMountPath(this.ctx.paths.storagePools, pool);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isDirectory()) {
      throw errors.precondition(`Storage pool "${pool.name}" is unavailable: "${path}" is not a directory`);
    }
    await makePoolDirs(path);
    await this.sweepTemp(pool, signal);
  }

  async unmountPool(_pool: PoolSpec, _signal: AbortSignal): Promise<void> {
    // Nothing is mounted for a dir pool.
  }

  async deletePool(pool: PoolSpec, signal: AbortSignal): Promise<void> {
    checkAbort(signal, `Deleting storage pool "${pool.name}"`);
    const path = poolMountPath(this.ctx.paths.storagePools, pool);
    if (!(await exists(path))) return;
    if ((await lstat(path)).isSymbolicLink()) {
      // An existing directory was lent to us: remove what we made in it, not the directory itself.
      for (const d of Object.keys(POOL_DIR_MODES)) await rm(join(path, d), { recursive: true, force: true });
      await unlink(path);
    } else {
      await rm(path, { recursive: true, force: true });
    }
    this.log.info({ pool: pool.name }, 'storage pool deleted');
  }

  async updatePool(pool: PoolSpec, changed: ConfigMap, _signal: AbortSignal): Promise<void> {
    this.validatePool(changed);
    if (changed['source'] !== undefined && changed['source'] !== this.sourceOf(pool)) {
      throw errors.invalid(`The "source" of storage pool "${pool.name}" cannot be changed`);
    }
  }

  poolUsage(pool: PoolSpec, _signal: AbortSignal): Promise<PoolUsage> {
    return statfsUsage(poolMountPath(this.ctx.paths.storagePools, pool));
  }

  protected checkQuota(sizeBytes: number | undefined): void {
    if (sizeBytes !== undefined) {
      throw errors.invalid('Volume quotas ("size") are not supported by the "dir" driver on this host (use btrfs)');
    }
  }

  protected async createEmpty(_pool: PoolSpec, path: string, _signal: AbortSignal): Promise<void> {
    await mkdir(path, { mode: 0o711 });
  }

  protected async clone(_pool: PoolSpec, src: string, dst: string, _readonly: boolean, signal: AbortSignal): Promise<void> {
    try {
      await run('cp', ['-a', '--reflink=auto', '--', src, dst], { signal });
    } catch (err) {
      throw wrap(err, `Failed copying "${src}"`);
    }
  }

  protected async removeTree(_pool: PoolSpec, path: string, _signal: AbortSignal): Promise<void> {
    await rm(path, { recursive: true, force: true });
  }

  protected async applyQuota(_pool: PoolSpec, _path: string, sizeBytes: number | undefined, _signal: AbortSignal): Promise<void> {
    this.checkQuota(sizeBytes);
  }

  protected override async quotaOf(_pool: PoolSpec, _path: string, _signal: AbortSignal): Promise<number> {
    return 0;
  }

  protected async usageOf(_pool: PoolSpec, path: string, signal: AbortSignal): Promise<{ usedBytes: number; quotaBytes: number }> {
    return { usedBytes: await duBytes(path, signal), quotaBytes: 0 };
  }

  /** The directory lent as `source`, or undefined when the pool lives in storage-pools/<pool>. */
  private sourceOf(pool: PoolSpec): string | undefined {
    const source = pool.config['source'];
    const own = poolMountPath(this.ctx.paths.storagePools, pool);
    return source === undefined || source === '' || source === own ? undefined : source;
  }
}
