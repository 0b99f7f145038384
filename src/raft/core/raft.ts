/**
 * Raft: the state shared by all roles and the transitions between them (etcd `raft.go`, split by
 * concern: election.ts, follower.ts, candidate.ts, leader.ts, propose.ts, replication.ts).
 *
 * `step` handles what is common to every role — the term of the incoming message (§5.1), vote
 * requests (§5.2, §5.4.1, pre-vote §9.6, leader stickiness §4.2.3) — and hands the rest to the
 * role's step function. Outgoing messages collect in `msgs`, except those that promise durable
 * state (AppResp, VoteResp, PreVoteResp) which collect in `msgsAfterAppend`: the RawNode releases
 * them only in a Ready, i.e. after what they promise is persisted, and steps the self-addressed
 * ones (the leader's own append ack, a candidate's own vote) in `advance()`.
 */
import type { RaftLogger } from '../ports.js';
import {
  EntryType,
  MessageType,
  NONE,
  RaftInvariantError,
  RaftRole,
  type ConfChange,
  type ConfState,
  type HardState,
  type Message,
  type NodeId,
  type ProposeResult,
  type ReadState,
  type Snapshot,
  type SoftState,
} from '../types.js';
import { stepCandidate, type CampaignType } from './candidate.js';
import { handleVoteRequest, hup, stepTerm } from './election.js';
import type { RaftConfig } from './config.js';
import { applyConfChangeTo, configFromConfState, describeConfState, type NextConfig } from './conf-change.js';
import { stepFollower } from './follower.js';
import { stepLeader } from './leader.js';
import { appendEntries, propose } from './propose.js';
import { RaftLog } from './log.js';
import { makeMessage, type MutableMessage } from './message.js';
import { ReadOnly } from './read-only.js';
import { bcastAppend, maybeCommit, maybeSendAppend } from './replication.js';
import { ProgressTracker } from './tracker.js';

type StepFn = (r: Raft, m: Message) => void;

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  readStates: ReadState[] = [];
  readonly log: RaftLog;
  readonly maxMsgSize: number;
  readonly maxUncommittedSize: number;
  readonly trk: ProgressTracker;
  role: RaftRole = RaftRole.Follower;
  isLearner = false;
  /** Messages to send now (never to self). */
  msgs: Message[] = [];
  /** Messages to send once the unstable state is durable (may be to self). */
  msgsAfterAppend: Message[] = [];
  lead: NodeId = NONE;
  leadTransferee: NodeId = NONE;
  /** Index of the latest conf change in the log, or the last index when the leader took over. */
  pendingConfIndex = 0;
  /** Estimate of the leader's uncommitted payload bytes. */
  uncommittedSize = 0;
  readOnly: ReadOnly;
  /** ReadIndex requests held until the leader commits an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  electionElapsed = 0;
  heartbeatElapsed = 0;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly proposalForwarding: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  randomizedElectionTimeout = 0;
  /** Proposals were appended since the last broadcast (sent when the next Ready is built). */
  pendingBroadcast = false;
  /** ReadIndex requests were queued since the last heartbeat broadcast. */
  pendingReadHeartbeat = false;
  readonly logger: RaftLogger;
  private readonly rng: () => number;
  private stepRole: StepFn = stepFollower;

  constructor(c: RaftConfig) {
    this.id = c.id;
    this.logger = c.logger;
    this.rng = c.rng;
    this.log = new RaftLog(c.storage, c.logger, c.maxCommittedSizePerReady ?? 0);
    this.maxMsgSize = c.maxSizePerMsg;
    this.maxUncommittedSize =
      c.maxUncommittedEntriesSize !== undefined && c.maxUncommittedEntriesSize > 0
        ? c.maxUncommittedEntriesSize
        : Infinity;
    this.trk = new ProgressTracker(c.maxInflightMsgs, c.maxInflightBytes ?? 0);
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.checkQuorum = c.checkQuorum;
    this.preVote = c.preVote;
    this.proposalForwarding = c.proposalForwarding ?? false;
    this.readOnly = new ReadOnly(c.readOnlyOption ?? 'Safe');

    const { hardState, confState } = c.storage.initialState();
    this.switchToConfig(configFromConfState(this.trk, confState, this.log.lastIndex()));
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) this.loadState(hardState);
    const applied = c.applied ?? 0;
    if (applied > 0 && applied < this.log.applied) {
      throw new RaftInvariantError(
        `applied index ${applied} is below the stored snapshot (${this.log.applied}): ` +
          'restore the state machine from storage.snapshot() before starting raft',
      );
    }
    if (applied > 0) {
      if (applied > this.log.committed) {
        // The state machine applied entries whose commit index was not durably recorded (the
        // HardState write may be unsynced). Applied entries were committed, so the commit index
        // can safely catch up — as long as we still have them.
        if (applied > this.log.lastIndex()) {
          throw new RaftInvariantError(`applied index ${applied} is beyond the last log index ${this.log.lastIndex()}`);
        }
        this.logger.warn({ applied, commit: this.log.committed }, 'applied index is ahead of the stored commit index');
        this.log.commitTo(applied);
      }
      this.log.appliedTo(applied, 0);
    }
    this.becomeFollower(this.term, NONE);
    this.logger.info(
      {
        peers: this.trk.voters,
        term: this.term,
        commit: this.log.committed,
        applied: this.log.applied,
        lastIndex: this.log.lastIndex(),
        lastTerm: this.log.lastTerm(),
      },
      'newRaft',
    );
  }

  /** Cheap guard for debug logs on per-message paths (true when the logger cannot tell). */
  debugEnabled(): boolean {
    return this.logger.isLevelEnabled?.('debug') ?? true;
  }

  softState(): SoftState {
    return { lead: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  /**
   * Queues a message. Sets `from`, and `term` for all but Prop/ReadIndex (which are forwarded like
   * local messages) and the vote messages (which carry their term already).
   */
  send(m: MutableMessage): void {
    if (m.from === NONE) m.from = this.id;
    const t = m.type;
    if (
      t === MessageType.Vote ||
      t === MessageType.VoteResp ||
      t === MessageType.PreVote ||
      t === MessageType.PreVoteResp
    ) {
      if (m.term === 0) throw new RaftInvariantError(`term should be set when sending ${t}`);
    } else {
      if (m.term !== 0) throw new RaftInvariantError(`term should not be set when sending ${t} (was ${m.term})`);
      if (t !== MessageType.Prop && t !== MessageType.ReadIndex) m.term = this.term;
    }
    if (t === MessageType.AppResp || t === MessageType.VoteResp || t === MessageType.PreVoteResp) {
      this.msgsAfterAppend.push(m);
    } else {
      if (m.to === this.id) throw new RaftInvariantError(`message should not be self-addressed when sending ${t}`);
      this.msgs.push(m);
    }
  }

  // ---- Role transitions ----

  becomeFollower(term: number, lead: NodeId): void {
    this.stepRole = stepFollower;
    this.reset(term);
    this.lead = lead;
    this.role = RaftRole.Follower;
    this.logger.info({ term: this.term }, 'became follower');
  }

  becomeCandidate(): void {
    if (this.role === RaftRole.Leader) throw new RaftInvariantError('invalid transition [leader -> candidate]');
    this.stepRole = stepCandidate;
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = RaftRole.Candidate;
    this.logger.info({ term: this.term }, 'became candidate');
  }

  becomePreCandidate(): void {
    if (this.role === RaftRole.Leader) throw new RaftInvariantError('invalid transition [leader -> pre-candidate]');
    // No term bump and no vote: pre-candidacy changes only the step function and the state.
    this.stepRole = stepCandidate;
    this.trk.resetVotes();
    this.lead = NONE;
    this.role = RaftRole.PreCandidate;
    this.logger.info({ term: this.term }, 'became pre-candidate');
  }

  becomeLeader(): void {
    if (this.role === RaftRole.Follower) throw new RaftInvariantError('invalid transition [follower -> leader]');
    this.stepRole = stepLeader;
    this.reset(this.term);
    this.lead = this.id;
    this.role = RaftRole.Leader;
    const self = this.trk.progress.get(this.id);
    if (self === undefined) throw new RaftInvariantError(`leader ${this.id} has no progress`);
    self.becomeReplicate();
    self.recentActive = true;
    // Any conf change in our log may be uncommitted: refuse new ones until everything we have is
    // applied, which includes the empty entry of this term (the single-server change fix).
    this.pendingConfIndex = this.log.lastIndex();
    if (!appendEntries(this, [{ type: EntryType.Normal, data: new Uint8Array(0) }])) {
      throw new RaftInvariantError('empty entry was dropped');
    }
    this.logger.info({ term: this.term }, 'became leader');
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const last = this.log.lastIndex();
    const fresh = new Map(this.trk.progress);
    for (const [id, pr] of this.trk.progress) {
      const np = this.trk.newProgress(last + 1, pr.isLearner);
      np.recentActive = false;
      if (id === this.id) np.match = last;
      fresh.set(id, np);
    }
    this.trk.setConfig(this.trk.voters, this.trk.learners, fresh);
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly(this.readOnly.option);
    this.pendingReadIndexMessages = [];
    this.pendingBroadcast = false;
    this.pendingReadHeartbeat = false;
  }

  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.rng() * this.electionTimeout);
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  /** This node may become leader: it is a voter and is not restoring a snapshot. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.log.hasNextOrInProgressSnapshot();
  }

  // ---- Ticks ----

  tick(): void {
    if (this.role === RaftRole.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.hup(this.preVote ? 'PreElection' : 'Election');
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(makeMessage(MessageType.CheckQuorum, NONE, { from: this.id }));
      if (this.role === RaftRole.Leader && this.leadTransferee !== NONE) {
        this.logger.info(
          { term: this.term, transferee: this.leadTransferee },
          'aborted leadership transfer after an election timeout',
        );
        this.abortLeaderTransfer();
      }
    }
    if (this.role !== RaftRole.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(makeMessage(MessageType.Beat, NONE, { from: this.id }));
    }
  }

  // ---- Elections and step ----

  /** Starts an election if this node may (see election.ts). */
  hup(t: CampaignType): void {
    hup(this, t);
  }

  /** Advances the state machine with a message (from the network, or a local one). */
  step(m: Message): void {
    if (!stepTerm(this, m)) return;
    if (m.type === MessageType.Hup) hup(this, this.preVote ? 'PreElection' : 'Election');
    else if (m.type === MessageType.Vote || m.type === MessageType.PreVote) handleVoteRequest(this, m);
    else this.stepRole(this, m);
  }

  // ---- Proposals (propose.ts) ----

  /** A proposal stepped locally (`m.from === id`) or forwarded by a follower. */
  propose(m: Message): ProposeResult {
    return propose(this, m);
  }

  reduceUncommittedSize(s: number): void {
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }

  // ---- Applying ----

  appliedTo(index: number, size: number): void {
    this.log.appliedTo(Math.max(index, this.log.applied), size);
  }

  appliedSnap(snap: Snapshot): void {
    this.log.stableSnapTo(snap.meta.index);
    this.appliedTo(snap.meta.index, 0);
  }

  /** True once the leader has committed an entry of its own term (§5.4.2, §6.4). */
  committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  /** Records (local) or answers (forwarded) a confirmed ReadIndex request. */
  responseToReadIndexReq(req: Message, readIndex: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index: readIndex, requestCtx: req.context });
      return;
    }
    this.send(makeMessage(MessageType.ReadIndexResp, req.from, { index: readIndex, context: req.context }));
  }

  // ---- Configuration ----

  applyConfChange(cc: ConfChange): ConfState {
    return this.switchToConfig(applyConfChangeTo(this.trk, cc, this.log.lastIndex()));
  }

  /** Installs a configuration and reacts to it (leader removal, new members, commit quorum). */
  switchToConfig(cfg: NextConfig): ConfState {
    this.trk.setConfig(cfg.voters, cfg.learners, cfg.progress);
    const cs = this.trk.confState();
    this.logger.info({ config: describeConfState(cs) }, 'switched to configuration');
    const pr = this.trk.progress.get(this.id);
    this.isLearner = pr !== undefined && pr.isLearner;
    if ((pr === undefined || this.isLearner) && this.role === RaftRole.Leader) {
      // Removed (or demoted) while leading: step down so that a member can take over.
      this.logger.info({ term: this.term }, 'stepping down: removed from the configuration');
      this.becomeFollower(this.term, NONE);
      return cs;
    }
    if (this.role !== RaftRole.Leader || cs.voters.length === 0) return cs;
    if (maybeCommit(this)) {
      bcastAppend(this);
    } else {
      // Probe the newly added members right away.
      for (const id of this.trk.ids) if (id !== this.id) maybeSendAppend(this, id, false);
    }
    if (this.leadTransferee !== NONE && !this.trk.isVoter(this.leadTransferee)) {
      this.logger.info({ transferee: this.leadTransferee }, 'aborted leadership transfer: transferee removed');
      this.abortLeaderTransfer();
    }
    return cs;
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.log.committed || hs.commit > this.log.lastIndex()) {
      throw new RaftInvariantError(
        `state.commit ${hs.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`,
      );
    }
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }
}
