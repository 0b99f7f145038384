/**
 * RaftNode: the only async loop of the Raft library. It wires the pure RawNode to durable storage,
 * the state machine, the transport and the clock, and turns proposals and reads into promises.
 *
 * Per Ready, in this order (src/raft/README.md):
 * 1. messages that do not depend on local durability (a leader's App, Heartbeat and Snap) are sent
 *    at once, in parallel with its own disk write (Raft thesis §10.2.1); this is safe because the
 *    core counts the leader's own entries for commit only on advance(), after they are durable;
 * 2. persist: snapshot, entries and hard state in one batch, synced when `mustSync`; committed
 *    entries are applied to the state machine concurrently (the core hands out only entries that are
 *    already durable locally, never this Ready's own), except when a snapshot must be installed
 *    first; ConfChange entries also go to RawNode.applyConfChange;
 * 3. the other messages (votes, append acks, ...) are sent as soon as the write is durable (not
 *    waiting for the apply);
 * 4. proposals are settled as their entries are applied, ReadStates answered once applied ≥ their
 *    index; then advance().
 * Inputs (ticks, messages, proposals) arriving while a Ready is handled are stepped into the core
 * at once and come out together in the next Ready: many proposals share one fsync (group commit).
 *
 * Over 400 lines because the loop, its futures and the membership calls share one piece of state
 * (the outstanding Ready); the bookkeeping lives in pending.ts, bootstrap.ts and snapshot-envelope.ts.
 */
import { ErrorCode, ShoalError, toDisposable, type Clock, type Disposable, type Rng } from '../../shared/index.js';
import { RawNode, decodeConfChange } from '../core/index.js';
import type { DurableLogStorage, RaftLogger, StateMachine, Transport, TransportReport } from '../ports.js';
import {
  ConfChangeType,
  EntryType,
  MessageType,
  NONE,
  RaftRole,
  type ConfChange,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type ProposeResult,
  type RaftStatus,
  type Ready,
  type Snapshot,
  type SoftState,
} from '../types.js';
import { bootstrapStorage, isEmptyStorage, type InitialMember } from './bootstrap.js';
import { ProposalTracker, ReadTracker, decodeReadCtx, encodeReadCtx, type PendingProposal, type PendingRead } from './pending.js';
import { traceNow, type LatencyTrace } from './latency-trace.js';
import { unwrapSnapshotData, wrapSnapshotData } from './snapshot-envelope.js';

/** Options of {@link RaftNode.start}. Ticks are logical; `tickMs` maps them to wall time. */
export interface RaftNodeOptions<R> {
  readonly id: NodeId;
  readonly storage: DurableLogStorage;
  readonly stateMachine: StateMachine<R>;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly logger: RaftLogger;
  /** Milliseconds per tick. Default 100 (etcd's heartbeat interval). */
  readonly tickMs?: number;
  /** Default 1 tick. */
  readonly heartbeatTick?: number;
  /** Default 10 ticks (1 s at 100 ms, etcd's election timeout); randomized in [E, 2E). */
  readonly electionTick?: number;
  /** Take a snapshot every this many applied entries (0 = never). Default 10,000. */
  readonly snapshotEntries?: number;
  /** Log entries kept behind a snapshot so slow followers catch up by log. Default 5,000 (etcd). */
  readonly snapshotTrailing?: number;
  /**
   * How long propose() and readIndex() wait at most (DEADLINE_EXCEEDED; a proposal may still be
   * applied). Default 10 s. Callers with their own deadline pass an AbortSignal as well.
   */
  readonly requestTimeoutMs?: number;
  /** Default 1 MiB. */
  readonly maxSizePerMsg?: number;
  /** Default 256 (etcd's server default). */
  readonly maxInflightMsgs?: number;
  /** Default 0 (no limit). */
  readonly maxUncommittedEntriesSize?: number;
  /** Default 0 (no limit). */
  readonly maxCommittedSizePerReady?: number;
  /** Default true. */
  readonly checkQuorum?: boolean;
  /** Default true. */
  readonly preVote?: boolean;
  /** The initial members of a brand-new cluster: written to storage when it is empty. */
  readonly bootstrap?: readonly InitialMember[];
  /** Addresses of peers known up front (the rest are learned from ConfChange entries and snapshots). */
  readonly peers?: ReadonlyMap<NodeId, string>;
  /** Debug: stage timestamps of sampled indexes along the write path (latency-trace.ts). */
  readonly trace?: LatencyTrace;
}

/** A leadership change seen by this node (`leader` NONE = no leader known). */
export interface LeaderChange {
  readonly leader: NodeId;
  readonly term: number;
  readonly role: RaftRole;
}

/** {@link RaftStatus} plus what the runtime knows. */
export interface RaftNodeStatus extends RaftStatus {
  readonly leaderAddress: string | undefined;
  readonly members: ReadonlyMap<NodeId, string>;
  readonly snapshotIndex: number;
}

const EARLY: ReadonlySet<MessageType> = new Set([MessageType.App, MessageType.Heartbeat, MessageType.Snap]);
const READ_RETRY_TICKS = 5;

/** Error for a proposal whose entry was replaced by another leader's: certainly not applied. */
function superseded(index: number): ShoalError {
  return new ShoalError(ErrorCode.Unavailable, `Proposal at index ${index} was superseded by a new leader`, {
    details: { index },
  });
}

export class RaftNode<R = unknown> {
  private readonly raw: RawNode;
  private readonly proposals = new ProposalTracker<R>();
  private readonly reads = new ReadTracker();
  private readonly leaderListeners = new Set<(c: LeaderChange) => void>();
  private readonly removedListeners = new Set<() => void>();
  private readonly fatalListeners = new Set<(err: unknown) => void>();
  private readonly members = new Map<NodeId, string>();
  private readonly tickMs: number;
  private readonly electionTick: number;
  private readonly snapshotEntries: number;
  private readonly snapshotTrailing: number;
  private readonly requestTimeoutTicks: number;
  /** Ticks since start (for request deadlines). */
  private ticks = 0;
  private soft: SoftState = { lead: NONE, role: RaftRole.Follower };
  private term = 0;
  private commit = 0;
  private applied: number;
  private confState: ConfState;
  /** The configuration at the last snapshot, and the changes applied since (for snapshots). */
  private confBase: { index: number; confState: ConfState };
  private confHistory: { index: number; confState: ConfState }[] = [];
  private snapshotIndex: number;
  private snapshotting = false;
  /** Take a snapshot at the next opportunity, whatever snapshotEntries says (membership grew). */
  private snapshotSoon = false;
  private tickTimer: Disposable | undefined;
  private nextTickAt: number | undefined;
  private scheduled = false;
  private processing: Promise<void> | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private failure: unknown;
  private nextReadId = 1;
  private transfer: { to: NodeId; ticks: number; settle: PendingRead } | undefined;
  /** Proposal outcomes of the Ready being handled, delivered after advance(). */
  private readonly settlements: (() => void)[] = [];

  private constructor(
    private readonly o: RaftNodeOptions<R>,
    initialApplied: number,
  ) {
    this.tickMs = o.tickMs ?? 100;
    this.electionTick = o.electionTick ?? 10;
    this.snapshotEntries = o.snapshotEntries ?? 10_000;
    this.snapshotTrailing = o.snapshotTrailing ?? 5_000;
    this.requestTimeoutTicks = Math.max(1, Math.ceil((o.requestTimeoutMs ?? 10_000) / this.tickMs));
    const snap = o.storage.snapshot();
    this.snapshotIndex = snap.meta.index;
    this.applied = initialApplied;
    this.confState = snap.meta.confState;
    this.confBase = { index: snap.meta.index, confState: snap.meta.confState };
    this.raw = new RawNode({
      id: o.id,
      storage: o.storage,
      applied: initialApplied,
      electionTick: this.electionTick,
      heartbeatTick: o.heartbeatTick ?? 1,
      maxSizePerMsg: o.maxSizePerMsg ?? 1 << 20,
      maxInflightMsgs: o.maxInflightMsgs ?? 256,
      maxUncommittedEntriesSize: o.maxUncommittedEntriesSize ?? 0,
      maxCommittedSizePerReady: o.maxCommittedSizePerReady ?? 0,
      checkQuorum: o.checkQuorum ?? true,
      preVote: o.preVote ?? true,
      rng: o.rng,
      logger: o.logger,
    });
    const hs = o.storage.initialState().hardState;
    this.term = hs.term;
    this.commit = hs.commit;
  }

  /**
   * Opens a node on `storage` (bootstrapping it when empty and `bootstrap` is given), brings the
   * state machine up to the storage's snapshot if it is behind, and starts ticking. Committed
   * entries after the snapshot are re-applied through the state machine, which skips what it has
   * already applied (its applied index is durable with its effects).
   */
  static async start<R>(o: RaftNodeOptions<R>): Promise<RaftNode<R>> {
    if (isEmptyStorage(o.storage) && o.bootstrap && o.bootstrap.length > 0) {
      await bootstrapStorage(o.storage, o.bootstrap);
    }
    const snap = o.storage.snapshot();
    const book = unwrapSnapshotData(snap.data).members;
    if (o.stateMachine.appliedIndex() < snap.meta.index) {
      await o.stateMachine.restore({ meta: snap.meta, data: unwrapSnapshotData(snap.data).data });
    }
    const node = new RaftNode(o, snap.meta.index);
    for (const [id, addr] of o.peers ?? []) node.setMember(id, addr);
    for (const [id, addr] of book) node.setMember(id, addr);
    o.transport.onMessage((m) => node.onMessage(m));
    o.transport.onReport((r) => node.onReport(r));
    node.armTick();
    node.kick();
    return node;
  }

  // ---- Public API ----

  /** This node's id. */
  get id(): NodeId {
    return this.o.id;
  }

  /**
   * Proposes `data` and resolves with the state machine's result once its entry is applied here.
   * Rejects with NOT_LEADER (`details.leaderHint`, 0 if unknown) on a non-leader, UNAVAILABLE
   * (retryable, not applied) when the proposal was dropped or superseded by a new leader, CANCELLED
   * when `signal` aborts first (the entry may still be applied). Safe to call concurrently.
   *
   * On a leader the entry enters the log right before the next Ready is taken (where it would
   * come out anyway), not at once; `abandoned`, when given, is asked then, and true sheds the
   * proposal (CANCELLED with `details.applied: false`): an overloaded leader does not commit work
   * its callers already gave up on (e.g. `() => call.cancelled` for a gRPC call past its deadline),
   * which is what turns overload into a retry storm. A cheap alternative to an AbortSignal.
   */
  propose(data: Uint8Array, signal?: AbortSignal, abandoned?: () => boolean): Promise<R> {
    return this.proposeWith('normal', () => this.raw.propose(data), data, signal, abandoned);
  }

  /**
   * Resolves once a linearizable read is safe here: the leader confirmed its leadership with a
   * quorum after this call, and this node applied up to that read index (ReadIndex, thesis §6.4).
   * Works on followers (the request goes to the leader). Rejects NOT_LEADER when no leader is known.
   */
  readIndex(signal?: AbortSignal): Promise<void> {
    const err = this.unusable();
    if (err) return Promise.reject(err);
    if (this.soft.lead === NONE) return Promise.reject(this.notLeader());
    if (signal?.aborted) return Promise.reject(cancelled('Read'));
    const id = this.nextReadId++;
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.reads.remove(r);
        reject(cancelled('Read'));
      };
      const r: PendingRead = {
        id,
        index: 0,
        ticksWaiting: 0,
        expiresAtTick: this.ticks + this.requestTimeoutTicks,
        resolve,
        reject,
        release: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.reads.add(r);
      this.raw.readIndex(encodeReadCtx(id));
      this.kick();
    });
  }

  /** Adds `id` as a learner reachable at `address`; resolves with the new ConfState when applied. */
  addLearner(id: NodeId, address: string, signal?: AbortSignal): Promise<ConfState> {
    this.setMember(id, address);
    return this.confChange({ type: ConfChangeType.AddLearner, nodeId: id, context: utf8(address) }, signal);
  }

  /**
   * Promotes learner `id` to voter once it has caught up (its match index reached the leader's
   * commit index when asked); resolves with the new ConfState when applied. FAILED_PRECONDITION if
   * `id` is not a learner or has not caught up.
   */
  promote(id: NodeId, signal?: AbortSignal): Promise<ConfState> {
    const st = this.raw.status();
    if (st.softState.role !== RaftRole.Leader) return Promise.reject(this.notLeader());
    const pr = st.progress?.get(id);
    if (!pr || !pr.isLearner) {
      return Promise.reject(new ShoalError(ErrorCode.FailedPrecondition, `Member ${id} is not a learner`));
    }
    if (pr.match < st.hardState.commit) {
      return Promise.reject(
        new ShoalError(ErrorCode.FailedPrecondition, `Learner ${id} has not caught up (${pr.match} of ${st.hardState.commit})`, {
          retryable: true,
        }),
      );
    }
    const address = this.members.get(id) ?? '';
    return this.confChange({ type: ConfChangeType.AddNode, nodeId: id, context: utf8(address) }, signal);
  }

  /** Removes voter or learner `id` (this node too, even as leader); resolves when applied here. */
  removeMember(id: NodeId, signal?: AbortSignal): Promise<ConfState> {
    return this.confChange({ type: ConfChangeType.RemoveNode, nodeId: id, context: new Uint8Array(0) }, signal);
  }

  /**
   * Transfers leadership to `to` and resolves once this node sees `to` as leader. UNAVAILABLE
   * after two election timeouts without it; NOT_LEADER when no leader is known.
   */
  transferLeadership(to: NodeId, signal?: AbortSignal): Promise<void> {
    const err = this.unusable();
    if (err) return Promise.reject(err);
    if (this.soft.lead === to) return Promise.resolve();
    if (this.soft.lead === NONE) return Promise.reject(this.notLeader());
    if (this.transfer) return Promise.reject(new ShoalError(ErrorCode.Aborted, 'A leadership transfer is already in progress'));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.transfer = undefined;
        reject(cancelled('Leadership transfer'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle: PendingRead = {
        id: 0,
        index: 0,
        ticksWaiting: 0,
        expiresAtTick: Infinity,
        resolve,
        reject,
        release: () => signal?.removeEventListener('abort', onAbort),
      };
      this.transfer = { to, ticks: 0, settle };
      this.raw.transferLeader(to);
      this.kick();
    });
  }

  /** A read-only view of this node. */
  status(): RaftNodeStatus {
    const st = this.raw.status();
    return {
      ...st,
      applied: this.applied,
      leaderAddress: st.softState.lead === NONE ? undefined : this.members.get(st.softState.lead),
      members: new Map(this.members),
      snapshotIndex: this.snapshotIndex,
    };
  }

  /** The current term as last handed out by the core (cheap; for response headers). */
  get currentTerm(): number {
    return this.term;
  }

  /** The index applied to the state machine by this node. */
  get appliedIndex(): number {
    return this.applied;
  }

  /** The leader known to this node (NONE if none). */
  get leader(): NodeId {
    return this.soft.lead;
  }

  /** The address of member `id`, if known. */
  addressOf(id: NodeId): string | undefined {
    return this.members.get(id);
  }

  /** Calls `fn` whenever the known leader or this node's role changes. */
  onLeaderChange(fn: (c: LeaderChange) => void): Disposable {
    this.leaderListeners.add(fn);
    return toDisposable(() => this.leaderListeners.delete(fn));
  }

  /** Calls `fn` once this node has applied its own removal from the cluster. */
  onRemoved(fn: () => void): Disposable {
    this.removedListeners.add(fn);
    return toDisposable(() => this.removedListeners.delete(fn));
  }

  /** Calls `fn` when the node stopped on an error it cannot continue after (e.g. a failed disk write). */
  onFatal(fn: (err: unknown) => void): Disposable {
    this.fatalListeners.add(fn);
    return toDisposable(() => this.fatalListeners.delete(fn));
  }

  /**
   * Stops ticking, lets the Ready being handled finish (so what was persisted stays consistent),
   * rejects everything pending with UNAVAILABLE, then closes the transport and the storage.
   * Idempotent; the state machine's database belongs to the caller.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.tickTimer?.dispose();
      await this.processing?.catch(() => undefined);
      this.rejectAll(new ShoalError(ErrorCode.Unavailable, `Raft node ${this.o.id} is closed`));
      await this.o.transport.close();
      await this.o.storage.close();
    })();
    return this.closing;
  }

  // ---- Inputs ----

  private proposeWith(
    kind: 'normal' | 'confChange',
    submit: () => ReturnType<RawNode['propose']>,
    data: Uint8Array,
    signal: AbortSignal | undefined,
    abandoned?: () => boolean,
  ): Promise<R> {
    const err = this.unusable();
    if (err) return Promise.reject(err);
    if (signal?.aborted) return Promise.reject(cancelled('Proposal'));
    const deferred = kind === 'normal' && this.soft.role === RaftRole.Leader;
    if (!deferred) {
      // Keep the log in the order of the calls: what was deferred goes first.
      this.stepDeferred();
      const res = submit();
      if (!res.ok) return Promise.reject(this.refused(res));
    }
    return new Promise<R>((resolve, reject) => {
      const onAbort = (): void => {
        this.proposals.remove(p);
        reject(cancelled('Proposal'));
      };
      const p: PendingProposal<R> = {
        data,
        kind,
        index: 0,
        term: 0,
        expiresAtTick: this.ticks + this.requestTimeoutTicks,
        resolve,
        reject,
        release: () => signal?.removeEventListener('abort', onAbort),
        ...(this.o.trace ? { proposedAt: traceNow() } : {}),
        ...(abandoned ? { abandoned } : {}),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (deferred) this.proposals.defer(p);
      else this.proposals.add(p);
      this.kick();
    });
  }

  /**
   * Hands the deferred proposals to the core in order, shedding those their callers abandoned and
   * refusing those the core refuses (it may have stepped down meanwhile).
   */
  private stepDeferred(): void {
    if (!this.proposals.hasDeferred) return;
    for (const p of this.proposals.takeDeferred()) {
      if (p.abandoned?.()) {
        settleReject(p, new ShoalError(ErrorCode.Cancelled, 'Proposal abandoned by the caller before it entered the log; not applied', { details: { applied: false } }));
        continue;
      }
      const res = this.raw.propose(p.data);
      if (res.ok) this.proposals.add(p);
      else settleReject(p, this.refused(res));
    }
  }

  private refused(res: Exclude<ProposeResult, { ok: true }>): ShoalError {
    if (res.reason === 'NotLeader') return this.notLeader(res.leaderHint);
    return new ShoalError(ErrorCode.Unavailable, `Proposal dropped: ${res.detail}`);
  }

  private confChange(cc: ConfChange, signal: AbortSignal | undefined): Promise<ConfState> {
    return this.proposeWith('confChange', () => this.raw.proposeConfChange(cc), new Uint8Array(0), signal).then(
      () => this.confState,
    );
  }

  private onMessage(m: Message): void {
    if (this.closed) return;
    if (this.o.trace) this.traceMessage(m);
    this.raw.step(m);
    this.kick();
  }

  private onReport(r: TransportReport): void {
    if (this.closed) return;
    if (r.kind === 'unreachable') this.raw.reportUnreachable(r.peer);
    else this.raw.reportSnapshot(r.peer, r.ok);
    this.kick();
  }

  /**
   * Ticks at a fixed rate (like a Go time.Ticker): each timer aims at the next multiple of tickMs
   * since the start, so late timers on a busy machine do not stretch every later tick (which would
   * stretch election timeouts). A tick that is late by more than a period is skipped, not doubled.
   */
  private armTick(): void {
    if (this.closed) return;
    const now = this.o.clock.now();
    this.nextTickAt ??= now + this.tickMs;
    if (this.nextTickAt <= now) this.nextTickAt += Math.ceil((now - this.nextTickAt + 1) / this.tickMs) * this.tickMs;
    this.tickTimer = this.o.clock.setTimer(this.nextTickAt - now, () => {
      this.nextTickAt = (this.nextTickAt ?? this.o.clock.now()) + this.tickMs;
      this.onTick();
      this.armTick();
    });
  }

  private onTick(): void {
    if (this.closed) return;
    this.raw.tick();
    this.ticks++;
    for (const p of this.proposals.takeExpired(this.ticks)) {
      settleReject(p, new ShoalError(ErrorCode.DeadlineExceeded, 'Proposal timed out; it may still be applied', { details: { ambiguous: true } }));
    }
    for (const r of this.reads.takeExpired(this.ticks)) {
      r.release();
      r.reject(new ShoalError(ErrorCode.DeadlineExceeded, 'Read timed out waiting for the leader'));
    }
    // Re-ask for reads the leader has not answered (it may have changed, or dropped them).
    for (const r of this.reads.unanswered()) {
      if (++r.ticksWaiting >= READ_RETRY_TICKS && this.soft.lead !== NONE) {
        r.ticksWaiting = 0;
        this.raw.readIndex(encodeReadCtx(r.id));
      }
    }
    if (this.transfer && ++this.transfer.ticks > 2 * this.electionTick) {
      const t = this.transfer;
      this.transfer = undefined;
      t.settle.release();
      t.settle.reject(new ShoalError(ErrorCode.Unavailable, `Leadership transfer to ${t.to} timed out`));
    }
    this.kick();
  }

  // ---- The loop ----

  /** Schedules Ready processing after the current I/O callbacks, so that they batch into one Ready. */
  private kick(): void {
    if (this.scheduled || this.processing || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.processing || this.closed) return;
      this.stepDeferred();
      if (!this.raw.hasReady()) return;
      this.processing = this.run().finally(() => {
        this.processing = undefined;
        if (this.failure === undefined) this.kick();
      });
    });
  }

  private async run(): Promise<void> {
    try {
      while (!this.closed) {
        this.stepDeferred();
        if (!this.raw.hasReady()) break;
        const batch = this.proposals.takeUnassigned();
        const rd = this.raw.ready();
        await this.handle(rd, batch);
        this.raw.advance();
        for (const fn of this.settlements.splice(0)) fn();
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private async handle(rd: Ready, batch: PendingProposal<R>[]): Promise<void> {
    const late: Message[] = [];
    const early: Message[] = [];
    for (const m of rd.messages) (EARLY.has(m.type) ? early : late).push(m);
    if (early.length > 0) this.o.transport.send(early);

    if (batch.length > 0) {
      const { missing, displaced } = this.proposals.assign(batch, rd.entries);
      for (const p of missing) settleReject(p, new ShoalError(ErrorCode.Unavailable, 'Proposal dropped by a leader change'));
      for (const p of displaced) settleReject(p, superseded(p.index));
      if (this.o.trace) for (const p of batch) if (p.index > 0) this.o.trace.mark('propose', p.index, p.index, p.proposedAt);
    }
    const trace = this.o.trace;
    if (trace) {
      traceRange(trace, 'ready', rd.entries);
      traceRange(trace, 'commitReady', rd.committedEntries);
    }
    if (rd.hardState) {
      this.term = rd.hardState.term;
      this.commit = rd.hardState.commit;
    }

    const persist =
      rd.entries.length > 0 || rd.hardState || rd.snapshot
        ? this.o.storage.persist({
            entries: rd.entries,
            sync: rd.mustSync,
            ...(rd.hardState ? { hardState: rd.hardState } : {}),
            ...(rd.snapshot ? { snapshot: rd.snapshot } : {}),
          })
        : Promise.resolve();
    // Acks and votes leave as soon as what they promise is durable, without waiting for the apply.
    const persisted = persist.then(() => {
      if (trace) traceRange(trace, 'persisted', rd.entries);
      if (late.length > 0) this.o.transport.send(late);
    });
    if (rd.snapshot) {
      await persisted;
      await this.installSnapshot(rd.snapshot);
      await this.apply(rd.committedEntries);
    } else {
      await Promise.all([persisted, this.apply(rd.committedEntries)]);
    }

    if (rd.softState) this.changeSoftState(rd.softState);
    for (const rs of rd.readStates) {
      const id = decodeReadCtx(rs.requestCtx);
      const r = id === undefined ? undefined : this.reads.get(id);
      if (r && r.index === 0) r.index = rs.index;
    }
    this.answerReads();
    this.maybeSnapshot();
  }

  private async apply(entries: readonly Entry[]): Promise<void> {
    if (entries.length === 0) return;
    const results = await this.o.stateMachine.apply(entries);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.type === EntryType.ConfChange) this.applyConfChange(e);
      const p = this.proposals.take(e.index);
      if (!p) continue;
      const result = results[i] as R;
      if (p.term !== e.term) settleReject(p, superseded(e.index));
      else if (p.kind === 'normal') settleResolve(p, result);
      // A ConfChange settles after advance(), so that a caller reacting to it sees the core's
      // applied index moved (a next change is not refused as "unapplied").
      else this.settlements.push(() => settleResolve(p, result));
    }
    this.applied = entries[entries.length - 1]!.index;
    if (this.o.trace) traceRange(this.o.trace, 'applied', entries);
    this.answerReads();
  }

  private applyConfChange(e: Entry): void {
    const cc = decodeConfChange(e.data);
    this.confState = this.raw.applyConfChange(cc);
    this.confHistory.push({ index: e.index, confState: this.confState });
    if (cc.type === ConfChangeType.RemoveNode) {
      this.members.delete(cc.nodeId);
      if (cc.nodeId === this.o.id) {
        this.o.logger.info({ index: e.index }, 'removed from the cluster');
        for (const fn of this.removedListeners) fn();
      } else {
        this.o.transport.removePeer(cc.nodeId);
      }
    } else {
      if (cc.context.byteLength > 0) this.setMember(cc.nodeId, new TextDecoder().decode(cc.context));
      // A new member catches up from the stored snapshot once the log is compacted, and a snapshot
      // taken before its addition does not list it (the member would refuse it): take a new one.
      if (this.snapshotIndex > 0) this.snapshotSoon = true;
    }
    this.o.logger.info({ index: e.index, change: cc.type, peer: cc.nodeId, confState: this.confState }, 'membership changed');
  }

  private async installSnapshot(snap: Snapshot): Promise<void> {
    const { members, data } = unwrapSnapshotData(snap.data);
    await this.o.stateMachine.restore({ meta: snap.meta, data });
    for (const [id, addr] of members) this.setMember(id, addr);
    this.confState = snap.meta.confState;
    this.confBase = { index: snap.meta.index, confState: snap.meta.confState };
    this.confHistory = [];
    this.snapshotIndex = snap.meta.index;
    this.applied = snap.meta.index;
    for (const p of this.proposals.takeUpTo(snap.meta.index)) {
      settleReject(p, new ShoalError(ErrorCode.Unavailable, 'Outcome unknown: a snapshot replaced the log', { details: { ambiguous: true } }));
    }
    this.o.logger.info({ index: snap.meta.index, term: snap.meta.term }, 'installed snapshot');
  }

  private changeSoftState(s: SoftState): void {
    const prev = this.soft;
    this.soft = s;
    if (prev.lead !== s.lead || prev.role !== s.role) {
      this.o.logger.info({ term: this.term, leader: s.lead, role: s.role }, 'leader changed');
      const change: LeaderChange = { leader: s.lead, term: this.term, role: s.role };
      for (const fn of this.leaderListeners) fn(change);
    }
    if (this.transfer && s.lead === this.transfer.to) {
      const t = this.transfer;
      this.transfer = undefined;
      t.settle.release();
      t.settle.resolve();
    }
  }

  private answerReads(): void {
    for (const r of this.reads.takeReady(this.applied)) {
      r.release();
      r.resolve();
    }
  }

  /** Starts a snapshot when enough entries were applied since the last one (runs beside the loop). */
  private maybeSnapshot(): void {
    if (this.snapshotting || this.applied <= this.snapshotIndex) return;
    const due = this.snapshotEntries > 0 && this.applied - this.snapshotIndex >= this.snapshotEntries;
    if (!due && !this.snapshotSoon) return;
    // Not while replaying entries the state machine had already applied before a restart.
    if (this.o.stateMachine.appliedIndex() !== this.applied) return;
    this.snapshotting = true;
    this.snapshotSoon = false;
    const members = new Map(this.members);
    const started = this.o.clock.now();
    const dump = this.o.stateMachine.snapshot();
    void (async () => {
      try {
        const { index, data } = await dump;
        // The dump may be a little ahead of where we asked (applies continue meanwhile): take the
        // membership in force at its index; skip it if that is unknown (older than our history).
        const confState = this.confStateAt(index);
        if (confState === undefined || index > this.applied) {
          this.snapshotSoon = true; // try again after the next Ready
          return;
        }
        const snap = await this.o.storage.createSnapshot(index, confState, wrapSnapshotData(members, data), this.snapshotTrailing);
        this.snapshotIndex = snap.meta.index;
        // Forget changes the new snapshot covers, keeping the one in force at it.
        const atSnap = this.confStateAt(snap.meta.index)!;
        this.confBase = { index: snap.meta.index, confState: atSnap };
        this.confHistory = this.confHistory.filter((c) => c.index > snap.meta.index);
        this.o.logger.info({ index, sizeBytes: data.byteLength, durationMs: this.o.clock.now() - started }, 'created snapshot');
      } catch (err) {
        if (!this.closed) this.fail(err);
      } finally {
        this.snapshotting = false;
      }
    })();
  }

  /** The configuration in force after applying `index`, if this node's history covers it. */
  private confStateAt(index: number): ConfState | undefined {
    let cs: ConfState | undefined = this.confBase.index <= index ? this.confBase.confState : undefined;
    for (const c of this.confHistory) if (c.index <= index) cs = c.confState;
    return cs;
  }

  // ---- Helpers ----

  private tracedAck = 0;

  private traceMessage(m: Message): void {
    const trace = this.o.trace!;
    if (m.type === MessageType.App) traceRange(trace, 'recvApp', m.entries);
    else if (m.type === MessageType.AppResp && !m.reject && m.index > this.tracedAck) {
      trace.mark('recvAck', this.tracedAck + 1, m.index);
      this.tracedAck = m.index;
    }
  }

  private setMember(id: NodeId, address: string): void {
    if (address === '' || this.members.get(id) === address) return;
    this.members.set(id, address);
    if (id !== this.o.id) this.o.transport.setPeer(id, address);
  }

  private notLeader(hint?: NodeId): ShoalError {
    const leaderHint = hint ?? this.soft.lead;
    const leaderAddress = leaderHint === NONE ? undefined : this.members.get(leaderHint);
    return new ShoalError(
      ErrorCode.NotLeader,
      leaderHint === NONE ? `Member ${this.o.id} is not the leader and no leader is known` : `Member ${this.o.id} is not the leader; the leader is ${leaderHint}`,
      { details: { leaderHint, ...(leaderAddress ? { leaderAddress } : {}) } },
    );
  }

  private unusable(): ShoalError | undefined {
    if (this.failure !== undefined) return new ShoalError(ErrorCode.Unavailable, `Raft node ${this.o.id} has failed`, { cause: this.failure, retryable: false });
    if (this.closed) return new ShoalError(ErrorCode.Unavailable, `Raft node ${this.o.id} is closed`);
    return undefined;
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.o.logger.error({ err }, 'raft node failed');
    // Entries already applied keep their results; everything else fails.
    for (const fn of this.settlements.splice(0)) fn();
    this.rejectAll(new ShoalError(ErrorCode.Unavailable, `Raft node ${this.o.id} has failed`, { cause: err, retryable: false }));
    for (const fn of this.fatalListeners) fn(err);
    void this.close().catch(() => undefined);
  }

  private rejectAll(err: ShoalError): void {
    for (const p of this.proposals.takeAll()) settleReject(p, err);
    for (const r of this.reads.takeAll()) {
      r.release();
      r.reject(err);
    }
    if (this.transfer) {
      this.transfer.settle.release();
      this.transfer.settle.reject(err);
      this.transfer = undefined;
    }
  }
}

function traceRange(trace: LatencyTrace, stage: string, entries: readonly Entry[]): void {
  if (entries.length > 0) trace.mark(stage, entries[0]!.index, entries[entries.length - 1]!.index);
}

function settleResolve<R>(p: PendingProposal<R>, value: R): void {
  p.release();
  p.resolve(value);
}

function settleReject(p: PendingProposal<unknown>, err: unknown): void {
  p.release();
  p.reject(err);
}

function cancelled(what: string): ShoalError {
  return new ShoalError(ErrorCode.Cancelled, `${what} abandoned by the caller; it may still take effect`);
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
