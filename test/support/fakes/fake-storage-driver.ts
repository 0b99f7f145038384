// FakeStorageDriver: an in-memory StorageDriver for unit tests of the service. Pools, volumes,
// quotas and snapshots are map entries; volume paths point under a directory that does not exist
// (so template rendering finds no metadata.yaml). Failures are injected per method.
import type { ImageUnpacker, PoolUsage, StorageDriver } from '../../../src/node-agent/drivers/storage-driver.js';
import type { ConfigMap, PoolSpec, VolumeRef } from '../../../src/node-agent/types.js';
import { errors } from './fake-deps.js';
import { FakeFailures } from './fake-failures.js';

interface FakeVolume {
  quota: number | undefined;
  snapshots: string[];
  /** Bumped on restore, so tests can see a restore happened. */
  restoredFrom: string | undefined;
}

const key = (pool: PoolSpec, v: VolumeRef): string => `${pool.name}/${v.type}/${v.name}`;

export class FakeStorageDriver implements StorageDriver {
  readonly failures = new FakeFailures();
  readonly pools = new Map<string, ConfigMap>();
  readonly volumes = new Map<string, FakeVolume>();

  constructor(readonly name: string = 'dir') {}

  validatePool(config: ConfigMap): void {
    for (const k of Object.keys(config)) {
      if (!['source', 'size'].includes(k)) throw errors.invalid(`Invalid storage pool config key "${k}"`);
    }
  }

  async createPool(pool: PoolSpec, _signal: AbortSignal): Promise<ConfigMap> {
    this.failures.hit('createPool', pool.name);
    const effective = { source: `/fake/${pool.name}`, ...pool.config };
    this.pools.set(pool.name, effective);
    return effective;
  }

  async mountPool(pool: PoolSpec, _signal: AbortSignal): Promise<void> {
    this.failures.hit('mountPool', pool.name);
  }

  async unmountPool(_pool: PoolSpec, _signal: AbortSignal): Promise<void> {}

  async deletePool(pool: PoolSpec, _signal: AbortSignal): Promise<void> {
    this.failures.hit('deletePool', pool.name);
    this.pools.delete(pool.name);
    for (const k of [...this.volumes.keys()]) if (k.startsWith(`${pool.name}/`)) this.volumes.delete(k);
  }

  async updatePool(pool: PoolSpec, changed: ConfigMap, _signal: AbortSignal): Promise<void> {
    this.failures.hit('updatePool', pool.name);
    this.pools.set(pool.name, { ...(this.pools.get(pool.name) ?? {}), ...changed });
  }

  async poolUsage(pool: PoolSpec, _signal: AbortSignal): Promise<PoolUsage> {
    const used = [...this.volumes.keys()].filter((k) => k.startsWith(`${pool.name}/`)).length * 1000;
    return { totalBytes: 1_000_000, usedBytes: used };
  }

  async ensureImageVolume(pool: PoolSpec, fingerprint: string, unpack: ImageUnpacker, signal: AbortSignal): Promise<void> {
    this.failures.hit('ensureImageVolume', fingerprint);
    const k = key(pool, { type: 'image', name: fingerprint });
    if (this.volumes.has(k)) return;
    await unpack(this.volumePath(pool, { type: 'image', name: fingerprint }), signal);
    this.volumes.set(k, { quota: undefined, snapshots: [], restoredFrom: undefined });
  }

  async createVolumeFromImage(
    pool: PoolSpec,
    volume: VolumeRef,
    fingerprint: string,
    options: { readonly sizeBytes?: number },
    _signal: AbortSignal,
  ): Promise<void> {
    if (!this.volumes.has(key(pool, { type: 'image', name: fingerprint }))) {
      throw errors.precondition(`Image volume "${fingerprint}" not found`);
    }
    // The volume exists (partly) before the failure, as a real copy that hits a full pool would.
    this.volumes.set(key(pool, volume), { quota: options.sizeBytes, snapshots: [], restoredFrom: undefined });
    this.failures.hit('createVolumeFromImage', volume.name);
  }

  async createVolume(pool: PoolSpec, volume: VolumeRef, options: { readonly sizeBytes?: number }, _signal: AbortSignal): Promise<void> {
    this.failures.hit('createVolume', volume.name);
    if (!this.volumes.has(key(pool, volume))) this.volumes.set(key(pool, volume), { quota: options.sizeBytes, snapshots: [], restoredFrom: undefined });
  }

  async copyVolume(pool: PoolSpec, source: VolumeRef, target: VolumeRef, _signal: AbortSignal): Promise<void> {
    const s = this.volumes.get(key(pool, source));
    if (!s) throw errors.notFound(`Volume "${source.name}" not found`);
    this.volumes.set(key(pool, target), { ...s, snapshots: [] });
  }

  async deleteVolume(pool: PoolSpec, volume: VolumeRef, _signal: AbortSignal): Promise<void> {
    this.failures.hit('deleteVolume', volume.name);
    this.volumes.delete(key(pool, volume));
  }

  async renameVolume(pool: PoolSpec, volume: VolumeRef, newName: string, _signal: AbortSignal): Promise<void> {
    const v = this.volumes.get(key(pool, volume));
    if (!v) throw errors.notFound(`Volume "${volume.name}" not found`);
    this.volumes.delete(key(pool, volume));
    this.volumes.set(key(pool, { ...volume, name: newName }), v);
  }

  volumePath(pool: PoolSpec, volume: VolumeRef): string {
    return `/nonexistent/shoal-fake/${pool.name}/${volume.type}/${volume.name}`;
  }

  async setVolumeQuota(pool: PoolSpec, volume: VolumeRef, sizeBytes: number | undefined, _signal: AbortSignal): Promise<void> {
    this.failures.hit('setVolumeQuota', volume.name);
    const v = this.volumes.get(key(pool, volume));
    if (!v) throw errors.notFound(`Volume "${volume.name}" not found`);
    v.quota = sizeBytes;
  }

  async volumeUsage(pool: PoolSpec, volume: VolumeRef, _signal: AbortSignal): Promise<{ readonly usedBytes: number; readonly quotaBytes: number }> {
    const v = this.volumes.get(key(pool, volume));
    if (!v) throw errors.notFound(`Volume "${volume.name}" not found`);
    return { usedBytes: 1000, quotaBytes: v.quota ?? 0 };
  }

  async createSnapshot(pool: PoolSpec, volume: VolumeRef, snapshot: string, _signal: AbortSignal): Promise<void> {
    this.failures.hit('createSnapshot', snapshot);
    const v = this.volumes.get(key(pool, volume));
    if (!v) throw errors.notFound(`Volume "${volume.name}" not found`);
    if (!v.snapshots.includes(snapshot)) v.snapshots.push(snapshot);
  }

  async restoreSnapshot(pool: PoolSpec, volume: VolumeRef, snapshot: string, _signal: AbortSignal): Promise<void> {
    const v = this.volumes.get(key(pool, volume));
    if (!v?.snapshots.includes(snapshot)) throw errors.notFound(`Snapshot "${snapshot}" not found`);
    v.restoredFrom = snapshot;
  }

  async deleteSnapshot(pool: PoolSpec, volume: VolumeRef, snapshot: string, _signal: AbortSignal): Promise<void> {
    const v = this.volumes.get(key(pool, volume));
    if (v) v.snapshots = v.snapshots.filter((s) => s !== snapshot);
  }

  async renameSnapshot(pool: PoolSpec, volume: VolumeRef, snapshot: string, newName: string, _signal: AbortSignal): Promise<void> {
    const v = this.volumes.get(key(pool, volume));
    if (!v?.snapshots.includes(snapshot)) throw errors.notFound(`Snapshot "${snapshot}" not found`);
    v.snapshots = v.snapshots.map((s) => (s === snapshot ? newName : s));
  }

  async listSnapshots(pool: PoolSpec, volume: VolumeRef, _signal: AbortSignal): Promise<readonly string[]> {
    return this.volumes.get(key(pool, volume))?.snapshots ?? [];
  }

  /** Volume keys `<pool>/<type>/<name>` that exist. */
  volumeKeys(): string[] {
    return [...this.volumes.keys()].sort();
  }
}
