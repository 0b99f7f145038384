/**
 * Instances: create, update, rename, delete and the read calls. Each mutating call goes through
 * the ledger (idempotent per operation id) and runs under the instance's lock; multi-step host
 * work runs under a Reverter so that a failure leaves the host as it was.
 */
import { ErrorCode, RevertIncompleteError, ShoalError, errors, isShoalError } from '../shared/index.js';
import { resolveDevices } from './devices.js';
import {
  currentStatus,
  effectiveSpec,
  hostNameOf,
  instanceLocks,
  instanceView,
  normalizeSpec,
  projectOf,
  removeInstance,
  resolveRecord,
  specIdentity,
  type InstanceRef,
} from './instance-common.js';
import { putOp } from './agent-db.js';
import type { JsonValue, OperationJournal } from './ledger.js';
import { instanceKey, newMeta, touchMeta, type InstanceRecord, type InstanceView } from './local-records.js';
import { lockKey } from './locks.js';
import { LXD_ARCHITECTURE } from './service-member.js';
import type { ServiceContext } from './service-context.js';
import { InstanceStatus, hostInstanceName, type InstanceSpec, type InstanceState } from './types.js';

/**
 * Waits for every promise and rethrows the first failure only once all have settled, so a revert
 * never runs while a sibling step is still writing.
 */
async function settleAll(steps: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Where a new instance's root filesystem comes from. */
export type InstanceSource = { readonly type: 'image'; readonly fingerprint: string } | { readonly type: 'none' };

/** Live state plus the root disk's quota. */
export interface InstanceStateView extends Omit<InstanceState, 'disk'> {
  readonly disk: Readonly<Record<string, { readonly usageBytes: number; readonly totalBytes: number }>>;
}

export class InstanceService {
  constructor(private readonly ctx: ServiceContext) {}

  /**
   * Creates a stopped instance (see proto CreateInstance). Creating an existing instance with the
   * same spec and source returns it; with another spec: ALREADY_EXISTS.
   */
  create(opId: string, spec: InstanceSpec, source: InstanceSource, signal: AbortSignal): Promise<InstanceView> {
    const request = { spec, source } as unknown as JsonValue;
    // The ledger's `running` record is written with the instance's `creating` record, and its
    // success with `created`: two synced writes for the whole operation.
    return this.ctx.ledger.runJournaled(opId, 'CreateInstance', request, async (journal) => {
      const s = normalizeSpec(spec);
      this.ctx.drivers.instance.validate(s);
      const fingerprint = source.type === 'image' ? await this.resolveImage(source.fingerprint) : null;
      const imageLock = fingerprint ? [{ key: lockKey.image(fingerprint), mode: 'shared' as const }] : [];
      return this.ctx.locks.with(instanceLocks(s, imageLock), () => this.createLocked(s, fingerprint, journal, signal));
    });
  }

  private async createLocked(spec: InstanceSpec, fingerprint: string | null, journal: OperationJournal, signal: AbortSignal): Promise<InstanceView> {
    const { ctx } = this;
    const key = instanceKey(spec.project, spec.name);
    const hostName = hostNameOf(spec);
    const existing = await ctx.db.instances.get(key);
    if (existing?.phase === 'created') {
      if (specIdentity(existing.spec) === specIdentity(spec) && existing.imageFingerprint === fingerprint) {
        return instanceView(existing, await currentStatus(ctx, hostName, signal));
      }
      throw errors.exists(`Instance "${spec.name}" already exists`);
    }
    if (existing) {
      // Left over by a crashed create or delete: finish removing it before starting afresh.
      await journal.write([]);
      await removeInstance(ctx, existing, signal);
    }

    const resolved = resolveDevices(spec, hostName, {}, await ctx.deviceLookups());
    const architecture = fingerprint ? (await ctx.drivers.images.get(fingerprint)).architecture : LXD_ARCHITECTURE;
    const { pool, runtime } = resolved;
    const storage = ctx.storage(pool);
    const volume = { type: 'container', name: hostName } as const;
    const now = ctx.clock.now();
    let rec: InstanceRecord = {
      spec,
      volatile: resolved.volatile,
      description: spec.config['user.description'] ?? '',
      pool: pool.name,
      imageFingerprint: fingerprint,
      hostName,
      phase: 'creating',
      architecture,
      snapshots: [],
      meta: newMeta(now),
    };
    // The intent is recorded (synced, with the operation's `running` record) before any host
    // work, so recovery can roll back a crash.
    await journal.write([putOp(ctx.db.instances, key, rec)]);
    try {
      await ctx.reverted(`create instance "${spec.name}"`, async (r) => {
        // Undo steps are registered before their work starts, so partial results are removed too.
        for (const nh of resolved.networkHosts) {
          r.add(`entry of "${hostName}" on network "${nh.network}"`, () =>
            ctx.drivers.network.removeHost(nh.network, hostName, ctx.revertSignal()),
          );
        }
        r.add(`volume "containers/${hostName}" on pool "${pool.name}"`, () =>
          storage.deleteVolume(pool, volume, ctx.revertSignal()),
        );
        const sizeOpt = resolved.rootSizeBytes === undefined ? {} : { sizeBytes: resolved.rootSizeBytes };
        await settleAll([
          // DHCP/DNS entries (a static address taken by another instance fails here).
          (async () => {
            for (const nh of resolved.networkHosts) await ctx.drivers.network.addHost(nh.network, nh.host, signal);
          })(),
          // The root volume; meanwhile the templates are rendered (from the image volume it is
          // copied from) and the LXC definition is written but for what needs the rootfs.
          (async () => {
            if (fingerprint) {
              const images = ctx.drivers.images;
              await storage.ensureImageVolume(pool, fingerprint, (dir, s) => images.unpack(fingerprint, dir, s), signal);
            }
            const rootfs = fingerprint
              ? storage.createVolumeFromImage(pool, volume, fingerprint, sizeOpt, signal)
              : storage.createVolume(pool, volume, sizeOpt, signal);
            r.add(`LXC definition of "${hostName}"`, () => ctx.drivers.instance.delete(hostName, ctx.revertSignal()));
            const imageVolume = fingerprint ? storage.volumePath(pool, { type: 'image', name: fingerprint }) : undefined;
            const rendered = imageVolume ? ctx.templates.render(runtime, architecture, 'create', imageVolume) : undefined;
            await settleAll([
              rootfs,
              (async () => {
                const templates = await rendered;
                await rootfs;
                if (templates) await ctx.templates.write(runtime, templates);
              })(),
              ctx.drivers.instance.create(runtime, signal, { rootfsReady: rootfs }),
            ]);
          })(),
        ]);

      });
      // Recorded with the operation's success (one synced batch). Should that write fail, the
      // record stays `creating`: a retry or the next recovery removes what was made.
      rec = { ...rec, phase: 'created' };
      journal.onSuccess([putOp(ctx.db.instances, key, rec)]);
    } catch (err) {
      // Everything on the host was reverted (or the error says what remains, and the record
      // stays `creating` so that a retry or recovery finishes the cleanup).
      if (!(err instanceof RevertIncompleteError)) await ctx.db.instances.del(key, { sync: true });
      throw err;
    }
    ctx.knownStopped.add(hostName);
    ctx.log.info({ instance: spec.name, project: spec.project, pool: pool.name }, 'instance created');
    return instanceView(rec, InstanceStatus.Stopped);
  }

  /**
   * Replaces config and devices. The root pool cannot change; a new root `size` becomes the
   * quota; nic changes update the network entries; limits apply live (driver.update).
   */
  update(opId: string, spec: InstanceSpec, signal: AbortSignal): Promise<InstanceView> {
    return this.ctx.ledger.run(opId, 'UpdateInstance', spec as unknown as JsonValue, async () => {
      const s = normalizeSpec(spec);
      this.ctx.drivers.instance.validate(s);
      const old = await this.ctx.instance(s.project, s.name);
      return this.ctx.locks.with(instanceLocks(s, instanceLocks(old.spec).slice(1)), () => this.updateLocked(s, signal));
    });
  }

  private async updateLocked(spec: InstanceSpec, signal: AbortSignal): Promise<InstanceView> {
    const { ctx } = this;
    const old = await ctx.instance(spec.project, spec.name);
    const next = await resolveRecord(ctx, old, spec);
    const prev = await resolveRecord(ctx, old);
    if (next.pool.name !== old.pool) {
      throw errors.invalid(`Instance "${spec.name}": the root disk cannot move from pool "${old.pool}" to "${next.pool.name}"`);
    }
    const storage = ctx.storage(next.pool);
    const volume = { type: 'container', name: old.hostName } as const;
    let rec: InstanceRecord = old;
    await ctx.reverted(`update instance "${spec.name}"`, async (r) => {
      if (next.rootSizeBytes !== prev.rootSizeBytes) {
        r.add(`quota of "${old.hostName}"`, () =>
          storage.setVolumeQuota(next.pool, volume, prev.rootSizeBytes, ctx.revertSignal()),
        );
        await storage.setVolumeQuota(next.pool, volume, next.rootSizeBytes, signal);
      }
      for (const nh of prev.networkHosts) {
        if (!next.networks.includes(nh.network)) {
          r.add(`entry of "${old.hostName}" on network "${nh.network}"`, () =>
            ctx.drivers.network.addHost(nh.network, nh.host, ctx.revertSignal()),
          );
          await ctx.drivers.network.removeHost(nh.network, old.hostName, signal);
        }
      }
      for (const nh of next.networkHosts) {
        const before = prev.networkHosts.find((p) => p.network === nh.network && p.host.device === nh.host.device);
        r.add(`entry of "${old.hostName}" on network "${nh.network}"`, () =>
          before
            ? ctx.drivers.network.addHost(nh.network, before.host, ctx.revertSignal())
            : ctx.drivers.network.removeHost(nh.network, old.hostName, ctx.revertSignal()),
        );
        await ctx.drivers.network.addHost(nh.network, nh.host, signal);
      }
      r.add(`LXC definition of "${old.hostName}"`, () => ctx.drivers.instance.update(prev.runtime, ctx.revertSignal()));
      await ctx.drivers.instance.update(next.runtime, signal);
      rec = {
        ...old,
        spec,
        description: spec.config['user.description'] ?? old.description,
        volatile: { ...old.volatile, ...next.volatile },
        meta: touchMeta(old.meta, ctx.clock.now()),
      };
      await ctx.db.instances.put(instanceKey(spec.project, spec.name), rec, { sync: true });
    });
    return instanceView(rec, await currentStatus(ctx, rec.hostName, signal));
  }

  /** Deletes a stopped instance; FAILED_PRECONDITION when running or frozen. */
  delete(opId: string, ref: InstanceRef, signal: AbortSignal): Promise<null> {
    const project = projectOf(ref.project);
    return this.ctx.ledger.run(opId, 'DeleteInstance', { project, name: ref.name }, async () => {
      const rec = await this.ctx.instance(project, ref.name);
      return this.ctx.locks.with(instanceLocks(rec.spec), async () => {
        // removeInstance refuses a running or frozen instance (FAILED_PRECONDITION) before any change.
        await removeInstance(this.ctx, await this.ctx.instance(project, ref.name), signal);
        return null;
      });
    });
  }

  /** Renames a stopped instance (LXC definition, root volume, network entries). */
  rename(opId: string, ref: InstanceRef, newName: string, signal: AbortSignal): Promise<InstanceView> {
    const project = projectOf(ref.project);
    return this.ctx.ledger.run(opId, 'RenameInstance', { project, name: ref.name, newName }, async () => {
      const rec = await this.ctx.instance(project, ref.name);
      normalizeSpec({ ...rec.spec, name: newName });
      const extra = [{ key: lockKey.instance(project, newName), mode: 'exclusive' as const }];
      return this.ctx.locks.with(instanceLocks(rec.spec, extra), () => this.renameLocked(project, ref.name, newName, signal));
    });
  }

  private async renameLocked(project: string, name: string, newName: string, signal: AbortSignal): Promise<InstanceView> {
    const { ctx } = this;
    const old = await ctx.instance(project, name);
    if (await ctx.db.instances.get(instanceKey(project, newName))) throw errors.exists(`Instance "${newName}" already exists`);
    if ((await currentStatus(ctx, old.hostName, signal)) !== InstanceStatus.Stopped) {
      throw errors.precondition(`Instance "${name}" is running; stop it before renaming it`);
    }
    const newHost = hostInstanceName(project, newName);
    const spec = { ...old.spec, name: newName };
    const prev = await resolveRecord(ctx, old);
    const next = resolveDevices(spec, newHost, old.volatile, await ctx.deviceLookups());
    const storage = ctx.storage(prev.pool);
    const rec: InstanceRecord = { ...old, spec, hostName: newHost, meta: touchMeta(old.meta, ctx.clock.now()) };
    await ctx.reverted(`rename instance "${name}"`, async (r) => {
      r.add(`LXC definition of "${old.hostName}"`, () => ctx.drivers.instance.create(prev.runtime, ctx.revertSignal()));
      await ctx.drivers.instance.delete(old.hostName, signal);
      r.add(`volume "containers/${newHost}"`, () =>
        storage.renameVolume(prev.pool, { type: 'container', name: newHost }, old.hostName, ctx.revertSignal()),
      );
      await storage.renameVolume(prev.pool, { type: 'container', name: old.hostName }, newHost, signal);
      for (const nh of prev.networkHosts) {
        r.add(`entry of "${old.hostName}" on network "${nh.network}"`, () =>
          ctx.drivers.network.addHost(nh.network, nh.host, ctx.revertSignal()),
        );
        await ctx.drivers.network.removeHost(nh.network, old.hostName, signal);
      }
      for (const nh of next.networkHosts) {
        r.add(`entry of "${newHost}" on network "${nh.network}"`, () =>
          ctx.drivers.network.removeHost(nh.network, newHost, ctx.revertSignal()),
        );
        await ctx.drivers.network.addHost(nh.network, nh.host, signal);
      }
      r.add(`LXC definition of "${newHost}"`, () => ctx.drivers.instance.delete(newHost, ctx.revertSignal()));
      await ctx.drivers.instance.create(next.runtime, signal);
      await ctx.db.instances.batch(
        [
          { type: 'del', key: instanceKey(project, name) },
          { type: 'put', key: instanceKey(project, newName), value: rec },
        ],
        { sync: true },
      );
    });
    ctx.knownStopped.delete(old.hostName);
    ctx.knownStopped.add(newHost);
    ctx.templates.forget(old.hostName);
    ctx.templates.dropVolume(prev.runtime.volumePath);
    return instanceView(rec, InstanceStatus.Stopped);
  }

  /** The instance's spec and status. */
  async get(ref: InstanceRef, signal: AbortSignal): Promise<InstanceView> {
    const rec = await this.ctx.instance(projectOf(ref.project), ref.name);
    return instanceView(rec, await currentStatus(this.ctx, rec.hostName, signal));
  }

  /** Instances of `project` (empty: all), sorted by project then name. */
  async list(project: string, signal: AbortSignal): Promise<InstanceView[]> {
    const recs: InstanceRecord[] = [];
    for await (const rec of this.ctx.db.instances.values()) {
      if (rec.phase === 'created' && (!project || rec.spec.project === project)) recs.push(rec);
    }
    return Promise.all(recs.map(async (rec) => instanceView(rec, await currentStatus(this.ctx, rec.hostName, signal))));
  }

  /** Live state, with root disk usage and quota from the storage driver. */
  async state(ref: InstanceRef, signal: AbortSignal): Promise<InstanceStateView> {
    const rec = await this.ctx.instance(projectOf(ref.project), ref.name);
    const pool = await this.ctx.pool(rec.pool);
    const [st, usage] = await Promise.all([
      this.ctx.drivers.instance.state(rec.hostName, signal),
      this.ctx.storage(pool.spec).volumeUsage(pool.spec, { type: 'container', name: rec.hostName }, signal),
    ]);
    const disk: Record<string, { usageBytes: number; totalBytes: number }> = {};
    for (const [k, v] of Object.entries(st.disk)) disk[k] = { usageBytes: v.usageBytes, totalBytes: 0 };
    disk['root'] = { usageBytes: usage.usedBytes, totalBytes: usage.quotaBytes };
    return { ...st, disk };
  }

  /** The console log. */
  async consoleLog(ref: InstanceRef, signal: AbortSignal): Promise<string> {
    const rec = await this.ctx.instance(projectOf(ref.project), ref.name);
    return this.ctx.drivers.instance.consoleLog(rec.hostName, signal);
  }

  /** The spec with the agent's volatile keys (what the leader persists). */
  async effectiveSpec(ref: InstanceRef): Promise<InstanceSpec> {
    return effectiveSpec(await this.ctx.instance(projectOf(ref.project), ref.name));
  }

  private async resolveImage(fingerprint: string): Promise<string> {
    try {
      return await this.ctx.drivers.images.resolve(fingerprint);
    } catch (err) {
      if (isShoalError(err, ErrorCode.NotFound)) {
        throw new ShoalError(ErrorCode.NotFound, `Image "${fingerprint}" not found on this member; import it first`, { cause: err });
      }
      throw err;
    }
  }
}
