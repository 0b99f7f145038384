/**
 * The safety oracle: the simulator reports every observable step of every node here, and each
 * report is checked at once against Raft's safety properties (Raft paper figure 3, plus the extras
 * of the test plan). A violation throws SimFailure, which ends the run with the seed and a trace.
 *
 * Checked:
 * - Election Safety: at most one leader per term, ever; a leader holds votes from a majority of
 *   the voters in its configuration (learners' votes never count).
 * - Leader Append-Only: a leader's Readys only extend its log.
 * - Log Matching: equal (index, term) on any two nodes ⇒ equal rolling hash (whole prefix equal).
 * - Leader Completeness: a leader's log holds every entry ever known committed.
 * - State Machine Safety: every node applies the same entry at each index, in order, once
 *   (also across restarts); a snapshot is installed only forward and matches committed entries.
 * - Durability: entries/snapshots and term/vote changes are synced; a granted vote and an append
 *   ack leave only once what they promise is durable; the leader's commit index only covers
 *   entries durable on a majority of its voters.
 * - Per node: term and commit never go back (commit across restarts: not below what was synced);
 *   a node never votes for two candidates in one term; learners never campaign or lead.
 * - Membership: at most one uncommitted ConfChange in a leader's log, and a leader appends one
 *   only after committing an entry of its own term.
 * - ReadIndex: a ReadState's index is >= every index known committed when the read was requested.
 */
import type {
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  RaftRole,
  RaftStatus,
  Ready,
  Snapshot,
} from '../../../../src/raft/index.js';
import { LogTrack } from './log-hash.js';

/** A broken invariant (or a liveness failure): ends the run. */
export class SimFailure extends Error {
  override readonly name = 'SimFailure';
}

interface NodeTrack {
  log: LogTrack;
  maxTerm: number;
  /** Commit index seen in this incarnation. */
  commit: number;
  /** Highest commit in a completed write that survives any crash the run can inflict. */
  durableCommit: number;
  /** Last HardState written (term/vote changes must be synced). */
  persistedHs: HardState;
  /** Durable HardState (synced writes, or all completed writes when only process crashes happen). */
  durableHs: HardState;
  lastApplied: number;
  /** Term in which this node was last seen as leader (its first Ready of that term seen). */
  leaderTerm: number;
  /** The leader's commit index already checked for durability. */
  leaderCommitChecked: number;
  /** Membership before and after the last event (a commit decision used one of them). */
  prevConfState: ConfState;
  confState: ConfState;
  /** maxCommitted when the outstanding Ready was produced (for leader completeness). */
  readyMaxCommitted: number;
  readyWasLeader: boolean;
}

const EMPTY_CONF: ConfState = { voters: [], learners: [] };

export class Observer {
  private readonly nodes = new Map<NodeId, NodeTrack>();
  private readonly leaders = new Map<number, NodeId>();
  private readonly votes = new Map<string, NodeId>();
  /** `${index}:${term}` → rolling hash, from every log write ever seen. */
  private readonly globalH = new Map<string, number>();
  /** index → the entry applied there (by anyone): committed entries. */
  private readonly committed = new Map<number, { term: number; h: number }>();
  private maxCommittedIndex = 0;
  /** index → term of the leader whose commit index first covered it. */
  private readonly commitTermOf = new Map<number, number>();
  /** Counters for run summaries. */
  readonly stats = { leadersElected: 0, applied: 0, snapshotsInstalled: 0, checks: 0 };

  constructor(private readonly powerLoss: boolean) {}

  /** Highest index known committed (applied somewhere). */
  get maxCommitted(): number {
    return this.maxCommittedIndex;
  }

  leaderOf(term: number): NodeId | undefined {
    return this.leaders.get(term);
  }

  /** Registers the bootstrap snapshot every initial member starts from (committed by definition). */
  bootstrapSnapshot(index: number, term: number): void {
    const key = `${index}:${term}`;
    if (this.globalH.has(key)) return;
    this.globalH.set(key, index);
    this.committed.set(index, { term, h: index });
    this.maxCommittedIndex = Math.max(this.maxCommittedIndex, index);
  }

  /** A node came into existence with `hardState` and a log starting at its snapshot. */
  addNode(id: NodeId, hs: HardState, snap: Snapshot, entries: readonly Entry[]): void {
    const log = new LogTrack();
    if (snap.meta.index > 0) log.resetTo(snap.meta.index, snap.meta.term, this.hashOfSnapshot(id, snap));
    this.appendChecked(id, log, entries);
    this.nodes.set(id, {
      log,
      maxTerm: hs.term,
      commit: hs.commit,
      durableCommit: hs.commit,
      persistedHs: hs,
      durableHs: hs,
      lastApplied: snap.meta.index,
      leaderTerm: 0,
      leaderCommitChecked: 0,
      prevConfState: EMPTY_CONF,
      confState: EMPTY_CONF,
      readyMaxCommitted: 0,
      readyWasLeader: false,
    });
  }

  /**
   * After a restart from durable state: commit/term must not go back below what was durable.
   * `applied` is the index the node resumes applying after.
   */
  onRestart(id: NodeId, status: RaftStatus, applied: number): void {
    const t = this.track(id);
    const hs = status.hardState;
    // A term only in memory (its write was lost) may go back: nothing that depends on it was sent.
    if (hs.term < t.durableHs.term) {
      this.fail(id, `term went back from durable ${t.durableHs.term} to ${hs.term} across a restart`);
    }
    if (hs.commit < t.durableCommit) {
      this.fail(id, `commit went back from durable ${t.durableCommit} to ${hs.commit} across a restart`);
    }
    if (hs.term === t.durableHs.term && t.durableHs.vote !== 0 && hs.vote !== t.durableHs.vote) {
      this.fail(id, `vote in term ${hs.term} changed from ${t.durableHs.vote} to ${hs.vote} across a restart`);
    }
    t.maxTerm = hs.term;
    t.commit = hs.commit;
    t.persistedHs = hs;
    t.lastApplied = applied;
    t.leaderTerm = 0;
    t.leaderCommitChecked = hs.commit;
  }

  /**
   * After every event that touched the node. `termAt(i)` gives the term of entry i in the node's
   * whole log (stable and unstable), for i above its snapshot.
   */
  afterStep(id: NodeId, st: RaftStatus, termAt: (i: number) => number): void {
    this.stats.checks++;
    const t = this.track(id);
    const { term, commit } = st.hardState;
    if (term < t.maxTerm) this.fail(id, `term went back from ${t.maxTerm} to ${term}`);
    t.maxTerm = term;
    if (commit < t.commit) this.fail(id, `commit went back from ${t.commit} to ${commit}`);
    t.commit = commit;
    const role = st.softState.role;
    const prevCs = t.confState;
    t.prevConfState = prevCs;
    t.confState = st.confState;
    if (role !== 'Follower' && st.confState.learners.includes(id)) {
      this.fail(id, `learner is ${role} in term ${term}`);
    }
    if (role !== 'Leader') return;
    const prev = this.leaders.get(term);
    if (prev === undefined) {
      this.leaders.set(term, id);
      this.stats.leadersElected++;
      this.checkElectionQuorum(id, term, st.confState);
      // Only what this leader commits itself is checked against its configuration: older entries
      // were committed under the configuration of their time (single-server changes keep any two
      // consecutive configurations' majorities overlapping).
      t.leaderCommitChecked = commit;
    } else if (prev !== id) {
      this.fail(id, `second leader in term ${term} (already ${prev})`);
    }
    if (commit > t.leaderCommitChecked) {
      // Raft §5.4.2 (figure 8): a leader commits only entries of its own term by counting replicas.
      const commitTerm = termAt(commit);
      if (commitTerm !== term)
        this.fail(id, `leader of term ${term} advanced commit to ${commit}, an entry of term ${commitTerm}`);
      this.checkCommitDurable(id, [t.prevConfState, st.confState], t.leaderCommitChecked, commit, termAt);
      for (let i = t.leaderCommitChecked + 1; i <= commit; i++)
        if (!this.commitTermOf.has(i)) this.commitTermOf.set(i, term);
      t.leaderCommitChecked = commit;
    }
  }

  /** A Ready was taken from the node; `role` and `hs` are its state at that moment. */
  onReady(id: NodeId, rd: Ready, role: RaftRole, cur: HardState): void {
    const t = this.track(id);
    const hs = rd.hardState;
    const termOrVote = hs !== undefined && (hs.term !== t.persistedHs.term || hs.vote !== t.persistedHs.vote);
    if (!rd.mustSync && (rd.entries.length > 0 || rd.snapshot !== undefined || termOrVote)) {
      this.fail(id, 'Ready with entries, a snapshot or a term/vote change is not marked mustSync');
    }
    t.readyWasLeader = role === 'Leader';
    t.readyMaxCommitted = this.maxCommittedIndex;
    if (!t.readyWasLeader) return;
    const term = cur.term;
    const first = rd.entries[0];
    if (t.leaderTerm === term && first !== undefined && first.index !== t.log.last + 1) {
      this.fail(
        id,
        `leader of term ${term} rewrote its log: Ready appends at ${first.index}, log ends at ${t.log.last}`,
      );
    }
    t.leaderTerm = term;
    // Membership rules, on the log as it will be once this Ready is persisted.
    const commit = cur.commit;
    const from = first?.index ?? Infinity;
    const ccs = [
      ...t.log.ccIndexes.filter((i) => i < from),
      ...rd.entries.filter((e) => e.type === 'ConfChange').map((e) => e.index),
    ];
    const uncommitted = ccs.filter((i) => i > commit);
    if (uncommitted.length > 1) {
      this.fail(
        id,
        `leader has ${uncommitted.length} uncommitted conf changes (at ${uncommitted.join(', ')}), commit ${commit}`,
      );
    }
    for (const e of rd.entries) {
      if (e.type !== 'ConfChange' || e.term !== term) continue;
      const commitTerm = commit <= t.log.last ? t.log.get(commit)?.term : undefined;
      if (commitTerm !== undefined && commitTerm !== term) {
        this.fail(
          id,
          `leader appended conf change ${e.index} in term ${term} before committing an entry of its term (commit ${commit} has term ${commitTerm})`,
        );
      }
    }
  }

  /** The node's write for its outstanding Ready completed (durable). */
  onPersisted(id: NodeId, rd: Ready, synced: boolean): void {
    const t = this.track(id);
    if (rd.snapshot !== undefined && rd.snapshot.meta.index > t.log.base) {
      const s = rd.snapshot.meta;
      t.log.resetTo(s.index, s.term, this.hashOfSnapshot(id, rd.snapshot));
    }
    this.appendChecked(id, t.log, rd.entries);
    if (rd.hardState !== undefined) {
      // A vote counts once durable: one whose write was lost in a crash never left the node.
      if (rd.hardState.vote !== 0) this.recordVote(rd.hardState.vote, id, rd.hardState.term);
      t.persistedHs = rd.hardState;
      if (synced || !this.powerLoss) {
        t.durableHs = rd.hardState;
        t.durableCommit = Math.max(t.durableCommit, rd.hardState.commit);
      }
    }
    if (t.readyWasLeader && t.readyMaxCommitted > 0) this.checkCompleteness(id, t, t.readyMaxCommitted);
  }

  /** A local snapshot was taken and the log compacted up to `compactIndex`. */
  onCompacted(id: NodeId, compactIndex: number): void {
    this.track(id).log.compactTo(compactIndex);
  }

  /** A message is about to leave the node (after the harness's persist rules). */
  onSend(id: NodeId, m: Message): void {
    const t = this.track(id);
    if (m.to === id) this.fail(id, `message to itself: ${m.type}`);
    if (m.type === 'VoteResp' && !m.reject) {
      this.recordVote(m.to, id, m.term);
      const d = t.durableHs;
      if (!(d.term > m.term || (d.term === m.term && d.vote === m.to))) {
        this.fail(
          id,
          `granted vote to ${m.to} in term ${m.term} before it was durable (durable term ${d.term} vote ${d.vote})`,
        );
      }
    }
    if (m.type === 'AppResp' && !m.reject && m.index > t.log.last) {
      this.fail(id, `acked index ${m.index} to ${m.to} but durable log ends at ${t.log.last}`);
    }
  }

  /** The node applies committed entry `e` (before its state machine sees it). */
  onApply(id: NodeId, e: Entry): void {
    const t = this.track(id);
    if (e.index !== t.lastApplied + 1) {
      this.fail(
        id,
        `applies index ${e.index} after ${t.lastApplied} (${e.index <= t.lastApplied ? 'applied twice' : 'gap'})`,
      );
    }
    const mine = t.log.get(e.index);
    if (mine === undefined || mine.term !== e.term) {
      this.fail(
        id,
        `applies ${e.index}/t${e.term} which is not in its durable log (has ${mine ? `t${mine.term}` : 'nothing'})`,
      );
    }
    const prev = this.committed.get(e.index);
    if (prev === undefined) {
      this.committed.set(e.index, { term: e.term, h: mine!.h });
      if (e.index > this.maxCommittedIndex) this.maxCommittedIndex = e.index;
    } else if (prev.term !== e.term || prev.h !== mine!.h) {
      this.fail(
        id,
        `State Machine Safety: applies ${e.index}/t${e.term} but ${e.index}/t${prev.term} was applied elsewhere (or logs differ before it)`,
      );
    }
    t.lastApplied = e.index;
    this.stats.applied++;
  }

  /** The node installs `snap` into its state machine. */
  onApplySnapshot(id: NodeId, snap: Snapshot): void {
    const t = this.track(id);
    const s = snap.meta;
    if (s.index <= t.lastApplied) this.fail(id, `installs snapshot ${s.index} at or below applied ${t.lastApplied}`);
    const c = this.committed.get(s.index);
    if (c !== undefined && c.term !== s.term) {
      this.fail(id, `installs snapshot ${s.index}/t${s.term} but ${s.index}/t${c.term} was committed`);
    }
    t.lastApplied = s.index;
    this.stats.snapshotsInstalled++;
  }

  /** A ReadState answered a read requested when `maxCommittedAtRequest` was the highest committed index. */
  onReadState(id: NodeId, index: number, maxCommittedAtRequest: number): void {
    if (index < maxCommittedAtRequest) {
      this.fail(id, `ReadIndex ${index} is below ${maxCommittedAtRequest}, committed before the read was requested`);
    }
  }

  /** The latest configuration-independent view of a node's log, for liveness checks. */
  logEnd(id: NodeId): number {
    return this.track(id).log.last;
  }

  private checkElectionQuorum(id: NodeId, term: number, cs: ConfState): void {
    if (!cs.voters.includes(id)) return; // a leader outside its config (being removed) won earlier
    let granted = 0;
    for (const v of cs.voters) if (v === id || this.votes.get(`${v}:${term}`) === id) granted++;
    if (granted <= cs.voters.length / 2) {
      this.fail(id, `leader of term ${term} with votes from ${granted} of voters (${cs.voters.join(' ')})`);
    }
  }

  private checkCommitDurable(
    id: NodeId,
    configs: readonly ConfState[],
    from: number,
    to: number,
    termAt: (i: number) => number,
  ): void {
    // Raft thesis §10.2.1: the leader's own copy need not be durable yet; a majority of voters' must
    // (of the configuration in force before or after the event that moved the commit index).
    for (let i = from + 1; i <= to; i++) {
      const term = termAt(i);
      const counts = configs.map((cs) => {
        let holders = 0;
        for (const v of cs.voters) {
          const t = this.nodes.get(v);
          if (t === undefined) continue;
          const e = t.log.get(i);
          if ((e !== undefined && e.term === term) || (e === undefined && i <= t.log.base)) holders++;
        }
        return { holders, voters: cs.voters };
      });
      if (!counts.some((c) => c.holders > c.voters.length / 2)) {
        const c = counts[counts.length - 1]!;
        this.fail(id, `leader commits ${i}/t${term} durable on only ${c.holders} of voters (${c.voters.join(' ')})`);
      }
    }
  }

  private checkCompleteness(id: NodeId, t: NodeTrack, maxCommitted: number): void {
    // Only entries committed by leaders of earlier terms must be here: a newer leader this one has
    // not heard of may have committed more (even entries of older terms, by committing after them).
    let upTo = maxCommitted;
    while (upTo > t.log.base && (this.commitTermOf.get(upTo) ?? 0) >= t.leaderTerm) upTo--;
    if (upTo <= t.log.base) return; // covered by the snapshot (checked when installed)
    const c = this.committed.get(upTo);
    if (c === undefined) return;
    const mine = t.log.get(upTo);
    if (mine === undefined || mine.h !== c.h) {
      this.fail(
        id,
        `Leader Completeness: leader in term ${t.leaderTerm} lacks committed entry ${upTo}/t${c.term} (its log ends at ${t.log.last})`,
      );
    }
  }

  private appendChecked(id: NodeId, log: LogTrack, entries: readonly Entry[]): void {
    const r = log.append(entries);
    if (!r.ok) this.fail(id, `log write leaves a gap before ${r.gapAt} (log ends at ${log.last})`);
    const from = entries.length - r.hashes.length;
    r.hashes.forEach((h, k) => {
      const e = entries[from + k]!;
      const key = `${e.index}:${e.term}`;
      const g = this.globalH.get(key);
      if (g === undefined) this.globalH.set(key, h);
      else if (g !== h)
        this.fail(id, `Log Matching: entry ${e.index}/t${e.term} differs from another node's (or their prefixes do)`);
    });
  }

  private hashOfSnapshot(id: NodeId, snap: Snapshot): number {
    const { index, term } = snap.meta;
    const h = this.globalH.get(`${index}:${term}`);
    if (h === undefined) this.fail(id, `snapshot at ${index}/t${term} covers an entry no node ever persisted`);
    return h!;
  }

  private recordVote(candidate: NodeId, voter: NodeId, term: number): void {
    const k = `${voter}:${term}`;
    const prev = this.votes.get(k);
    if (prev !== undefined && prev !== candidate) {
      this.fail(voter, `votes for ${candidate} in term ${term} after voting for ${prev}`);
    }
    this.votes.set(k, candidate);
  }

  private track(id: NodeId): NodeTrack {
    const t = this.nodes.get(id);
    if (t === undefined) throw new SimFailure(`observer: unknown node ${id}`);
    return t;
  }

  private fail(id: NodeId, msg: string): never {
    throw new SimFailure(`n${id}: ${msg}`);
  }
}
