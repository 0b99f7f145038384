/**
 * Unstable: log entries and an incoming snapshot not yet known to be in stable storage (etcd
 * `log_unstable.go`). It hands them to a Ready for persistence (`nextEntries`, `acceptInProgress`)
 * and keeps them visible to the log until the runtime's `advance()` confirms they are durable
 * (`stableTo`, `stableSnapTo`).
 *
 * entries[i] has index offset + i. offset may be below storage's last index: the next write then
 * truncates the stored log first.
 */
import { RaftInvariantError, type Entry, type Snapshot } from '../types.js';

export class Unstable {
  snapshot: Snapshot | undefined = undefined;
  /** The snapshot was handed to a Ready and is being persisted. */
  snapshotInProgress = false;
  entries: Entry[] = [];
  offset: number;
  /** entries below this index were handed to a Ready and are being persisted (exclusive bound). */
  offsetInProgress: number;

  constructor(offset: number) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  /** First index if a snapshot is pending (snapshot index + 1). */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.meta.index + 1;
  }

  /** Last index if there are unstable entries or a snapshot. */
  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === undefined ? undefined : this.snapshot.meta.index;
  }

  /** Term of entry i if the unstable part knows it. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.meta.index === i) return this.snapshot.meta.term;
      return undefined;
    }
    const k = i - this.offset;
    return k < this.entries.length ? this.entries[k]!.term : undefined;
  }

  /** Entries not yet handed to a Ready (a fresh array). */
  nextEntries(): Entry[] {
    const inProgress = this.offsetInProgress - this.offset;
    if (this.entries.length === inProgress) return [];
    return this.entries.slice(inProgress);
  }

  hasNextEntries(): boolean {
    return this.entries.length > this.offsetInProgress - this.offset;
  }

  /** The snapshot if it was not yet handed to a Ready. */
  nextSnapshot(): Snapshot | undefined {
    return this.snapshot === undefined || this.snapshotInProgress ? undefined : this.snapshot;
  }

  /** Marks everything current as handed to a Ready. */
  acceptInProgress(): void {
    if (this.entries.length > 0) this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot !== undefined) this.snapshotInProgress = true;
  }

  /**
   * Entries up to (index, term) are durable: drop them, unless the entry there was replaced in the
   * meantime (then the durable write is of a log that no longer exists and nothing is dropped).
   */
  stableTo(index: number, term: number): void {
    if (index < this.offset) return;
    const k = index - this.offset;
    if (k >= this.entries.length || this.entries[k]!.term !== term) return;
    const num = k + 1;
    this.entries = num === this.entries.length ? [] : this.entries.slice(num);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  /** The snapshot at `index` is durable. */
  stableSnapTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.meta.index === index) {
      this.snapshot = undefined;
      this.snapshotInProgress = false;
    }
  }

  /** Replaces everything with `snap` (a snapshot received from the leader). */
  restore(snap: Snapshot): void {
    this.offset = snap.meta.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = snap;
    this.snapshotInProgress = false;
  }

  /** Appends `ents` (consecutive), truncating any unstable entries at or after ents[0].index. */
  truncateAndAppend(ents: readonly Entry[]): void {
    const from = ents[0]!.index;
    const end = this.offset + this.entries.length;
    if (from === end) {
      for (const e of ents) this.entries.push(e);
    } else if (from <= this.offset) {
      // Replaces everything unstable (and, on the next persist, stored entries >= from).
      this.entries = ents.slice();
      this.offset = from;
      this.offsetInProgress = from;
    } else if (from < end) {
      this.entries.length = from - this.offset;
      for (const e of ents) this.entries.push(e);
      this.offsetInProgress = Math.min(this.offsetInProgress, from);
    } else {
      throw new RaftInvariantError(`unstable append leaves a gap: last ${end - 1}, appending from ${from}`);
    }
  }

  /** Entries in [lo, hi), which must lie within the unstable entries. */
  slice(lo: number, hi: number): Entry[] {
    if (lo > hi || lo < this.offset || hi > this.offset + this.entries.length) {
      throw new RaftInvariantError(
        `unstable.slice[${lo},${hi}) out of bound [${this.offset},${this.offset + this.entries.length}]`,
      );
    }
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
