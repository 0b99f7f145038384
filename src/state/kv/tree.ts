/**
 * The state machine's in-memory index: every key and its record in a copy-on-write B+ tree
 * (sorted-btree), so a read view is an O(1) clone that later writes never disturb (swarmkit's
 * memdb does the same with an immutable radix tree). LevelDB stays the durable copy; the tree is
 * rebuilt from it at start-up.
 */
import sortedBtree from 'sorted-btree';
import type { KeyRecord, KeyValueView } from './record.js';

// sorted-btree is CommonJS with `exports.default = BTree` and `__esModule`. Depending on the loader
// the default import is the exports object (Node's ESM interop; what its types describe) or the
// class itself (loaders that honour `__esModule`).
type BTreeClass = typeof sortedBtree.default;
const BTree: BTreeClass =
  typeof sortedBtree === 'function' ? (sortedBtree as unknown as BTreeClass) : sortedBtree.default;

/** Keys → records, ordered by JavaScript string order. */
export type KvTree = sortedBtree.default<string, KeyRecord>;

/** A new, empty tree. */
export function createTree(): KvTree {
  return new BTree<string, KeyRecord>();
}

/** Every key starting with `prefix`, in key order (lazy; do not mutate the tree while iterating). */
export function* scanPrefix(tree: KvTree, prefix: string): Generator<readonly [string, KeyRecord]> {
  for (const [k, v] of tree.entries(prefix === '' ? undefined : prefix)) {
    if (!k.startsWith(prefix)) return;
    yield [k, v];
  }
}

/** Up to `limit` (0 = all) keys under `prefix` as views, plus how many there are in total. */
export function rangePrefix(tree: KvTree, prefix: string, limit = 0): { kvs: KeyValueView[]; count: number } {
  const kvs: KeyValueView[] = [];
  let count = 0;
  for (const [key, r] of scanPrefix(tree, prefix)) {
    if (limit === 0 || kvs.length < limit) kvs.push({ key, ...r });
    count++;
  }
  return { kvs, count };
}
