/**
 * Rolling hashes of logs: h(i) = mix(h(i-1), term_i, type_i, hash(data_i)), so two logs agree on
 * every entry up to i exactly when their h(i) agree (Log Matching in O(1)). 53-bit values built
 * from two 32-bit FNV-style lanes; h(0) = 0 for the empty log.
 */
import type { Entry } from '../../../../src/raft/index.js';

export function dataHash(data: Uint8Array): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ data.byteLength;
  for (let i = 0; i < data.byteLength; i++) {
    a = Math.imul(a ^ data[i]!, 0x01000193);
    b = Math.imul(b ^ data[i]!, 0x5bd1e995);
  }
  return (a >>> 0) * 0x200000 + ((b >>> 11) & 0x1fffff);
}

export function chainHash(prev: number, e: Entry): number {
  const d = dataHash(e.data);
  let a = (prev % 0x100000000) ^ 0x9e3779b9;
  let b = Math.floor(prev / 0x100000000) ^ 0x85ebca6b;
  a = Math.imul(a ^ e.term, 0x01000193);
  a = Math.imul(a ^ (e.type === 'ConfChange' ? 1 : 0), 0x01000193);
  a = Math.imul(a ^ (d % 0x100000000), 0x01000193);
  b = Math.imul(b ^ e.index, 0x5bd1e995);
  b = Math.imul(b ^ Math.floor(d / 0x100000000), 0x5bd1e995);
  b = Math.imul(b ^ (a >>> 15), 0x5bd1e995);
  return (a >>> 0) * 0x200000 + ((b >>> 11) & 0x1fffff);
}

/**
 * What one node's log looks like to the observer: the rolling hash and term of every index from
 * the snapshot index (`first - 1`) to `last`, and the indexes of ConfChange entries.
 */
export class LogTrack {
  /** index → { term, h }; holds [base, last]. */
  private readonly at = new Map<number, { term: number; h: number }>();
  base = 0;
  last = 0;
  /** Sorted indexes of ConfChange entries in (base, last]. */
  ccIndexes: number[] = [];

  constructor() {
    this.at.set(0, { term: 0, h: 0 });
  }

  get(i: number): { term: number; h: number } | undefined {
    return this.at.get(i);
  }

  /** Replaces the log with a snapshot at (index, term) whose rolling hash is `h`. */
  resetTo(index: number, term: number, h: number): void {
    this.at.clear();
    this.at.set(index, { term, h });
    this.base = index;
    this.last = index;
    this.ccIndexes = [];
  }

  /**
   * Appends `ents` (the first may overwrite from its index on). Returns the new hashes, or the index
   * at which the chain breaks (a gap below `ents[0]`).
   */
  append(ents: readonly Entry[]): { ok: true; hashes: number[] } | { ok: false; gapAt: number } {
    if (ents.length === 0) return { ok: true, hashes: [] };
    const from = ents[0]!.index;
    if (from <= this.base) {
      // Entries covered by our snapshot are ignored by storage too; keep only the rest.
      const skip = this.base - from + 1;
      return skip >= ents.length ? { ok: true, hashes: [] } : this.append(ents.slice(skip));
    }
    const prev = this.at.get(from - 1);
    if (prev === undefined) return { ok: false, gapAt: from };
    for (let i = from; i <= this.last; i++) this.at.delete(i);
    this.ccIndexes = this.ccIndexes.filter((i) => i < from);
    let h = prev.h;
    const hashes: number[] = [];
    for (const e of ents) {
      h = chainHash(h, e);
      this.at.set(e.index, { term: e.term, h });
      if (e.type === 'ConfChange') this.ccIndexes.push(e.index);
      hashes.push(h);
    }
    this.last = ents[ents.length - 1]!.index;
    return { ok: true, hashes };
  }

  /** Forgets entries below `index` (compaction); `index` becomes the base. */
  compactTo(index: number): void {
    if (index <= this.base) return;
    for (let i = this.base; i < index; i++) this.at.delete(i);
    this.base = index;
    this.ccIndexes = this.ccIndexes.filter((i) => i > index);
  }
}
