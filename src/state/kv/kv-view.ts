/**
 * KvView: a read-only, consistent view of the key space at one revision (an O(1) clone of the
 * state machine's tree). Later applies never change what a view returns. Views are cheap; drop
 * them when done (they pin the tree nodes that changed since).
 */
import type { KvReader } from './apply.js';
import type { KeyRecord, KeyValueView } from './record.js';
import { rangePrefix, scanPrefix, type KvTree } from './tree.js';

export class KvView implements KvReader {
  constructor(
    private readonly tree: KvTree,
    /** The global revision this view shows. */
    readonly revision: number,
    /** The Raft index applied when the view was taken. */
    readonly appliedIndex: number,
  ) {}

  /** The record of `key` (raw; undefined when absent). */
  get(key: string): KeyRecord | undefined {
    return this.tree.get(key);
  }

  /** `key` with its record, or undefined. */
  getKv(key: string): KeyValueView | undefined {
    const r = this.tree.get(key);
    return r === undefined ? undefined : { key, ...r };
  }

  /** Every key under `prefix` in key order (lazy). */
  scan(prefix: string): Iterable<readonly [string, KeyRecord]> {
    return scanPrefix(this.tree, prefix);
  }

  /** Up to `limit` (0 = all) keys under `prefix` and the total count. */
  range(prefix: string, limit = 0): { kvs: KeyValueView[]; count: number } {
    return rangePrefix(this.tree, prefix, limit);
  }

  /** Number of keys in the whole key space. */
  get size(): number {
    return this.tree.size;
  }
}
