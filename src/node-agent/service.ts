/**
 * The node agent's service: per-operation orchestration over the drivers, split per concern
 * (instances, lifecycle, snapshots, exec/files, storage, networks, images, member). It owns the
 * agent DB (idempotency ledger + local desired state) and recovers the host at open.
 *
 * Concurrency: calls may run concurrently; keyed locks serialize work on the same objects.
 * Lifetime: `open()` → calls (through `run`) → `close()` waits for calls in flight and closes
 * the DB, after which a new service may open the same state dir.
 */
import { mkdir } from 'node:fs/promises';
import { systemClock, type AsyncDisposable, type Clock, type Disposable, type Logger } from '../shared/index.js';
import { openAgentDb, type AgentDb } from './agent-db.js';
import { readHostIdmap } from './drivers/lxc/idmap.js';
import { DEFAULT_LEDGER_LIMITS, OperationLedger, type LedgerLimits } from './ledger.js';
import { KeyedLock } from './locks.js';
import { recover, type RecoveryReport } from './recovery.js';
import { handleInstanceStop } from './stop-events.js';
import {
  DEFAULT_SERVICE_OPTIONS,
  ServiceContext,
  type AgentServiceDrivers,
  type AgentServiceOptions,
} from './service-context.js';
import { ExecFilesService } from './service-exec-files.js';
import { ImageService } from './service-images.js';
import { InstanceService } from './service-instances.js';
import { LifecycleService } from './service-lifecycle.js';
import { MemberService } from './service-member.js';
import { NetworkService } from './service-networks.js';
import { SnapshotService } from './service-snapshots.js';
import { StorageService } from './service-storage.js';
import type { AgentPaths, IdmapRange } from './types.js';

/** Everything {@link AgentService.open} needs. */
export interface AgentServiceConfig {
  readonly paths: AgentPaths;
  readonly log: Logger;
  readonly drivers: AgentServiceDrivers;
  readonly clock?: Clock;
  /** Default: read from /etc/subuid and /etc/subgid. */
  readonly idmap?: IdmapRange;
  readonly options?: Partial<AgentServiceOptions>;
  readonly ledgerLimits?: LedgerLimits;
  /** Run start-up recovery (default true). */
  readonly recover?: boolean;
}

export class AgentService implements AsyncDisposable {
  readonly instances: InstanceService;
  readonly lifecycle: LifecycleService;
  readonly snapshots: SnapshotService;
  readonly execFiles: ExecFilesService;
  readonly storage: StorageService;
  readonly networks: NetworkService;
  readonly images: ImageService;
  readonly member: MemberService;
  /** What start-up recovery did (empty when disabled). */
  recovery: RecoveryReport | undefined;

  private readonly inflight = new Set<Promise<unknown>>();
  private stopWatch: Disposable | undefined;
  /** Aborted by `close()`: background work (stop events) ends with the service. */
  private readonly lifetime = new AbortController();
  private closing: Promise<void> | undefined;

  private constructor(
    readonly ctx: ServiceContext,
    private readonly db: AgentDb,
  ) {
    this.instances = new InstanceService(ctx);
    this.lifecycle = new LifecycleService(ctx);
    this.snapshots = new SnapshotService(ctx, this.lifecycle);
    this.execFiles = new ExecFilesService(ctx);
    this.storage = new StorageService(ctx);
    this.networks = new NetworkService(ctx);
    this.images = new ImageService(ctx);
    this.member = new MemberService(ctx);
  }

  /** Opens the agent DB, prepares the state dir and runs recovery. */
  static async open(config: AgentServiceConfig, signal: AbortSignal = new AbortController().signal): Promise<AgentService> {
    const { paths } = config;
    for (const dir of [paths.stateDir, paths.images, paths.storagePools, paths.containers, paths.networks, paths.logs]) {
      await mkdir(dir, { recursive: true });
    }
    const log = config.log.child({ component: 'node-agent' });
    const clock = config.clock ?? systemClock;
    const idmap = config.idmap ?? (await readHostIdmap());
    const db = await openAgentDb(paths.agentDb);
    const ledger = new OperationLedger(
      { ops: db.ops, byTime: db.opsByTime, batch: db.batch },
      clock,
      log,
      config.ledgerLimits ?? DEFAULT_LEDGER_LIMITS,
    );
    const options = { ...DEFAULT_SERVICE_OPTIONS, ...(config.options ?? {}) };
    const ctx = new ServiceContext(paths, log, clock, db, ledger, new KeyedLock(), config.drivers, idmap, options);
    const service = new AgentService(ctx, db);
    try {
      await ledger.prune();
      // Stops reported from now on (including those made while the agent was down) remove
      // ephemeral instances; subscribe before recovery asks the driver to autostart.
      service.stopWatch = config.drivers.instance.watchStops((e) => {
        service.run(() => handleInstanceStop(ctx, e, service.lifetime.signal)).catch((err: unknown) => {
          // Only when closing: the next start-up recovery removes the stopped ephemeral instance.
          ctx.log.debug({ err, instance: e.hostName }, 'stop event ignored while closing');
        });
      });
      if (config.recover ?? true) service.recovery = await recover(ctx, signal);
    } catch (err) {
      service.stopWatch?.dispose();
      await db.close();
      throw err;
    }
    return service;
  }

  /**
   * Runs one call, tracked so that `close()` waits for it. UNAVAILABLE once closing.
   * The server routes every RPC through here.
   */
  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(ServiceContext.closing());
    const p = fn();
    this.inflight.add(p);
    const forget = (): void => void this.inflight.delete(p);
    p.then(forget, forget);
    return p;
  }

  /** Waits for calls in flight, then closes the DB. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopWatch?.dispose();
      await Promise.allSettled([...this.inflight]);
      this.lifetime.abort();
      await this.db.close();
    })();
    return this.closing;
  }
}
