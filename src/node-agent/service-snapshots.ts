/**
 * Instance snapshots: the storage driver's native snapshot of the root volume plus a copy of the
 * spec. Restoring brings back both content and config; a running instance is stopped, restored
 * and started again, as LXD does.
 */
import { errors } from '../shared/index.js';
import {
  currentStatus,
  instanceLocks,
  instanceView,
  projectOf,
  resolveRecord,
  type InstanceRef,
} from './instance-common.js';
import { instanceKey, touchMeta, type InstanceRecord, type InstanceView, type SnapshotRecord } from './local-records.js';
import type { ServiceContext } from './service-context.js';
import type { LifecycleService } from './service-lifecycle.js';
import { InstanceStatus } from './types.js';

const SNAPSHOT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

function checkSnapshotName(name: string): void {
  if (!SNAPSHOT_NAME.test(name) || name.includes('..')) throw errors.invalid(`Invalid snapshot name "${name}"`);
}

export class SnapshotService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly lifecycle: LifecycleService,
  ) {}

  /** Snapshots the root volume and records the spec. ALREADY_EXISTS for a taken name. */
  create(opId: string, ref: InstanceRef, snapshot: string, signal: AbortSignal): Promise<SnapshotRecord> {
    return this.locked(opId, 'CreateInstanceSnapshot', ref, { snapshot }, async (rec) => {
      checkSnapshotName(snapshot);
      if (rec.snapshots.some((s) => s.name === snapshot)) {
        throw errors.exists(`Snapshot "${snapshot}" of instance "${rec.spec.name}" already exists`);
      }
      const pool = (await this.ctx.pool(rec.pool)).spec;
      const storage = this.ctx.storage(pool);
      const volume = { type: 'container', name: rec.hostName } as const;
      const snap: SnapshotRecord = { name: snapshot, spec: rec.spec, createdAt: this.ctx.clock.now() };
      await this.ctx.reverted(`snapshot "${snapshot}" of "${rec.spec.name}"`, async (r) => {
        r.add(`snapshot "${snapshot}" of volume "containers/${rec.hostName}"`, () =>
          storage.deleteSnapshot(pool, volume, snapshot, this.ctx.revertSignal()),
        );
        await storage.createSnapshot(pool, volume, snapshot, signal);
        await this.save({ ...rec, snapshots: [...rec.snapshots, snap] });
      });
      return snap;
    });
  }

  /** Restores content and config from a snapshot (see the module comment). */
  restore(opId: string, ref: InstanceRef, snapshot: string, signal: AbortSignal): Promise<InstanceView> {
    return this.locked(opId, 'RestoreInstanceSnapshot', ref, { snapshot }, async (rec) => {
      const snap = this.find(rec, snapshot);
      const pool = (await this.ctx.pool(rec.pool)).spec;
      const wasRunning = (await currentStatus(this.ctx, rec.hostName, signal)) !== InstanceStatus.Stopped;
      if (wasRunning) {
        await this.ctx.drivers.instance.stop(rec.hostName, { force: true, timeoutMs: 10_000 }, signal);
      }
      // The snapshot's spec must still resolve (its pool and networks exist) before content changes.
      const restoredSpec = { ...snap.spec, name: rec.spec.name, project: rec.spec.project };
      const resolved = await resolveRecord(this.ctx, rec, restoredSpec);
      const current = await resolveRecord(this.ctx, rec);
      this.ctx.templates.forget(rec.hostName);
      await this.ctx.storage(pool).restoreSnapshot(pool, { type: 'container', name: rec.hostName }, snapshot, signal);
      await this.ctx.drivers.instance.update(resolved.runtime, signal);
      const net = this.ctx.drivers.network;
      for (const n of current.networks) if (!resolved.networks.includes(n)) await net.removeHost(n, rec.hostName, signal);
      for (const nh of resolved.networkHosts) await net.addHost(nh.network, nh.host, signal);
      let next: InstanceRecord = {
        ...rec,
        spec: restoredSpec,
        volatile: { ...rec.volatile, ...resolved.volatile },
      };
      next = await this.save(next);
      if (wasRunning) return this.lifecycle.startLocked(next, signal);
      return instanceView(next, InstanceStatus.Stopped);
    });
  }

  /** Deletes a snapshot. NOT_FOUND when missing. */
  delete(opId: string, ref: InstanceRef, snapshot: string, signal: AbortSignal): Promise<null> {
    return this.locked(opId, 'DeleteInstanceSnapshot', ref, { snapshot }, async (rec) => {
      this.find(rec, snapshot);
      const pool = (await this.ctx.pool(rec.pool)).spec;
      await this.ctx.storage(pool).deleteSnapshot(pool, { type: 'container', name: rec.hostName }, snapshot, signal);
      await this.save({ ...rec, snapshots: rec.snapshots.filter((s) => s.name !== snapshot) });
      return null;
    });
  }

  /** Renames a snapshot. */
  rename(opId: string, ref: InstanceRef, snapshot: string, newName: string, signal: AbortSignal): Promise<SnapshotRecord> {
    return this.locked(opId, 'RenameInstanceSnapshot', ref, { snapshot, newName }, async (rec) => {
      const snap = this.find(rec, snapshot);
      checkSnapshotName(newName);
      if (rec.snapshots.some((s) => s.name === newName)) {
        throw errors.exists(`Snapshot "${newName}" of instance "${rec.spec.name}" already exists`);
      }
      const pool = (await this.ctx.pool(rec.pool)).spec;
      const volume = { type: 'container', name: rec.hostName } as const;
      await this.ctx.storage(pool).renameSnapshot(pool, volume, snapshot, newName, signal);
      const renamed = { ...snap, name: newName };
      await this.save({ ...rec, snapshots: rec.snapshots.map((s) => (s.name === snapshot ? renamed : s)) });
      return renamed;
    });
  }

  /** Snapshots, oldest first. */
  async list(ref: InstanceRef): Promise<readonly SnapshotRecord[]> {
    return (await this.ctx.instance(projectOf(ref.project), ref.name)).snapshots;
  }

  private find(rec: InstanceRecord, snapshot: string): SnapshotRecord {
    const snap = rec.snapshots.find((s) => s.name === snapshot);
    if (!snap) throw errors.notFound(`Snapshot "${snapshot}" of instance "${rec.spec.name}" not found`);
    return snap;
  }

  private async save(rec: InstanceRecord): Promise<InstanceRecord> {
    const next = { ...rec, meta: touchMeta(rec.meta, this.ctx.clock.now()) };
    await this.ctx.db.instances.put(instanceKey(rec.spec.project, rec.spec.name), next, { sync: true });
    return next;
  }

  private locked<T>(
    opId: string,
    method: string,
    ref: InstanceRef,
    extra: Record<string, string>,
    fn: (rec: InstanceRecord) => Promise<T>,
  ): Promise<T> {
    const project = projectOf(ref.project);
    return this.ctx.ledger.run(opId, method, { project, name: ref.name, ...extra }, async () => {
      const rec = await this.ctx.instance(project, ref.name);
      return this.ctx.locks.with(instanceLocks(rec.spec), async () => fn(await this.ctx.instance(project, ref.name)));
    });
  }
}
