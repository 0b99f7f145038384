/**
 * Ports: the interfaces raft consumes. The core sees only LogStorage (a synchronous read view)
 * and RaftLogger; the runtime also drives DurableLogStorage, StateMachine and Transport.
 */
import type { ConfState, Entry, HardState, Message, NodeId, Snapshot } from './types.js';

/** pino satisfies this; tests pass a recording logger whose lines become part of transcripts. */
export interface RaftLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  /** Optional (pino has it): lets hot paths skip building the fields of disabled debug logs. */
  isLevelEnabled?(level: string): boolean;
}

/**
 * The core's synchronous read view of the log since the last snapshot (etcd `Storage`).
 * Implementations hold these entries in memory; durable implementations also write them to disk.
 */
export interface LogStorage {
  /** The persisted HardState and ConfState at start-up. */
  initialState(): { hardState: HardState; confState: ConfState };
  /**
   * Entries in [lo, hi), at most `maxSizeBytes` in total but always at least one if any is in range.
   * Throws LogCompactedError when lo <= the snapshot index, LogUnavailableError when hi > lastIndex()+1.
   * The returned array must not be mutated by the caller.
   */
  entries(lo: number, hi: number, maxSizeBytes: number): readonly Entry[];
  /**
   * Term of entry i, for firstIndex()-1 <= i <= lastIndex() (firstIndex()-1 is the snapshot's).
   * Throws LogCompactedError below that range and LogUnavailableError above it.
   */
  term(i: number): number;
  /** Index of the first entry that may be available (snapshot index + 1). */
  firstIndex(): number;
  /** Index of the last entry (the snapshot index when the log is empty). */
  lastIndex(): number;
  /** The most recent snapshot; may throw SnapshotTemporarilyUnavailableError. */
  snapshot(): Snapshot;
}

/**
 * A LogStorage the runtime writes to. `persist` must make everything durable in one atomic,
 * synced write before resolving (LevelDB: one `batch(..., { sync: true })`).
 */
export interface DurableLogStorage extends LogStorage {
  /**
   * Atomically: install `snapshot` (discarding entries it covers), append `entries` (an entry at
   * index i replaces entries >= i), and store `hardState`. Synced to disk before resolving when `sync`.
   */
  persist(update: {
    readonly hardState?: HardState;
    readonly entries: readonly Entry[];
    readonly snapshot?: Snapshot;
    readonly sync: boolean;
  }): Promise<void>;
  /**
   * Records a snapshot of the application state at `index` (which must be applied) and discards
   * log entries up to `index - trailing`, keeping a tail so slow followers can catch up by log.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array, trailing: number): Promise<Snapshot>;
  close(): Promise<void>;
}

/**
 * The replicated application (hashicorp/raft FSM). `apply` receives committed Normal entries in
 * index order, each exactly once across restarts: the state machine stores its applied index in the
 * same atomic write as the effects, and entries at or below `appliedIndex()` are skipped.
 */
export interface StateMachine<R = unknown> {
  /** Applies entries in order; returns one result per entry (empty data = leader no-op → undefined). */
  apply(entries: readonly Entry[]): Promise<readonly R[]>;
  /** The durable applied index (0 when empty). */
  appliedIndex(): number;
  /** A consistent dump of the state at `appliedIndex()`. */
  snapshot(): Promise<{ index: number; data: Uint8Array }>;
  /** Replaces the whole state with `snapshot` atomically (applied index becomes snapshot.meta.index). */
  restore(snapshot: Snapshot): Promise<void>;
}

/**
 * Carries messages between raft nodes. `send` never blocks and never throws for network problems:
 * undeliverable messages are dropped and reported through `onUnreachable` (raft retries).
 */
export interface Transport {
  send(messages: readonly Message[]): void;
  /** Sets the handler for messages arriving for this node. */
  onMessage(handler: (msg: Message) => void): void;
  /** Sets the handler called when a peer cannot be reached or a snapshot send finishes. */
  onReport(handler: (report: TransportReport) => void): void;
  /** Adds or updates a peer's address (membership changes). */
  setPeer(id: NodeId, address: string): void;
  removePeer(id: NodeId): void;
  close(): Promise<void>;
}

export type TransportReport =
  | { readonly kind: 'unreachable'; readonly peer: NodeId }
  | { readonly kind: 'snapshot'; readonly peer: NodeId; readonly ok: boolean };
