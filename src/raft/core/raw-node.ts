/**
 * RawNode: the public face of the pure core (etcd `rawnode.go`). Inputs are `tick`, `step` and the
 * proposal/read/transfer calls; the output is a `Ready`, which the runtime handles in order —
 * persist, send, apply — and then acknowledges with `advance()` (see src/raft/README.md).
 *
 * At most one Ready is outstanding: `hasReady()` is false and `ready()` throws until `advance()`.
 * Inputs (step, tick, propose...) may be fed while a Ready is outstanding; their output waits for
 * the next Ready. What `advance()` does, in this order:
 * 1. steps the self-addressed responses of that Ready: the leader's ack of its own appended
 *    entries (its own match index moves only now, after they are durable — etcd#14370) and a
 *    candidate's own vote (counted only once persisted);
 * 2. marks that Ready's entries/snapshot stable (they leave the unstable tail);
 * 3. marks that Ready's committed entries (or snapshot) applied.
 */
import {
  EntryType,
  MessageType,
  NONE,
  RaftInvariantError,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type PeerProgress,
  type ProposeResult,
  type RaftStatus,
  type Ready,
  type Snapshot,
  type SoftState,
} from '../types.js';
import type { RaftConfig } from './config.js';
import { encodeConfChange } from './conf-change.js';
import { entriesSize, payloadSize } from './log.js';
import { isLocalMessage, isResponseMessage, makeMessage } from './message.js';
import { flushBroadcasts } from './propose.js';
import { Raft } from './raft.js';

/**
 * Committed entries are handed out only once they are in stable storage locally (never from the
 * unstable tail), so `committedEntries` of a Ready never includes that Ready's own `entries`.
 */
const APPLY_UNSTABLE = false;

export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private awaitingAdvance = false;
  /** Work recorded when the outstanding Ready was accepted, done by advance(). */
  private stepsOnAdvance: Message[] = [];
  private stableOnAdvance:
    { raftTerm: number; index: number; term: number; snapshot: Snapshot | undefined } | undefined;
  private appliedOnAdvance: { index: number; size: number; payload: number } | undefined;

  /** Restores from `config.storage.initialState()` and the stored log. Throws on an invalid config. */
  constructor(config: RaftConfig) {
    validateConfig(config);
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /** One logical tick (election, heartbeat and check-quorum timers). */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (a pre-vote round first when enabled). */
  campaign(): void {
    this.raft.step(makeMessage(MessageType.Hup, NONE, { from: this.raft.id }));
  }

  /** Proposes `data` for the log. NotLeader on non-leaders unless proposal forwarding is on. */
  propose(data: Uint8Array): ProposeResult {
    return this.raft.propose(
      makeMessage(MessageType.Prop, NONE, {
        from: this.raft.id,
        entries: [{ term: 0, index: 0, type: EntryType.Normal, data }],
      }),
    );
  }

  /**
   * Proposes a single-server membership change. Refused (ProposalDropped) while another change is
   * unapplied, before the leader committed an entry of its term, or if the change is invalid.
   */
  proposeConfChange(cc: ConfChange): ProposeResult {
    return this.raft.propose(
      makeMessage(MessageType.Prop, NONE, {
        from: this.raft.id,
        entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) }],
      }),
    );
  }

  /**
   * Applies a membership change. Call it when the ConfChange entry is applied (in index order
   * with the other committed entries), before `advance()`. Returns the configuration now in force.
   */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Feeds a message from the network. Local-only types and responses from non-members are ignored. */
  step(msg: Message): void {
    if (isLocalMessage(msg.type)) {
      if (this.raft.debugEnabled())
        this.raft.logger.debug({ type: msg.type, from: msg.from }, 'ignored local message type from the network');
      return;
    }
    if (isResponseMessage(msg.type) && !this.raft.trk.progress.has(msg.from)) {
      if (this.raft.debugEnabled())
        this.raft.logger.debug({ type: msg.type, from: msg.from }, 'ignored response from unknown peer');
      return;
    }
    this.raft.step(msg);
  }

  /** Requests a linearizable read; the answer is a ReadState with `ctx` in a later Ready. */
  readIndex(ctx: Uint8Array): void {
    this.raft.step(makeMessage(MessageType.ReadIndex, NONE, { context: ctx }));
  }

  /** Transfers leadership to `to` (on a follower, the request is forwarded to the leader). */
  transferLeader(to: NodeId): void {
    this.raft.step(makeMessage(MessageType.TransferLeader, NONE, { from: to }));
  }

  /** The transport could not deliver to `id`: the leader stops pipelining to it. */
  reportUnreachable(id: NodeId): void {
    this.raft.step(makeMessage(MessageType.Unreachable, NONE, { from: id }));
  }

  /** The snapshot sent to `id` was delivered (`ok`) or failed. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.step(makeMessage(MessageType.SnapStatus, NONE, { from: id, reject: !ok }));
  }

  /** True when a Ready has work and none is outstanding. */
  hasReady(): boolean {
    if (this.awaitingAdvance) return false;
    const r = this.raft;
    flushBroadcasts(r);
    if (r.msgs.length > 0 || r.msgsAfterAppend.length > 0) return true;
    if (r.log.hasNextUnstableEnts() || r.log.hasNextCommittedEnts(APPLY_UNSTABLE)) return true;
    if (r.readStates.length > 0 || r.log.hasNextUnstableSnapshot()) return true;
    if (r.lead !== this.prevSoftState.lead || r.role !== this.prevSoftState.role) return true;
    const hs = this.prevHardState;
    return r.term !== hs.term || r.vote !== hs.vote || r.log.committed !== hs.commit;
  }

  /** The pending work; must be handled and acknowledged with `advance()` before the next one. */
  ready(): Ready {
    if (this.awaitingAdvance) throw new RaftInvariantError('ready() called again before advance()');
    const r = this.raft;
    flushBroadcasts(r);
    const log = r.log;
    const entries = log.unstable.nextEntries();
    const committedEntries = log.nextCommittedEnts(APPLY_UNSTABLE);
    const messages = r.msgs;
    for (const m of r.msgsAfterAppend) {
      if (m.to === r.id) this.stepsOnAdvance.push(m);
      else messages.push(m);
    }
    const snapshot = log.unstable.nextSnapshot();
    const prevHs = this.prevHardState;
    const termOrVoteChanged = r.term !== prevHs.term || r.vote !== prevHs.vote;
    const rd: { -readonly [K in keyof Ready]: Ready[K] } = {
      readStates: r.readStates,
      entries,
      committedEntries,
      messages,
      mustSync: entries.length > 0 || termOrVoteChanged || snapshot !== undefined,
    };
    if (r.lead !== this.prevSoftState.lead || r.role !== this.prevSoftState.role) {
      rd.softState = Object.freeze(r.softState());
      this.prevSoftState = rd.softState;
    }
    if (termOrVoteChanged || log.committed !== prevHs.commit) {
      rd.hardState = Object.freeze(r.hardState());
      this.prevHardState = rd.hardState;
    }
    if (snapshot !== undefined) rd.snapshot = snapshot;

    // Accept: everything handed out is now the runtime's to persist, send and apply.
    r.readStates = [];
    r.msgs = [];
    r.msgsAfterAppend = [];
    if (log.hasNextOrInProgressUnstableEnts() || snapshot !== undefined) {
      const hasEnts = log.hasNextOrInProgressUnstableEnts();
      this.stableOnAdvance = {
        raftTerm: r.term,
        index: hasEnts ? log.lastIndex() : 0,
        term: hasEnts ? log.lastTerm() : 0,
        snapshot,
      };
    }
    log.acceptUnstable();
    if (committedEntries.length > 0) {
      const last = committedEntries[committedEntries.length - 1]!.index;
      const size = entriesSize(committedEntries);
      log.acceptApplying(last, size, APPLY_UNSTABLE);
      this.appliedOnAdvance = { index: last, size, payload: payloadSize(committedEntries) };
    }
    this.awaitingAdvance = true;
    return Object.freeze(rd);
  }

  /** Acknowledges the outstanding Ready: it is persisted, its messages sent, its entries applied. */
  advance(): void {
    if (!this.awaitingAdvance) throw new RaftInvariantError('advance() called without an outstanding Ready');
    this.awaitingAdvance = false;
    const r = this.raft;
    const steps = this.stepsOnAdvance;
    this.stepsOnAdvance = [];
    for (const m of steps) r.step(m);
    const stable = this.stableOnAdvance;
    if (stable !== undefined) {
      this.stableOnAdvance = undefined;
      // After a term change the unstable tail may have been rewritten by a new leader: only the
      // entries of the same term are known to be the ones that were persisted (etcd's ABA guard).
      if (stable.index > 0 && stable.raftTerm === r.term) r.log.stableTo(stable.index, stable.term);
      if (stable.snapshot !== undefined) r.appliedSnap(stable.snapshot);
    }
    const applied = this.appliedOnAdvance;
    if (applied !== undefined) {
      this.appliedOnAdvance = undefined;
      r.appliedTo(applied.index, applied.size);
      r.reduceUncommittedSize(applied.payload);
    }
  }

  /** A read-only view of this node. */
  status(): RaftStatus {
    const r = this.raft;
    const base = {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.log.applied,
      confState: r.trk.confState(),
      leadTransferee: r.leadTransferee,
    };
    if (r.role !== 'Leader') return base;
    const progress = new Map<NodeId, PeerProgress>();
    for (const id of r.trk.ids) {
      const pr = r.trk.progress.get(id)!;
      progress.set(id, {
        match: pr.match,
        next: pr.next,
        state: pr.state,
        isLearner: pr.isLearner,
        recentActive: pr.recentActive,
      });
    }
    return { ...base, progress };
  }

  /** etcd-style per-peer progress lines (`2: Replicate match=11 next=15 inflight=3`), for tests and debugging. */
  describeProgress(): string[] {
    const r = this.raft;
    return r.trk.ids.map((id) => `${id}: ${r.trk.progress.get(id)!.describe()}`);
  }

  /** The log's entries from `lo` on (stable and unstable), for tests and debugging. */
  logEntries(lo: number): readonly Entry[] {
    return this.raft.log.slice(lo, this.raft.log.lastIndex() + 1, Infinity) ?? [];
  }
}

function validateConfig(c: RaftConfig): void {
  const fail = (msg: string): never => {
    throw new RaftInvariantError(`Invalid raft config: ${msg}`);
  };
  if (!Number.isSafeInteger(c.id) || c.id <= 0) fail('id must be a positive integer');
  if (!(c.heartbeatTick > 0)) fail('heartbeatTick must be greater than 0');
  if (!(c.electionTick > c.heartbeatTick)) fail('electionTick must be greater than heartbeatTick');
  if (!(c.maxInflightMsgs > 0)) fail('maxInflightMsgs must be greater than 0');
  if (!(c.maxSizePerMsg >= 0)) fail('maxSizePerMsg must not be negative');
  const inflightBytes = c.maxInflightBytes ?? 0;
  if (inflightBytes > 0 && inflightBytes < c.maxSizePerMsg) fail('maxInflightBytes must be >= maxSizePerMsg');
  if (c.readOnlyOption === 'LeaseBased' && !c.checkQuorum) {
    fail('checkQuorum must be enabled when readOnlyOption is LeaseBased');
  }
}
