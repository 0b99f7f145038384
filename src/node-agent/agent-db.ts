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
  values(): AsyncIterable<V>;
}

/** The opened database and its tables. */
export interface AgentDb extends AsyncDisposable {
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
  return {
    ops: table<OperationRecord>('ops'),
    opsByTime: table<string>('ops-by-time'),
    pools: table<PoolRecord>('pools'),
    networks: table<NetworkRecord>('networks'),
    instances: table<InstanceRecord>('instances'),
    volumes: table<VolumeRecord>('volumes'),
    close: () => db.close(),
  };
}

/** All values of a table. */
export async function allValues<V>(table: KvTable<V>): Promise<V[]> {
  const out: V[] = [];
  for await (const v of table.values()) out.push(v);
  return out;
}
