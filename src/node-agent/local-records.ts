/**
 * What the agent remembers about the host objects it made (stored as JSON in the agent DB), and
 * the views its service returns. Times are epoch milliseconds so that records and ledger results
 * round-trip through JSON unchanged.
 */
import type { ConfigMap, InstanceSpec, InstanceStatus, NetworkSpec, PoolSpec } from './types.js';

/** Local bookkeeping of a record (swarmkit Meta). */
export interface RecordMeta {
  /** Incremented on every change. */
  readonly revision: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A storage pool on this member; `spec.config` is the effective config. */
export interface PoolRecord {
  readonly spec: PoolSpec;
  readonly description: string;
  readonly meta: RecordMeta;
}

/** A managed network on this member; `spec.config` is the effective config. */
export interface NetworkRecord {
  readonly spec: NetworkSpec;
  readonly description: string;
  readonly meta: RecordMeta;
}

/** A custom storage volume. */
export interface VolumeRecord {
  readonly pool: string;
  readonly name: string;
  readonly config: ConfigMap;
  readonly description: string;
  readonly snapshots: readonly string[];
  readonly meta: RecordMeta;
}

/** A snapshot of an instance: the root volume snapshot plus the spec at that time. */
export interface SnapshotRecord {
  readonly name: string;
  readonly spec: InstanceSpec;
  readonly createdAt: number;
}

/**
 * Where an instance is in its life. `creating`/`deleting` are written (synced) before the host
 * work, so that recovery after a crash knows what to roll back or finish.
 */
export type InstancePhase = 'creating' | 'created' | 'deleting';

/** An instance on this member. */
export interface InstanceRecord {
  readonly spec: InstanceSpec;
  /** Volatile keys the agent resolved (hwaddr, host_name, idmap base); merged over spec.config. */
  readonly volatile: ConfigMap;
  readonly description: string;
  readonly pool: string;
  /** Null for an instance created with source none. */
  readonly imageFingerprint: string | null;
  readonly hostName: string;
  readonly phase: InstancePhase;
  /** The image's architecture (LXD `architecture`), for templates. */
  readonly architecture: string;
  readonly snapshots: readonly SnapshotRecord[];
  readonly meta: RecordMeta;
}

/** An instance as the service reports it (Spec / Status). */
export interface InstanceView {
  readonly spec: InstanceSpec;
  readonly description: string;
  readonly status: {
    readonly status: InstanceStatus;
    readonly statusCode: number;
    readonly volatile: ConfigMap;
    readonly storagePool: string;
    readonly imageFingerprint: string;
    readonly hostName: string;
  };
  readonly meta: RecordMeta;
}

/** A pool as the service reports it. */
export interface PoolView {
  readonly spec: PoolSpec;
  readonly description: string;
  readonly usedBy: readonly string[];
  readonly meta: RecordMeta;
}

/** A network as the service reports it. */
export interface NetworkView {
  readonly spec: NetworkSpec;
  readonly description: string;
  readonly usedBy: readonly string[];
  readonly meta: RecordMeta;
}

/** A custom volume as the service reports it. */
export interface VolumeView {
  readonly pool: string;
  readonly name: string;
  readonly config: ConfigMap;
  readonly description: string;
  readonly usedBy: readonly string[];
  readonly snapshots: readonly string[];
  readonly usedBytes: number;
  readonly meta: RecordMeta;
}

/** Capacity and usage of a pool. */
export interface PoolResources {
  readonly name: string;
  readonly driver: string;
  readonly totalBytes: number;
  readonly usedBytes: number;
}

/** A new record's meta. */
export function newMeta(now: number): RecordMeta {
  return { revision: 1, createdAt: now, updatedAt: now };
}

/** The meta after a change. */
export function touchMeta(meta: RecordMeta, now: number): RecordMeta {
  return { revision: meta.revision + 1, createdAt: meta.createdAt, updatedAt: now };
}

/** The DB key of an instance record. */
export function instanceKey(project: string, name: string): string {
  return `${project}/${name}`;
}

/** The DB key of a custom volume record. */
export function volumeKey(pool: string, name: string): string {
  return `${pool}/${name}`;
}
