/**
 * The agent's local database (classic-level at `AgentPaths.agentDb`): the operation ledger and
 * this member's local desired state (pools, networks, instances, custom volumes), so that the
 * agent recovers on its own at start. The Raft-replicated cluster state stays the source of truth
 * for users; this is what the host was asked to be, as last applied here.
 */
import { ClassicLevel } from 'classic-level';
import { ShoalError, ErrorCode, type AsyncDisposable } from '../shared/index.js';
import type { OperationRecord } from './ledger.js';
import type { InstanceRecord, NetworkRecord, PoolRecord, VolumeRecord } from './local-records.js';

/** One batch operation on a {@link KvTable}. */
export type KvBatchOp<V> = { readonly type: 'put'; readonly key: string; readonly value: V } | { readonly type: 'del'; readonly key: string };

/** The slice of a LevelDB sublevel the agent uses (values JSON-encoded). */
export interface KvTable<V> {
  get(key: string): Promise<V | undefined>;
  put(key: string, value: V, options?: { readonly sync?: boolean }): Promise<void>;
  del(key: string, options?: { readonly sync?: boolean }): Promise<void>;
  batch(ops: Array<KvBatchOp<V>>, options?: { readonly sync?: boolean }): Promise<void>;
  iterator(): AsyncIterable<[string, V]>;
  /** Iterable one by one, or read whole with `all()` (one native call). */
  values(): AsyncIterable<V> & { all(): Promise<V[]> };
}

/** One put or delete of a batch across tables ({@link AgentDb.batch}); made by {@link putOp}/{@link delOp}. */
export interface DbOp {
  readonly type: 'put' | 'del';
  readonly table: KvTable<unknown>;
  readonly key: string;
  readonly value?: unknown;
}

/** A put of `value` at `key` in `table`, for {@link AgentDb.batch}. */
export function putOp<V>(table: KvTable<V>, key: string, value: V): DbOp {
  return { type: 'put', table: table as KvTable<unknown>, key, value };
}

/** A delete of `key` in `table`, for {@link AgentDb.batch}. */
export function delOp<V>(table: KvTable<V>, key: string): DbOp {
  return { type: 'del', table: table as KvTable<unknown>, key };
}

/** Writes several tables' changes atomically (one LevelDB batch; with `sync`, one fsync). */
export type DbBatch = (ops: readonly DbOp[], options?: { readonly sync?: boolean }) => Promise<void>;

/** The opened database and its tables. */
export interface AgentDb extends AsyncDisposable {
  /** Tables of this DB only. */
  readonly batch: DbBatch;
  /**
   * Changes whenever a write to `pools`, `networks` or `volumes` starts or ends (through any
   * method), so a cache of them filled under version v is current while the version is still v.
   */
  resourcesVersion(): number;
  readonly ops: KvTable<OperationRecord>;
  readonly opsByTime: KvTable<string>;
  readonly pools: KvTable<PoolRecord>;
  readonly networks: KvTable<NetworkRecord>;
  /** Keyed `<project>/<name>`. */
  readonly instances: KvTable<InstanceRecord>;
  /** Keyed `<pool>/<name>`. */
  readonly volumes: KvTable<VolumeRecord>;
}

/**
 * Opens (creating if needed) the agent DB. Fails with UNAVAILABLE when another process holds it
 * (LevelDB's lock): one agent per state dir.
 */
export async function openAgentDb(path: string): Promise<AgentDb> {
  const db = new ClassicLevel<string, unknown>(path, { valueEncoding: 'json' });
  try {
    await db.open();
  } catch (err) {
    throw new ShoalError(ErrorCode.Unavailable, `Failed opening agent database "${path}"`, { cause: err });
  }
  const table = <V>(name: string): KvTable<V> =>
    db.sublevel<string, V>(name, { valueEncoding: 'json' }) as unknown as KvTable<V>;
  type Sublevel = ReturnType<typeof db.sublevel<string, unknown>>;
  let version = 0;
  const watched = new Set<KvTable<unknown>>();
  const watch = <V>(t: KvTable<V>): KvTable<V> => {
    const target = t as unknown as Record<'put' | 'del' | 'batch', (...args: unknown[]) => Promise<void>>;
    for (const m of ['put', 'del', 'batch'] as const) {
      const orig = target[m].bind(t);
      target[m] = async (...args: unknown[]): Promise<void> => {
        version++;
        try {
          await orig(...args);
        } finally {
          version++;
        }
      };
    }
    watched.add(t as KvTable<unknown>);
    return t;
  };
  const batch: DbBatch = async (ops, options = {}) => {
    if (ops.length === 0) return;
    const touches = ops.some((o) => watched.has(o.table));
    if (touches) version++;
    try {
      await write(ops, options);
    } finally {
      if (touches) version++;
    }
  };
  const write: DbBatch = async (ops, options = {}) => {
    await db.batch(
      ops.map((o) =>
        o.type === 'put'
          ? { type: 'put' as const, sublevel: o.table as unknown as Sublevel, key: o.key, value: o.value }
          : { type: 'del' as const, sublevel: o.table as unknown as Sublevel, key: o.key },
      ),
      { sync: options.sync ?? false },
    );
  };
  return {
    batch,
    resourcesVersion: () => version,
    ops: table<OperationRecord>('ops'),
    opsByTime: table<string>('ops-by-time'),
    pools: watch(table<PoolRecord>('pools')),
    networks: watch(table<NetworkRecord>('networks')),
    instances: table<InstanceRecord>('instances'),
    volumes: watch(table<VolumeRecord>('volumes')),
    close: () => db.close(),
  };
}

/** All values of a table. */
export function allValues<V>(table: KvTable<V>): Promise<V[]> {
  return table.values().all();
}
