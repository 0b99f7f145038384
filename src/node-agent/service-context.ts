/**
 * What every part of the service shares: dependencies, the agent DB, the ledger, the locks and
 * the lookups of local records with LXD-style NOT_FOUND errors. One per AgentService.
 */
import { existsSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import {
  ErrorCode,
  Reverter,
  ShoalError,
  errors,
  type Clock,
  type Logger,
} from '../shared/index.js';
import { allValues, type AgentDb } from './agent-db.js';
import type { DeviceLookups } from './devices.js';
import type { InstanceDriver } from './drivers/instance-driver.js';
import type { NetworkDriver } from './drivers/network-driver.js';
import type { StorageDriver } from './drivers/storage-driver.js';
import type { ImageStore } from './images/image-store.js';
import type { OperationLedger } from './ledger.js';
import { instanceKey, type InstanceRecord, type NetworkRecord, type PoolRecord, type VolumeRecord } from './local-records.js';
import { InstanceTemplates } from './instance-templates.js';
import type { KeyedLock } from './locks.js';
import type { AgentPaths, IdmapRange, PoolSpec } from './types.js';

/** The drivers and stores the service orchestrates. */
export interface AgentServiceDrivers {
  readonly images: ImageStore;
  readonly instance: InstanceDriver;
  readonly network: NetworkDriver;
  /** Storage drivers by LXD driver name (dir, btrfs). */
  readonly storage: Readonly<Record<string, StorageDriver>>;
}

/** Tunables of the service. */
export interface AgentServiceOptions {
  /** Prefix of generated host-side veth names (≤ 7 characters; default "veth"). */
  readonly vethPrefix: string;
  /** Clean shutdown budget of StopInstance when the request gives none. */
  readonly defaultStopTimeoutMs: number;
  /** Budget of each undo step when a failed operation is reverted. */
  readonly revertTimeoutMs: number;
}

export const DEFAULT_SERVICE_OPTIONS: AgentServiceOptions = {
  vethPrefix: 'veth',
  defaultStopTimeoutMs: 30_000,
  revertTimeoutMs: 120_000,
};

/** Shared state of one AgentService. */
export class ServiceContext {
  /**
   * Host names of instances this service itself left stopped (created, or stopped by it) and has
   * not started since. A start of such an instance skips the state probe (an lxc-info) and, right
   * after create, re-adding network entries made moments ago. Only the service starts instances
   * (the driver's autostart runs before any entry is added), so the set is never stale but for
   * an administrator running lxc-start by hand.
   */
  readonly knownStopped = new Set<string>();
  /** Compiled image templates and what was written since create (see instance-templates.ts). */
  readonly templates = new InstanceTemplates();
  /** The pools, networks and volumes tables as last read, with the DB version they were read at. */
  private resources:
    | { readonly version: number; readonly pools: PoolRecord[]; readonly networks: NetworkRecord[]; readonly volumes: VolumeRecord[] }
    | undefined;

  constructor(
    readonly paths: AgentPaths,
    readonly log: Logger,
    readonly clock: Clock,
    readonly db: AgentDb,
    readonly ledger: OperationLedger,
    readonly locks: KeyedLock,
    readonly drivers: AgentServiceDrivers,
    readonly idmap: IdmapRange,
    readonly options: AgentServiceOptions,
  ) {}

  /** The record of a pool; NOT_FOUND `Storage pool "x" not found`. */
  async pool(name: string): Promise<PoolRecord> {
    const rec = await this.db.pools.get(name);
    if (!rec) throw errors.notFound(`Storage pool "${name}" not found`);
    return rec;
  }

  /** The record of a network; NOT_FOUND `Network "x" not found`. */
  async network(name: string): Promise<NetworkRecord> {
    const rec = await this.db.networks.get(name);
    if (!rec) throw errors.notFound(`Network "${name}" not found`);
    return rec;
  }

  /** The record of an instance that exists (phase created); NOT_FOUND otherwise. */
  async instance(project: string, name: string): Promise<InstanceRecord> {
    const rec = await this.db.instances.get(instanceKey(project, name));
    if (!rec || rec.phase !== 'created') throw errors.notFound(`Instance "${name}" not found`);
    return rec;
  }

  /** The storage driver of a pool; INVALID_ARGUMENT for an unknown driver name. */
  storage(pool: PoolSpec | string): StorageDriver {
    const name = typeof pool === 'string' ? pool : pool.driver;
    const drv = this.drivers.storage[name];
    if (!drv) throw errors.invalid(`Unknown storage driver "${name}"`);
    return drv;
  }

  /**
   * A snapshot of the records device resolution needs (taken under the caller's locks). The
   * three tables are read again only after a write to one of them (AgentDb.resourcesVersion).
   */
  async deviceLookups(): Promise<DeviceLookups> {
    const version = this.db.resourcesVersion();
    if (this.resources?.version !== version) {
      const [pools, networks, volumes] = await Promise.all([
        allValues(this.db.pools),
        allValues(this.db.networks),
        allValues(this.db.volumes),
      ]);
      this.resources = { version, pools, networks, volumes };
    }
    const { pools, networks, volumes } = this.resources;
    const poolMap = new Map(pools.map((p) => [p.spec.name, p.spec]));
    const netMap = new Map(networks.map((n) => [n.spec.name, n.spec]));
    const volSet = new Set(volumes.map((v) => `${v.pool}/${v.name}`));
    return {
      pool: (name) => poolMap.get(name),
      network: (name) => netMap.get(name),
      customVolumePath: (pool, name) => {
        const spec = poolMap.get(pool);
        if (!spec || !volSet.has(`${pool}/${name}`)) return undefined;
        return this.storage(spec).volumePath(spec, { type: 'custom', name });
      },
      instanceVolumePath: (pool, hostName) => this.storage(pool).volumePath(pool, { type: 'container', name: hostName }),
      deviceNumbers: (hostPath) => {
        if (!existsSync(hostPath)) return undefined;
        const st = statSync(hostPath);
        if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
        return { major: Math.floor(st.rdev / 256) & 0xfff, minor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) };
      },
      randomHex: (bytes) => randomBytes(bytes).toString('hex'),
      idmap: this.idmap,
      vethPrefix: this.options.vethPrefix,
    };
  }

  /** A fresh signal for undo steps (the request's own signal may be the reason we revert). */
  revertSignal(): AbortSignal {
    return AbortSignal.timeout(this.options.revertTimeoutMs);
  }

  /**
   * Runs multi-step host work under a Reverter (incus `revert`): on failure the undo steps run in
   * reverse; the original error is rethrown, or a RevertIncompleteError saying what remains.
   */
  async reverted<T>(what: string, fn: (r: Reverter) => Promise<T>): Promise<T> {
    const r = new Reverter();
    try {
      const v = await fn(r);
      r.success();
      return v;
    } catch (err) {
      try {
        await r.fail();
      } catch (revertErr) {
        this.log.error({ err: revertErr, cause: err, what }, 'revert incomplete');
        throw revertErr;
      }
      this.log.warn({ err, what }, 'operation failed and was reverted');
      throw err;
    }
  }

  /** Throws UNAVAILABLE when the service is closing. */
  static closing(): ShoalError {
    return new ShoalError(ErrorCode.Unavailable, 'The node agent is shutting down');
  }
}
