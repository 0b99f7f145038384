/**
 * MemoryLogStorage: the reference LogStorage (etcd `MemoryStorage`). It keeps the log since the
 * last snapshot in memory. The core tests and the simulator use it directly; LevelLogStorage uses
 * it as its in-memory view and adds durability.
 *
 * Layout: `ents[0]` is a dummy entry at the snapshot's index and term, so term(snapshotIndex)
 * answers without a special case. Invariant: ents[k].index === ents[0].index + k.
 */
import type { LogStorage } from '../ports.js';
import {
  EMPTY_HARD_STATE,
  EntryType,
  LogCompactedError,
  LogUnavailableError,
  RaftInvariantError,
  entrySize,
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
} from '../types.js';

export class MemoryLogStorage implements LogStorage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot;
  private ents: Entry[];

  constructor(initial?: { hardState?: HardState; snapshot?: Snapshot; entries?: readonly Entry[] }) {
    this.snap = initial?.snapshot ?? {
      meta: { index: 0, term: 0, confState: { voters: [], learners: [] } },
      data: new Uint8Array(0),
    };
    this.ents = [dummy(this.snap.meta.index, this.snap.meta.term)];
    if (initial?.hardState) this.hardState = initial.hardState;
    if (initial?.entries && initial.entries.length > 0) this.append(initial.entries);
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.meta.confState };
  }

  entries(lo: number, hi: number, maxSizeBytes: number): readonly Entry[] {
    const offset = this.offset();
    if (lo <= offset) throw new LogCompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new LogUnavailableError(hi);
    if (lo >= hi) return [];
    const out: Entry[] = [];
    let size = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.ents[i - offset]!;
      size += entrySize(e);
      if (out.length > 0 && size > maxSizeBytes) break;
      out.push(e);
    }
    return out;
  }

  term(i: number): number {
    const offset = this.offset();
    if (i < offset) throw new LogCompactedError(i);
    if (i - offset >= this.ents.length) throw new LogUnavailableError(i);
    return this.ents[i - offset]!.term;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  // ---- Mutations (the runtime or a test harness calls these when processing a Ready) ----

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  /**
   * Appends entries; an entry at index i replaces any stored entries >= i. Entries already covered
   * by the snapshot are ignored. Throws RaftInvariantError on a gap.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    const kept = first > entries[0]!.index ? entries.slice(first - entries[0]!.index) : entries;
    const offset = kept[0]!.index - this.offset();
    if (offset > this.ents.length) {
      throw new RaftInvariantError(
        `missing log entries: last stored ${this.lastIndex()}, appending from ${kept[0]!.index}`,
      );
    }
    this.ents.length = offset;
    for (const e of kept) this.ents.push(e);
  }

  /** Replaces the whole log with `snap` (a snapshot received from the leader). Older snapshots are refused. */
  applySnapshot(snap: Snapshot): void {
    if (snap.meta.index <= this.snap.meta.index) return;
    this.snap = snap;
    this.ents = [dummy(snap.meta.index, snap.meta.term)];
  }

  /**
   * Records a local snapshot at `index` (<= lastIndex) without discarding entries; call `compact`
   * to drop the log prefix. Returns the new snapshot.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.meta.index) return this.snap;
    if (index > this.lastIndex()) {
      throw new RaftInvariantError(`snapshot ${index} is out of bound lastindex(${this.lastIndex()})`);
    }
    this.snap = { meta: { index, term: this.term(index), confState }, data };
    return this.snap;
  }

  /** Discards entries up to and including `compactIndex` (which must be <= lastIndex). */
  compact(compactIndex: number): void {
    const offset = this.offset();
    if (compactIndex <= offset) return;
    if (compactIndex > this.lastIndex()) {
      throw new RaftInvariantError(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    }
    const i = compactIndex - offset;
    const head = dummy(this.ents[i]!.index, this.ents[i]!.term);
    this.ents = [head, ...this.ents.slice(i + 1)];
  }

  private offset(): number {
    return this.ents[0]!.index;
  }
}

function dummy(index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: new Uint8Array(0) };
}
