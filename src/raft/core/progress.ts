/**
 * Progress: the leader's view of one follower (etcd `tracker.Progress`, design.md "Progress").
 *
 * - Probe: at most one App in flight (`msgAppFlowPaused` set after sending entries) until the
 *   follower answers; heartbeat responses unpause it so probing resumes once per heartbeat.
 * - Replicate: optimistic pipelining, `next` advances on send, bounded by the Inflights window.
 * - Snapshot: a snapshot is on its way; nothing else is sent until it is reported or acked.
 *
 * Invariant: 0 <= match < next.
 */
import { RaftInvariantError } from '../types.js';
import { Inflights } from './inflights.js';

export type ProgressState = 'Probe' | 'Replicate' | 'Snapshot';

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match: number;
  /** Next index to send; (match, next) is in flight. */
  next: number;
  /** Highest commit index in flight to the follower. */
  sentCommit = 0;
  state: ProgressState = 'Probe';
  /** In Snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Set when the follower was heard from since the last check-quorum round. */
  recentActive: boolean;
  /** Sending entries is throttled (probing, or full window) until something unpauses it. */
  msgAppFlowPaused = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(opts: {
    match: number;
    next: number;
    maxInflightMsgs: number;
    maxInflightBytes: number;
    isLearner: boolean;
    recentActive: boolean;
  }) {
    this.match = opts.match;
    this.next = opts.next;
    this.inflights = new Inflights(opts.maxInflightMsgs, opts.maxInflightBytes);
    this.isLearner = opts.isLearner;
    this.recentActive = opts.recentActive;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** Back to probing from match+1 (or from after the snapshot that was just sent). */
  becomeProbe(): void {
    if (this.state === 'Snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('Probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('Probe');
      this.next = this.match + 1;
    }
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
  }

  becomeReplicate(): void {
    this.resetState('Replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('Snapshot');
    this.pendingSnapshot = snapshotIndex;
    this.next = snapshotIndex + 1;
    this.sentCommit = snapshotIndex;
  }

  /** Records an App carrying `entries` entries (`bytes` in total) starting at `next`. */
  sentEntries(entries: number, bytes: number): void {
    switch (this.state) {
      case 'Replicate':
        if (entries > 0) {
          this.next += entries;
          this.inflights.add(this.next - 1, bytes);
        }
        this.msgAppFlowPaused = this.inflights.full();
        return;
      case 'Probe':
        if (entries > 0) this.msgAppFlowPaused = true;
        return;
      case 'Snapshot':
        throw new RaftInvariantError('sending append in Snapshot state');
    }
  }

  /** True when sending commit `index` could move the follower's commit forward. */
  canBumpCommit(index: number): boolean {
    return index > this.sentCommit && this.sentCommit < this.next - 1;
  }

  sentCommitTo(commit: number): void {
    this.sentCommit = commit;
  }

  /** Handles an ack of index `n`; false if it is stale. */
  maybeUpdate(n: number): boolean {
    if (n <= this.match) return false;
    this.match = n;
    this.next = Math.max(this.next, n + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * Handles a rejection of the App whose previous index was `rejected`, with the follower's hint
   * `matchHint`. Returns false for a stale rejection.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'Replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      this.sentCommit = Math.min(this.sentCommit, this.next - 1);
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** True when no entries should be sent right now. */
  isPaused(): boolean {
    return this.state === 'Snapshot' || this.msgAppFlowPaused;
  }

  /** etcd-style one-line description, used in logs and test transcripts. */
  describe(): string {
    let s = `${this.state} match=${this.match} next=${this.next}`;
    if (this.isLearner) s += ' learner';
    if (this.isPaused()) s += ' paused';
    if (this.pendingSnapshot > 0) s += ` pendingSnap=${this.pendingSnapshot}`;
    if (!this.recentActive) s += ' inactive';
    if (this.inflights.count > 0) {
      s += ` inflight=${this.inflights.count}`;
      if (this.inflights.full()) s += '[full]';
    }
    return s;
  }
}
