/**
 * Storage pools and custom volumes. A pool or volume in use (an instance's root disk or disk
 * device, a custom volume on the pool) cannot be deleted: FAILED_PRECONDITION naming the users.
 */
import { checkObjectName, errors } from '../shared/index.js';
import { allValues } from './agent-db.js';
import { customVolumesOf, findRootDisk } from './devices.js';
import { instancesUsing, quoteList } from './instance-common.js';
import { lockKey } from './locks.js';
import {
  newMeta,
  touchMeta,
  volumeKey,
  type PoolRecord,
  type PoolResources,
  type PoolView,
  type VolumeRecord,
  type VolumeView,
} from './local-records.js';
import type { ServiceContext } from './service-context.js';
import { canonicalJson } from './ledger.js';
import type { ConfigMap, PoolSpec } from './types.js';
import { parseByteSize } from '../shared/units.js';

/** A pool creation request. */
export interface PoolRequest {
  readonly name: string;
  readonly driver: string;
  readonly config: ConfigMap;
  readonly description: string;
}

/** A custom volume creation request. */
export interface VolumeRequest {
  readonly pool: string;
  readonly name: string;
  readonly config: ConfigMap;
  readonly description: string;
}

export class StorageService {
  constructor(private readonly ctx: ServiceContext) {}

  /** Creates and mounts a pool. The same pool again returns it; another config: ALREADY_EXISTS. */
  createPool(opId: string, req: PoolRequest, signal: AbortSignal): Promise<PoolView> {
    return this.ctx.ledger.run(opId, 'CreateStoragePool', { ...req }, async () => {
      const bad = checkObjectName('storage pool', req.name);
      if (bad) throw bad;
      const driver = this.ctx.storage(req.driver);
      driver.validatePool(req.config);
      return this.ctx.locks.with([{ key: lockKey.pool(req.name), mode: 'exclusive' }], async () => {
        const existing = await this.ctx.db.pools.get(req.name);
        if (existing) {
          const sameAsAsked = Object.entries(req.config).every(([k, v]) => existing.spec.config[k] === v);
          if (existing.spec.driver === req.driver && sameAsAsked) return this.poolView(existing);
          throw errors.exists(`Storage pool "${req.name}" already exists`);
        }
        const spec: PoolSpec = { name: req.name, driver: req.driver, config: req.config };
        const effective = await driver.createPool(spec, signal);
        const rec: PoolRecord = {
          spec: { ...spec, config: { ...req.config, ...effective } },
          description: req.description,
          meta: newMeta(this.ctx.clock.now()),
        };
        await this.ctx.db.pools.put(req.name, rec, { sync: true });
        this.ctx.log.info({ pool: req.name, driver: req.driver }, 'storage pool created');
        return this.poolView(rec);
      });
    });
  }

  /** Replaces a pool's config (driver-specific keys; raising `size` grows a loop-backed pool). */
  updatePool(opId: string, name: string, config: ConfigMap, description: string, signal: AbortSignal): Promise<PoolView> {
    return this.ctx.ledger.run(opId, 'UpdateStoragePool', { name, config, description }, () =>
      this.ctx.locks.with([{ key: lockKey.pool(name), mode: 'exclusive' }], async () => {
        const rec = await this.ctx.pool(name);
        const driver = this.ctx.storage(rec.spec);
        driver.validatePool(config);
        const changed: Record<string, string> = {};
        for (const k of new Set([...Object.keys(config), ...Object.keys(rec.spec.config)])) {
          if (config[k] !== rec.spec.config[k] && config[k] !== undefined) changed[k] = config[k];
        }
        const spec: PoolSpec = { ...rec.spec, config: { ...rec.spec.config, ...config } };
        if (Object.keys(changed).length > 0) await driver.updatePool(spec, changed, signal);
        const next: PoolRecord = { spec, description, meta: touchMeta(rec.meta, this.ctx.clock.now()) };
        await this.ctx.db.pools.put(name, next, { sync: true });
        return this.poolView(next);
      }),
    );
  }

  /** Deletes an unused pool (its image volumes go with it). */
  deletePool(opId: string, name: string, signal: AbortSignal): Promise<null> {
    return this.ctx.ledger.run(opId, 'DeleteStoragePool', { name }, () =>
      this.ctx.locks.with([{ key: lockKey.pool(name), mode: 'exclusive' }], async () => {
        const rec = await this.ctx.pool(name);
        const { instances, volumes } = await this.poolUsers(name);
        const users = [
          ...(instances.length > 0 ? [quoteList('instances', instances)] : []),
          ...(volumes.length > 0 ? [quoteList('volumes', volumes)] : []),
        ];
        if (users.length > 0) throw errors.precondition(`Storage pool "${name}" is in use by ${users.join(' and ')}`);
        await this.ctx.storage(rec.spec).deletePool(rec.spec, signal);
        await this.ctx.db.pools.del(name, { sync: true });
        this.ctx.log.info({ pool: name }, 'storage pool deleted');
        return null;
      }),
    );
  }

  /** This member's pools, sorted by name. */
  async listPools(): Promise<PoolView[]> {
    return Promise.all((await allValues(this.ctx.db.pools)).map((p) => this.poolView(p)));
  }

  /** A pool's capacity and usage. */
  async poolResources(name: string, signal: AbortSignal): Promise<PoolResources> {
    const rec = await this.ctx.pool(name);
    const usage = await this.ctx.storage(rec.spec).poolUsage(rec.spec, signal);
    return { name, driver: rec.spec.driver, totalBytes: usage.totalBytes, usedBytes: usage.usedBytes };
  }

  /** Creates an empty custom volume (`size` is its quota). */
  createVolume(opId: string, req: VolumeRequest, signal: AbortSignal): Promise<VolumeView> {
    return this.ctx.ledger.run(opId, 'CreateStorageVolume', { ...req }, async () => {
      const bad = checkObjectName('storage volume', req.name);
      if (bad) throw bad;
      for (const k of Object.keys(req.config)) {
        if (k !== 'size' && !k.startsWith('user.')) throw errors.invalid(`Invalid storage volume config key "${k}"`);
      }
      const size = req.config['size'];
      const sizeOpt = size ? { sizeBytes: parseByteSize(size, 'size') } : {};
      const locks = [
        { key: lockKey.pool(req.pool), mode: 'shared' as const },
        { key: lockKey.volume(req.pool, req.name), mode: 'exclusive' as const },
      ];
      return this.ctx.locks.with(locks, async () => {
        const pool = (await this.ctx.pool(req.pool)).spec;
        const key = volumeKey(req.pool, req.name);
        const existing = await this.ctx.db.volumes.get(key);
        if (existing) {
          if (canonicalJson(existing.config) === canonicalJson(req.config)) return this.volumeView(existing, signal);
          throw errors.exists(`Storage volume "${req.name}" already exists in pool "${req.pool}"`);
        }
        const storage = this.ctx.storage(pool);
        const rec: VolumeRecord = { ...req, snapshots: [], meta: newMeta(this.ctx.clock.now()) };
        await this.ctx.reverted(`create volume "${req.name}"`, async (r) => {
          r.add(`volume "custom/${req.name}" on pool "${req.pool}"`, () =>
            storage.deleteVolume(pool, { type: 'custom', name: req.name }, this.ctx.revertSignal()),
          );
          await storage.createVolume(pool, { type: 'custom', name: req.name }, sizeOpt, signal);
          await this.ctx.db.volumes.put(key, rec, { sync: true });
        });
        return this.volumeView(rec, signal);
      });
    });
  }

  /** Deletes an unused custom volume and its snapshots. */
  deleteVolume(opId: string, pool: string, name: string, signal: AbortSignal): Promise<null> {
    return this.volumeOp(opId, 'DeleteStorageVolume', pool, name, {}, async (rec, spec) => {
      const users = await this.volumeUsers(pool, name);
      if (users.length > 0) {
        throw errors.precondition(`Storage volume "${name}" is in use by ${quoteList('instances', users)}`);
      }
      await this.ctx.storage(spec).deleteVolume(spec, { type: 'custom', name }, signal);
      await this.ctx.db.volumes.del(volumeKey(rec.pool, rec.name), { sync: true });
      return null;
    });
  }

  /** Custom volumes of a pool. */
  async listVolumes(pool: string, signal: AbortSignal): Promise<VolumeView[]> {
    await this.ctx.pool(pool);
    const recs = (await allValues(this.ctx.db.volumes)).filter((v) => v.pool === pool);
    return Promise.all(recs.map((r) => this.volumeView(r, signal)));
  }

  /** Snapshots a custom volume. */
  createVolumeSnapshot(opId: string, pool: string, name: string, snapshot: string, signal: AbortSignal): Promise<null> {
    return this.volumeOp(opId, 'CreateStorageVolumeSnapshot', pool, name, { snapshot }, async (rec, spec) => {
      const bad = checkObjectName('snapshot', snapshot);
      if (bad) throw bad;
      if (rec.snapshots.includes(snapshot)) throw errors.exists(`Snapshot "${snapshot}" of volume "${name}" already exists`);
      await this.ctx.storage(spec).createSnapshot(spec, { type: 'custom', name }, snapshot, signal);
      await this.saveVolume({ ...rec, snapshots: [...rec.snapshots, snapshot] });
      return null;
    });
  }

  /** Restores a custom volume snapshot. */
  restoreVolumeSnapshot(opId: string, pool: string, name: string, snapshot: string, signal: AbortSignal): Promise<null> {
    return this.volumeOp(opId, 'RestoreStorageVolumeSnapshot', pool, name, { snapshot }, async (rec, spec) => {
      if (!rec.snapshots.includes(snapshot)) throw errors.notFound(`Snapshot "${snapshot}" of volume "${name}" not found`);
      await this.ctx.storage(spec).restoreSnapshot(spec, { type: 'custom', name }, snapshot, signal);
      return null;
    });
  }

  /** Deletes a custom volume snapshot. */
  deleteVolumeSnapshot(opId: string, pool: string, name: string, snapshot: string, signal: AbortSignal): Promise<null> {
    return this.volumeOp(opId, 'DeleteStorageVolumeSnapshot', pool, name, { snapshot }, async (rec, spec) => {
      if (!rec.snapshots.includes(snapshot)) throw errors.notFound(`Snapshot "${snapshot}" of volume "${name}" not found`);
      await this.ctx.storage(spec).deleteSnapshot(spec, { type: 'custom', name }, snapshot, signal);
      await this.saveVolume({ ...rec, snapshots: rec.snapshots.filter((s) => s !== snapshot) });
      return null;
    });
  }

  /** Instances and custom volumes on a pool. */
  async poolUsers(pool: string): Promise<{ readonly instances: string[]; readonly volumes: string[] }> {
    const instances = await instancesUsing(
      this.ctx,
      (spec, rec) => rec.pool === pool || findRootDisk(spec)?.[1]['pool'] === pool || customVolumesOf(spec).some(([p]) => p === pool),
    );
    const volumes = (await allValues(this.ctx.db.volumes)).filter((v) => v.pool === pool).map((v) => v.name).sort();
    return { instances, volumes };
  }

  private volumeUsers(pool: string, name: string): Promise<string[]> {
    return instancesUsing(this.ctx, (spec) => customVolumesOf(spec).some(([p, v]) => p === pool && v === name));
  }

  private volumeOp<T>(
    opId: string,
    method: string,
    pool: string,
    name: string,
    extra: Record<string, string>,
    fn: (rec: VolumeRecord, pool: PoolSpec) => Promise<T>,
  ): Promise<T> {
    return this.ctx.ledger.run(opId, method, { pool, name, ...extra }, () =>
      this.ctx.locks.with(
        [
          { key: lockKey.pool(pool), mode: 'shared' },
          { key: lockKey.volume(pool, name), mode: 'exclusive' },
        ],
        async () => {
          const spec = (await this.ctx.pool(pool)).spec;
          const rec = await this.ctx.db.volumes.get(volumeKey(pool, name));
          if (!rec) throw errors.notFound(`Storage volume "${name}" not found in pool "${pool}"`);
          return fn(rec, spec);
        },
      ),
    );
  }

  private async saveVolume(rec: VolumeRecord): Promise<void> {
    const next = { ...rec, meta: touchMeta(rec.meta, this.ctx.clock.now()) };
    await this.ctx.db.volumes.put(volumeKey(rec.pool, rec.name), next, { sync: true });
  }

  private async poolView(rec: PoolRecord): Promise<PoolView> {
    const { instances, volumes } = await this.poolUsers(rec.spec.name);
    const usedBy = [...instances.map((i) => `instance:${i}`), ...volumes.map((v) => `volume:${v}`)];
    return { spec: rec.spec, description: rec.description, usedBy, meta: rec.meta };
  }

  private async volumeView(rec: VolumeRecord, signal: AbortSignal): Promise<VolumeView> {
    const pool = (await this.ctx.pool(rec.pool)).spec;
    const usage = await this.ctx.storage(pool).volumeUsage(pool, { type: 'custom', name: rec.name }, signal);
    return {
      pool: rec.pool,
      name: rec.name,
      config: rec.config,
      description: rec.description,
      usedBy: await this.volumeUsers(rec.pool, rec.name),
      snapshots: rec.snapshots,
      usedBytes: usage.usedBytes,
      meta: rec.meta,
    };
  }
}
