/**
 * ProgressTracker: the membership in force (voters, learners), one Progress per member, and the
 * votes of the current election (etcd `tracker.ProgressTracker`, without joint consensus).
 */
import type { ConfState, NodeId } from '../types.js';
import { Progress } from './progress.js';
import { VoteResult, committedIndex, voteResult } from './quorum.js';

export class ProgressTracker {
  /** Sorted ascending. */
  voters: readonly NodeId[] = [];
  /** Sorted ascending, disjoint from voters. */
  learners: readonly NodeId[] = [];
  /** One entry per voter and learner; iterate via `ids` for a stable order. */
  progress = new Map<NodeId, Progress>();
  /** All members (voters and learners), sorted ascending. */
  ids: readonly NodeId[] = [];
  votes = new Map<NodeId, boolean>();

  constructor(
    readonly maxInflightMsgs: number,
    readonly maxInflightBytes: number,
  ) {}

  newProgress(next: number, isLearner: boolean): Progress {
    return new Progress({
      match: 0,
      next,
      maxInflightMsgs: this.maxInflightMsgs,
      maxInflightBytes: this.maxInflightBytes,
      isLearner,
      recentActive: true,
    });
  }

  /** Replaces the configuration and progress map (see conf-change.ts). */
  setConfig(voters: readonly NodeId[], learners: readonly NodeId[], progress: Map<NodeId, Progress>): void {
    this.voters = voters;
    this.learners = learners;
    this.progress = progress;
    this.ids = [...voters, ...learners].sort((a, b) => a - b);
  }

  confState(): ConfState {
    return { voters: [...this.voters], learners: [...this.learners] };
  }

  isVoter(id: NodeId): boolean {
    return this.voters.includes(id);
  }

  /** Exactly one voter (which, on a leader, is the leader itself). */
  isSingleton(): boolean {
    return this.voters.length === 1;
  }

  /** Largest index replicated on a majority of voters (by their match index). */
  committed(): number {
    return committedIndex(this.voters, (id) => this.progress.get(id)?.match);
  }

  /** True when a majority of voters was recently active (check-quorum). */
  quorumActive(): boolean {
    const active = new Map<NodeId, boolean>();
    for (const id of this.voters) active.set(id, this.progress.get(id)?.recentActive === true);
    return voteResult(this.voters, active) === VoteResult.Won;
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  /** Records a vote; a voter's first answer in an election is the one that counts. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: voteResult(this.voters, this.votes) };
  }
}
