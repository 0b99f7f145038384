/**
 * The Raft vocabulary shared by the pure core, storage, transport and runtime.
 * Terms and indexes are `number` (asserted safe integers at the codec): a log will not reach 2^53.
 * Names follow etcd-io/raft and the Raft paper; see src/raft/README.md.
 */

/** A raft node id: a positive integer, unique forever within a cluster (never reused). */
export type NodeId = number;
/** 0 means "none" (no leader known, no vote cast). */
export const NONE: NodeId = 0;

export const EntryType = {
  /** Application data (an empty `data` is the leader's no-op). */
  Normal: 'Normal',
  /** A single-server membership change; `data` is an encoded {@link ConfChange}. */
  ConfChange: 'ConfChange',
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** One log entry. Invariant: entries in a log have strictly increasing `index` and non-decreasing `term`. */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

export const ConfChangeType = {
  /** Add a voter, or promote an existing learner to voter. */
  AddNode: 'AddNode',
  /** Add a learner (non-voting member that receives the log). */
  AddLearner: 'AddLearner',
  /** Remove a voter or a learner (may be the leader itself). */
  RemoveNode: 'RemoveNode',
} as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

/** A single-server membership change (Raft thesis §4.1). `context` is opaque to raft (e.g. the member's address). */
export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
  readonly context: Uint8Array;
}

/** The membership in force. Invariant: `voters` and `learners` are disjoint and sorted ascending. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** What must be durable before any message that depends on it is sent (Raft figure 2 "persistent state"). */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: NONE, commit: 0 });

/** Identifies a snapshot: the last index/term it covers and the membership at that index. */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

/** A state-machine snapshot. `data` is opaque to raft; the transport streams it in chunks. */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

export const EMPTY_SNAPSHOT: Snapshot = Object.freeze({
  meta: Object.freeze({ index: 0, term: 0, confState: Object.freeze({ voters: [], learners: [] }) }),
  data: new Uint8Array(0),
});

export const MessageType = {
  // Local messages: never sent on the wire.
  /** Local: start an election (campaign). */
  Hup: 'Hup',
  /** Local: the leader should broadcast heartbeats. */
  Beat: 'Beat',
  /** A proposal; local on the leader, forwarded by followers when forwarding is enabled. */
  Prop: 'Prop',
  /** Local: a peer is unreachable (transport report). */
  Unreachable: 'Unreachable',
  /** Local: result of sending a snapshot (`reject` = failed). */
  SnapStatus: 'SnapStatus',
  /** Local: the leader checks that a quorum was recently active. */
  CheckQuorum: 'CheckQuorum',
  // Wire messages.
  App: 'App',
  AppResp: 'AppResp',
  Vote: 'Vote',
  VoteResp: 'VoteResp',
  PreVote: 'PreVote',
  PreVoteResp: 'PreVoteResp',
  Snap: 'Snap',
  Heartbeat: 'Heartbeat',
  HeartbeatResp: 'HeartbeatResp',
  /** Ask the leader to transfer leadership to `from` (or to the node in `from` of a local request). */
  TransferLeader: 'TransferLeader',
  /** Leader → transferee: campaign now, ignoring the election timer and leases. */
  TimeoutNow: 'TimeoutNow',
  ReadIndex: 'ReadIndex',
  ReadIndexResp: 'ReadIndexResp',
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/**
 * A raft message. Fields not meaningful for a type are 0 / false / empty.
 * `context` carries ReadIndex request contexts and the campaign type of a transfer.
 */
export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** Term of the entry at `index` (App: the previous entry; Vote: the candidate's last entry). */
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  /** On a rejected AppResp: the follower's hint of where the logs may match. */
  readonly rejectHint: number;
  readonly snapshot?: Snapshot;
  readonly context: Uint8Array;
}

export const RaftRole = {
  Follower: 'Follower',
  PreCandidate: 'PreCandidate',
  Candidate: 'Candidate',
  Leader: 'Leader',
} as const;
export type RaftRole = (typeof RaftRole)[keyof typeof RaftRole];

/** Volatile state worth reporting to the application (it need not be persisted). */
export interface SoftState {
  readonly lead: NodeId;
  readonly role: RaftRole;
}

/** A ReadIndex answer: once `applied >= index`, a read for `requestCtx` is linearizable. */
export interface ReadState {
  readonly index: number;
  readonly requestCtx: Uint8Array;
}

/**
 * What the core asks the runtime to do, in this order (etcd's Ready contract):
 * 1. persist `snapshot`, then `entries`, then `hardState` (one synced batch when `mustSync`);
 * 2. send `messages` — only after step 1 is durable;
 * 3. apply `snapshot` and `committedEntries` to the state machine, and answer `readStates`
 *    once applied reaches their index;
 * 4. call `advance()`.
 * A Ready is a frozen value owned by the caller.
 */
export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly readStates: readonly ReadState[];
  /** Entries to append to stable storage; an entry at index i replaces stored entries >= i. */
  readonly entries: readonly Entry[];
  /** A snapshot to persist and apply (received from the leader). */
  readonly snapshot?: Snapshot;
  /** Entries that are committed and durable on a quorum, to apply in order. */
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  /** False when nothing in `hardState`/`entries` needs an fsync (e.g. only the commit index moved). */
  readonly mustSync: boolean;
}

/** Progress of one peer as the leader sees it. */
export interface PeerProgress {
  readonly match: number;
  readonly next: number;
  readonly state: 'Probe' | 'Replicate' | 'Snapshot';
  readonly isLearner: boolean;
  readonly recentActive: boolean;
}

/** A read-only view of a node, for the application and for tests. */
export interface RaftStatus {
  readonly id: NodeId;
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly applied: number;
  readonly confState: ConfState;
  /** Only on the leader. */
  readonly progress?: ReadonlyMap<NodeId, PeerProgress>;
  readonly leadTransferee: NodeId;
}

/** Outcome of a proposal (expected outcomes are values, not exceptions). */
export type ProposeResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'NotLeader'; readonly leaderHint: NodeId }
  | { readonly ok: false; readonly reason: 'ProposalDropped'; readonly detail: string };

/** A broken invariant: the process must stop (etcd panics). Never catch it. */
export class RaftInvariantError extends Error {
  override readonly name = 'RaftInvariantError';
}

/** Storage answers for indexes outside what it holds (expected outcomes for the core). */
export class LogCompactedError extends Error {
  override readonly name = 'LogCompactedError';
  constructor(readonly requested: number) {
    super(`Requested index ${requested} is compacted`);
  }
}
export class LogUnavailableError extends Error {
  override readonly name = 'LogUnavailableError';
  constructor(readonly requested: number) {
    super(`Requested index ${requested} is unavailable`);
  }
}
/** The snapshot is being built; the core retries later. */
export class SnapshotTemporarilyUnavailableError extends Error {
  override readonly name = 'SnapshotTemporarilyUnavailableError';
  constructor() {
    super('Snapshot is temporarily unavailable');
  }
}

/** Size of an entry for flow control and batching limits. */
export function entrySize(e: Entry): number {
  return e.data.byteLength + 24;
}
