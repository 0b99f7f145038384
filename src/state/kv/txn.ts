/**
 * Transactions in the style of etcd's Txn: `compare` is a list of conditions on keys; when every
 * one holds the `success` operations run, otherwise the `failure` operations, atomically, and all
 * writes of one transaction share one new global revision (no revision is used when nothing
 * changes). Operations run in order and later reads see earlier writes of the same transaction.
 *
 * A compare on a missing key sees version, create revision and mod revision 0, and a value compare
 * on a missing key is false (etcd). With `prefix`, every key starting with `key` must satisfy the
 * compare; an empty range compares like one missing key. So `modRevision < R+1` over a prefix says
 * "no key under it was created or written since revision R" — how the typed tables guard a check
 * over a whole table (deletions are not seen, which never weakens an "is unused" check).
 */
import { type KeyValueView } from './record.js';

export type CompareOp = '=' | '!=' | '<' | '>';

/** One condition. `number` targets compare integers; `value` compares bytes (lexicographic order). */
export type Compare =
  | {
      readonly key: string;
      readonly prefix?: boolean;
      readonly target: 'version' | 'createRevision' | 'modRevision';
      readonly op: CompareOp;
      readonly number: number;
    }
  | { readonly key: string; readonly prefix?: boolean; readonly target: 'value'; readonly op: CompareOp; readonly value: Uint8Array };

/** One operation of a branch. */
export type TxnOp =
  | { readonly kind: 'range'; readonly key: string; readonly prefix?: boolean; readonly limit?: number }
  | { readonly kind: 'put'; readonly key: string; readonly value: Uint8Array; readonly prevKv?: boolean }
  | { readonly kind: 'delete'; readonly key: string; readonly prefix?: boolean; readonly prevKv?: boolean };

/** A conditional multi-key transaction. */
export interface Txn {
  readonly compare: readonly Compare[];
  readonly success: readonly TxnOp[];
  readonly failure: readonly TxnOp[];
}

/** The result of one operation, in branch order. */
export type OpResult =
  | { readonly kind: 'range'; readonly kvs: readonly KeyValueView[]; readonly count: number; readonly more: boolean }
  | { readonly kind: 'put'; readonly prev?: KeyValueView }
  | { readonly kind: 'delete'; readonly deleted: number; readonly prev?: readonly KeyValueView[] };

/** The outcome of a transaction. `failedCompare` is the index of the first failed compare, -1 if none. */
export interface TxnResult {
  readonly kind: 'txn';
  readonly succeeded: boolean;
  /** The store's revision after the transaction. */
  readonly revision: number;
  readonly failedCompare: number;
  readonly responses: readonly OpResult[];
}

/** Most operations one transaction may carry (per branch); a schema upgrade rewrites a table in one. */
export const MAX_TXN_OPS = 10_000;
/** Longest key, in UTF-16 code units. */
export const MAX_KEY_LENGTH = 4096;

/** Builders for compares (etcd's clientv3.Compare helpers). */
export const cmp = {
  /** The key exists. */
  exists: (key: string): Compare => ({ key, target: 'version', op: '>', number: 0 }),
  /** The key does not exist. */
  absent: (key: string): Compare => ({ key, target: 'version', op: '=', number: 0 }),
  /** The key was last written at `revision` (0 = absent). */
  modRevision: (key: string, op: CompareOp, revision: number): Compare => ({ key, target: 'modRevision', op, number: revision }),
  createRevision: (key: string, op: CompareOp, revision: number): Compare => ({ key, target: 'createRevision', op, number: revision }),
  version: (key: string, op: CompareOp, version: number): Compare => ({ key, target: 'version', op, number: version }),
  value: (key: string, op: CompareOp, value: Uint8Array): Compare => ({ key, target: 'value', op, value }),
  /** No key under `prefix` was created or written after `revision`. */
  unchangedSince: (prefix: string, revision: number): Compare => ({
    key: prefix,
    prefix: true,
    target: 'modRevision',
    op: '<',
    number: revision + 1,
  }),
} as const;

/**
 * Checks a transaction's shape: keys non-empty and bounded, numbers safe integers, no key written
 * twice in one branch (etcd: "duplicate key given in txn request"), no delete of the whole key
 * space. Returns the problem, or undefined when it is well-formed.
 */
export function checkTxn(txn: Txn): string | undefined {
  for (const c of txn.compare) {
    const p = checkKey(c.key, c.prefix === true);
    if (p) return `compare: ${p}`;
    if (c.target !== 'value' && !Number.isSafeInteger(c.number)) return `compare on "${c.key}": ${c.number} is not an integer`;
  }
  for (const [name, ops] of [['success', txn.success], ['failure', txn.failure]] as const) {
    if (ops.length > MAX_TXN_OPS) return `${name}: ${ops.length} operations (at most ${MAX_TXN_OPS})`;
    const exact = new Set<string>();
    const prefixes: string[] = [];
    for (const op of ops) {
      const isPrefix = op.kind !== 'put' && op.prefix === true;
      const p = checkKey(op.key, isPrefix && op.kind === 'range');
      if (p) return `${name}: ${p}`;
      if (op.kind === 'range') {
        if (op.limit !== undefined && (!Number.isSafeInteger(op.limit) || op.limit < 0)) return `${name}: bad limit ${op.limit}`;
        continue;
      }
      if (isPrefix) {
        for (const k of exact) if (k.startsWith(op.key)) return `${name}: duplicate key "${k}"`;
        for (const q of prefixes) if (q.startsWith(op.key) || op.key.startsWith(q)) return `${name}: overlapping deletes "${q}" and "${op.key}"`;
        prefixes.push(op.key);
      } else {
        if (exact.has(op.key) || prefixes.some((q) => op.key.startsWith(q))) return `${name}: duplicate key "${op.key}"`;
        exact.add(op.key);
      }
    }
  }
  return undefined;
}

function checkKey(key: string, emptyAllowed: boolean): string | undefined {
  if (typeof key !== 'string') return 'key is not a string';
  if (key === '' && !emptyAllowed) return 'empty key';
  if (key.length > MAX_KEY_LENGTH) return `key longer than ${MAX_KEY_LENGTH} characters`;
  return undefined;
}

/** True when `txn` writes nothing in either branch (a read-only transaction). */
export function isReadOnly(txn: Txn): boolean {
  return txn.success.every((o) => o.kind === 'range') && txn.failure.every((o) => o.kind === 'range');
}
