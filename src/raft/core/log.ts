/**
 * RaftLog: the log as the core sees it (etcd `log.go`) — stable entries in LogStorage followed by
 * the Unstable tail, plus the commit/applying/applied cursors.
 *
 * Invariants: applied <= applying <= committed <= lastIndex(); entries never conflict at or below
 * committed. A violated invariant throws RaftInvariantError.
 */
import type { LogStorage, RaftLogger } from '../ports.js';
import {
  LogCompactedError,
  LogUnavailableError,
  RaftInvariantError,
  entrySize,
  type Entry,
  type Snapshot,
} from '../types.js';
import { Unstable } from './unstable.js';

export class RaftLog {
  readonly unstable: Unstable;
  /** Highest index known durable on a quorum. */
  committed: number;
  /** Highest index handed to the application in a Ready. */
  applying: number;
  /** Highest index the application confirmed applied (via advance). */
  applied: number;
  /** Limit on the bytes of committed entries handed out and not yet applied (Infinity = none). */
  private readonly maxApplyingEntsSize: number;
  private applyingEntsSize = 0;
  private applyingEntsPaused = false;

  constructor(
    readonly storage: LogStorage,
    private readonly logger: RaftLogger,
    maxApplyingEntsSize: number,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applying = first - 1;
    this.applied = first - 1;
    this.maxApplyingEntsSize = maxApplyingEntsSize > 0 ? maxApplyingEntsSize : Infinity;
  }

  describe(): string {
    const u = this.unstable;
    return (
      `committed=${this.committed}, applied=${this.applied}, applying=${this.applying}, ` +
      `unstable.offset=${u.offset}, unstable.offsetInProgress=${u.offsetInProgress}, len(unstable.entries)=${u.entries.length}`
    );
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Term of entry i, or undefined when i is compacted or beyond the log. */
  term(i: number): number | undefined {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    if (i + 1 < this.firstIndex() || i > this.lastIndex()) return undefined;
    try {
      return this.storage.term(i);
    } catch (err) {
      // Storage may have been compacted since firstIndex() was read: an expected race.
      if (err instanceof LogCompactedError || err instanceof LogUnavailableError) return undefined;
      throw err;
    }
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    if (t === undefined) throw new RaftInvariantError(`unexpected error getting the last term at ${this.lastIndex()}`);
    return t;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** True when a log ending at (term, index) is at least as up to date as ours (§5.4.1). */
  isUpToDate(index: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && index >= this.lastIndex());
  }

  /**
   * Follower side of App: if our log matches (prevIndex, prevTerm), append `ents` (truncating a
   * conflicting suffix) and commit up to min(committed, last new index). Returns the last new
   * index, or undefined on a mismatch.
   */
  maybeAppend(prevIndex: number, prevTerm: number, committed: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) {
        throw new RaftInvariantError(`entry ${ci} conflicts with committed entry [committed(${this.committed})]`);
      }
      const offset = prevIndex + 1;
      this.append(ci === offset ? ents : ents.slice(ci - offset));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** Appends entries to the unstable tail (truncating from ents[0].index); returns the last index. */
  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    if (after < this.committed) {
      throw new RaftInvariantError(`after(${after}) is out of range [committed(${this.committed})]`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * Index of the first entry of `ents` that is new or conflicts with our log (same index,
   * different term); 0 when all are already present.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) {
        if (e.index <= this.lastIndex()) {
          this.logger.info(
            { index: e.index, existingTerm: this.term(e.index) ?? 0, conflictingTerm: e.term },
            'found conflict',
          );
        }
        return e.index;
      }
    }
    return 0;
  }

  /**
   * Best guess where our log stops matching another log of which only entry (index, term) is
   * known: the largest i <= index with term(i) <= term, or with an unknown term (then 0 is
   * returned as its term). Used for fast rejection backtracking.
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    for (; index > 0; index--) {
      const ours = this.term(index);
      if (ours === undefined) return [index, 0];
      if (ours <= term) return [index, ours];
    }
    return [0, 0];
  }

  hasNextUnstableEnts(): boolean {
    return this.unstable.hasNextEntries();
  }

  hasNextOrInProgressUnstableEnts(): boolean {
    return this.unstable.entries.length > 0;
  }

  hasNextUnstableSnapshot(): boolean {
    return this.unstable.nextSnapshot() !== undefined;
  }

  hasNextOrInProgressSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  /** The highest committed index that may be handed out for applying. */
  private maxAppliableIndex(allowUnstable: boolean): number {
    return allowUnstable ? this.committed : Math.min(this.committed, this.unstable.offset - 1);
  }

  hasNextCommittedEnts(allowUnstable: boolean): boolean {
    if (this.applyingEntsPaused || this.hasNextOrInProgressSnapshot()) return false;
    return this.applying < this.maxAppliableIndex(allowUnstable);
  }

  /** Committed entries not yet handed out for applying, within the applying-size budget. */
  nextCommittedEnts(allowUnstable: boolean): readonly Entry[] {
    if (this.applyingEntsPaused || this.hasNextOrInProgressSnapshot()) return [];
    const lo = this.applying + 1;
    const hi = this.maxAppliableIndex(allowUnstable) + 1;
    if (lo >= hi) return [];
    const maxSize = this.maxApplyingEntsSize - this.applyingEntsSize;
    if (maxSize <= 0) throw new RaftInvariantError(`applying entry size budget exhausted (${maxSize})`);
    const ents = this.slice(lo, hi, maxSize);
    if (ents === undefined) throw new RaftInvariantError(`unapplied entries [${lo}, ${hi}) are compacted`);
    return ents;
  }

  /** The snapshot to send to a follower; may throw SnapshotTemporarilyUnavailableError. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(toCommit: number): void {
    if (this.committed >= toCommit) return;
    if (this.lastIndex() < toCommit) {
      throw new RaftInvariantError(
        `tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`,
      );
    }
    this.committed = toCommit;
  }

  /** The application applied everything up to `i` (`size` bytes of entries were handed out). */
  appliedTo(i: number, size: number): void {
    if (this.committed < i || i < this.applied) {
      throw new RaftInvariantError(
        `applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`,
      );
    }
    this.applied = i;
    this.applying = Math.max(this.applying, i);
    this.applyingEntsSize = this.applyingEntsSize > size ? this.applyingEntsSize - size : 0;
    this.applyingEntsPaused = this.applyingEntsSize >= this.maxApplyingEntsSize;
  }

  /** Committed entries up to `i` (`size` bytes) were handed out in a Ready. */
  acceptApplying(i: number, size: number, allowUnstable: boolean): void {
    if (this.committed < i) {
      throw new RaftInvariantError(
        `applying(${i}) is out of range [prevApplying(${this.applying}), committed(${this.committed})]`,
      );
    }
    this.applying = i;
    this.applyingEntsSize += size;
    this.applyingEntsPaused =
      this.applyingEntsSize >= this.maxApplyingEntsSize || i < this.maxAppliableIndex(allowUnstable);
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  acceptUnstable(): void {
    this.unstable.acceptInProgress();
  }

  /** Leader side: commit (index) if it is an entry of `term` (the leader's term, figure 8). */
  maybeCommit(index: number, term: number): boolean {
    if (term !== 0 && index > this.committed && this.matchTerm(index, term)) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  /** Replaces the log with a snapshot received from the leader. */
  restore(s: Snapshot): void {
    this.logger.info(
      { log: this.describe(), index: s.meta.index, term: s.meta.term },
      'log starts to restore snapshot',
    );
    this.committed = s.meta.index;
    this.unstable.restore(s);
  }

  /** Entries from i to the end, at most maxSize bytes (at least one); undefined if compacted. */
  entries(i: number, maxSize: number): readonly Entry[] | undefined {
    const last = this.lastIndex();
    if (i > last) return [];
    return this.slice(i, last + 1, maxSize);
  }

  /** Calls `visit` with consecutive pages of [lo, hi); stops early when it returns true. */
  scan(lo: number, hi: number, pageSize: number, visit: (ents: readonly Entry[]) => boolean): void {
    while (lo < hi) {
      const ents = this.slice(lo, hi, pageSize);
      if (ents === undefined) throw new RaftInvariantError(`scan of [${lo}, ${hi}) hit a compacted index`);
      if (ents.length === 0) throw new RaftInvariantError(`got 0 entries in [${lo}, ${hi})`);
      if (visit(ents)) return;
      lo += ents.length;
    }
  }

  /**
   * Entries in [lo, hi), at most maxSize bytes but at least one; undefined when lo is compacted.
   * Throws RaftInvariantError when hi is beyond the log.
   */
  slice(lo: number, hi: number, maxSize: number): readonly Entry[] | undefined {
    if (lo > hi) throw new RaftInvariantError(`invalid slice ${lo} > ${hi}`);
    const first = this.firstIndex();
    if (lo < first) return undefined;
    const last = this.lastIndex();
    if (hi > last + 1) throw new RaftInvariantError(`slice[${lo},${hi}) out of bound [${first},${last}]`);
    if (lo === hi) return [];
    const uOffset = this.unstable.offset;
    if (lo >= uOffset) return this.unstableSlice(lo, hi, maxSize);

    const cut = Math.min(hi, uOffset);
    let stored: readonly Entry[];
    try {
      stored = this.storage.entries(lo, cut, maxSize);
    } catch (err) {
      if (err instanceof LogCompactedError) return undefined;
      if (err instanceof LogUnavailableError) {
        throw new RaftInvariantError(`entries[${lo}:${cut}) is unavailable from storage`);
      }
      throw err;
    }
    if (hi <= uOffset || stored.length < cut - lo) return stored;
    let size = 0;
    for (const e of stored) size += entrySize(e);
    if (size >= maxSize) return stored;
    const tail = this.unstableSlice(uOffset, hi, maxSize - size);
    if (tail.length === 1 && size + entrySize(tail[0]!) > maxSize) return stored;
    return stored.concat(tail);
  }

  /** Unstable entries in [lo, hi) limited to maxSize bytes (at least one), copied once. */
  private unstableSlice(lo: number, hi: number, maxSize: number): Entry[] {
    const u = this.unstable;
    if (lo < u.offset || hi > u.offset + u.entries.length) return u.slice(lo, hi); // throws
    const from = lo - u.offset;
    const to = hi - u.offset;
    let end = from + 1;
    if (maxSize !== Infinity && to - from > 1) {
      let size = entrySize(u.entries[from]!);
      for (; end < to; end++) {
        size += entrySize(u.entries[end]!);
        if (size > maxSize) break;
      }
    } else {
      end = to;
    }
    return u.entries.slice(from, end);
  }
}

/** The longest prefix of `ents` within maxSize bytes, and at least one entry. */
export function limitSize<T extends readonly Entry[]>(ents: T, maxSize: number): T {
  if (ents.length <= 1 || maxSize === Infinity) return ents;
  let size = entrySize(ents[0]!);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n]!);
    if (size > maxSize) break;
  }
  return n === ents.length ? ents : (ents.slice(0, n) as unknown as T);
}

/** Sum of entrySize over `ents`. */
export function entriesSize(ents: readonly Entry[]): number {
  let s = 0;
  for (const e of ents) s += entrySize(e);
  return s;
}

/** Sum of payload bytes over `ents` (the unit of the uncommitted and in-flight limits). */
export function payloadSize(ents: readonly Entry[]): number {
  let s = 0;
  for (const e of ents) s += e.data.byteLength;
  return s;
}
