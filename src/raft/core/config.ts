/** Configuration of a RawNode. Times are in logical ticks; the runtime maps ticks to wall time. */
import type { LogStorage, RaftLogger } from '../ports.js';
import type { NodeId } from '../types.js';

export interface RaftConfig {
  /** This node's id (> 0). */
  readonly id: NodeId;
  /**
   * Ticks without hearing from a leader before a follower campaigns. The effective timeout is
   * randomized in [electionTick, 2 * electionTick) (etcd). Must exceed heartbeatTick.
   */
  readonly electionTick: number;
  /** Ticks between leader heartbeats. */
  readonly heartbeatTick: number;
  /** The log; its initialState() gives the starting HardState and ConfState. */
  readonly storage: LogStorage;
  /** Last applied index at restart (the state machine's durable applied index); default 0. */
  readonly applied?: number;
  /** Max bytes of entries per App message (at least one entry is always sent). */
  readonly maxSizePerMsg: number;
  /** Max App messages in flight to a follower in the Replicate state (pipelining window). */
  readonly maxInflightMsgs: number;
  /** Max bytes of entries in flight to one follower (0 = no limit). */
  readonly maxInflightBytes?: number;
  /** Proposals are dropped when the uncommitted tail exceeds this many bytes (0 = no limit). */
  readonly maxUncommittedEntriesSize?: number;
  /** Max bytes of committed entries handed out per Ready (0 = no limit). */
  readonly maxCommittedSizePerReady?: number;
  /** Leader steps down when a quorum has not been active for an election timeout. */
  readonly checkQuorum: boolean;
  /** Run a pre-vote round before incrementing the term (thesis §9.6). */
  readonly preVote: boolean;
  /** `Safe` (ReadIndex with a heartbeat quorum round, default) or `LeaseBased` (requires checkQuorum). */
  readonly readOnlyOption?: 'Safe' | 'LeaseBased';
  /** Followers forward proposals to the leader instead of answering NotLeader. Default false. */
  readonly proposalForwarding?: boolean;
  /** Source of randomness for election jitter, uniform in [0, 1). Seeded in tests. */
  readonly rng: () => number;
  readonly logger: RaftLogger;
}
