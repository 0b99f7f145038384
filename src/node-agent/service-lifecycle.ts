/**
 * Instance power state: start, stop, restart, freeze, unfreeze. Each call is idempotent twice
 * over: by operation id (ledger) and by state (starting a running instance does nothing). The
 * instance driver remembers the last requested power state (for autostart). Stopping an
 * ephemeral instance deletes it.
 */
import { errors } from '../shared/index.js';
import {
  applyInstanceTemplates,
  currentStatus,
  instanceLocks,
  instanceView,
  projectOf,
  removeInstance,
  resolveRecord,
  type InstanceRef,
} from './instance-common.js';
import type { InstanceRecord, InstanceView } from './local-records.js';
import type { ServiceContext } from './service-context.js';
import { InstanceStatus } from './types.js';

/** Options of a stop. */
export interface StopRequest {
  /** Kill at once (LXD `force`). */
  readonly force: boolean;
  /** Clean shutdown budget; 0: the service default. Ignored with `force`. */
  readonly timeoutMs: number;
}

/** The outcome of a stop: the instance, or `deleted` for an ephemeral one. */
export type StopResult = { readonly deleted: false; readonly instance: InstanceView } | { readonly deleted: true };

export class LifecycleService {
  constructor(private readonly ctx: ServiceContext) {}

  /** Starts a stopped instance (start templates first). Running or frozen: returns it as is. */
  start(opId: string, ref: InstanceRef, signal: AbortSignal): Promise<InstanceView> {
    return this.locked(opId, 'StartInstance', ref, {}, (rec) => this.startLocked(rec, signal));
  }

  /** Stops a running (or frozen) instance; deletes it when ephemeral. Stopped: no-op. */
  stop(opId: string, ref: InstanceRef, req: StopRequest, signal: AbortSignal): Promise<StopResult> {
    return this.locked(opId, 'StopInstance', ref, { ...req }, async (rec) => {
      const stopped = await this.stopLocked(rec, req, signal);
      if (stopped.spec.ephemeral) {
        await removeInstance(this.ctx, stopped, signal);
        return { deleted: true };
      }
      return { deleted: false, instance: instanceView(stopped, InstanceStatus.Stopped) };
    });
  }

  /** Stops (an ephemeral instance is kept) then starts. */
  restart(opId: string, ref: InstanceRef, req: StopRequest, signal: AbortSignal): Promise<InstanceView> {
    return this.locked(opId, 'RestartInstance', ref, { ...req }, async (rec) => {
      const stopped = await this.stopLocked(rec, req, signal);
      return this.startLocked(stopped, signal);
    });
  }

  /** Freezes a running instance. Frozen: no-op; stopped: FAILED_PRECONDITION. */
  freeze(opId: string, ref: InstanceRef, signal: AbortSignal): Promise<InstanceView> {
    return this.locked(opId, 'FreezeInstance', ref, {}, async (rec) => {
      const status = await currentStatus(this.ctx, rec.hostName, signal);
      if (status === InstanceStatus.Stopped) throw errors.precondition(`Instance "${rec.spec.name}" is not running`);
      if (status !== InstanceStatus.Frozen) await this.ctx.drivers.instance.freeze(rec.hostName, signal);
      return instanceView(rec, InstanceStatus.Frozen);
    });
  }

  /** Thaws a frozen instance. Running: no-op; stopped: FAILED_PRECONDITION. */
  unfreeze(opId: string, ref: InstanceRef, signal: AbortSignal): Promise<InstanceView> {
    return this.locked(opId, 'UnfreezeInstance', ref, {}, async (rec) => {
      const status = await currentStatus(this.ctx, rec.hostName, signal);
      if (status === InstanceStatus.Stopped) throw errors.precondition(`Instance "${rec.spec.name}" is not running`);
      if (status === InstanceStatus.Frozen) await this.ctx.drivers.instance.unfreeze(rec.hostName, signal);
      return instanceView(rec, InstanceStatus.Running);
    });
  }

  /**
   * Starts an instance whose lock the caller holds: refreshes its network entries (a network may
   * have been re-created), applies `start` templates, starts it and records the power state.
   */
  async startLocked(rec: InstanceRecord, signal: AbortSignal): Promise<InstanceView> {
    const { ctx } = this;
    const known = ctx.knownStopped.has(rec.hostName);
    if (!known) {
      const status = await currentStatus(ctx, rec.hostName, signal);
      if (status !== InstanceStatus.Stopped) return instanceView(rec, status);
    }
    const resolved = await resolveRecord(ctx, rec);
    // Entries may be gone (network re-created, agent restored); not when the service just made them.
    if (!known) for (const nh of resolved.networkHosts) await ctx.drivers.network.addHost(nh.network, nh.host, signal);
    await applyInstanceTemplates(ctx, resolved.runtime, rec.architecture, 'start');
    ctx.knownStopped.delete(rec.hostName);
    ctx.templates.forget(rec.hostName);
    await ctx.drivers.instance.start(rec.hostName, signal);
    ctx.log.info({ instance: rec.spec.name, project: rec.spec.project }, 'instance started');
    return instanceView(rec, InstanceStatus.Running);
  }

  private async stopLocked(rec: InstanceRecord, req: StopRequest, signal: AbortSignal): Promise<InstanceRecord> {
    const { ctx } = this;
    // The driver's stop is idempotent (a stopped instance stays stopped), so no state probe first.
    // LXD: force kills at once; otherwise a clean shutdown within the timeout, or DEADLINE_EXCEEDED.
    const timeoutMs = req.force ? 0 : req.timeoutMs > 0 ? req.timeoutMs : ctx.options.defaultStopTimeoutMs;
    await ctx.drivers.instance.stop(rec.hostName, { force: req.force, timeoutMs }, signal);
    ctx.knownStopped.add(rec.hostName);
    ctx.log.info({ instance: rec.spec.name, project: rec.spec.project, force: req.force }, 'instance stopped');
    return rec;
  }

  private locked<T>(
    opId: string,
    method: string,
    ref: InstanceRef,
    extra: Record<string, boolean | number>,
    fn: (rec: InstanceRecord) => Promise<T>,
  ): Promise<T> {
    const project = projectOf(ref.project);
    return this.ctx.ledger.run(opId, method, { project, name: ref.name, ...extra }, async () => {
      const rec = await this.ctx.instance(project, ref.name);
      return this.ctx.locks.with(instanceLocks(rec.spec), async () => fn(await this.ctx.instance(project, ref.name)));
    });
  }
}
