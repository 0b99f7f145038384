/**
 * The state machine's transition function, pure and deterministic: given read access to the current
 * records, a command and the global revision, it returns the command's result and the changes to
 * make. Every member applies the same commands in the same order and so computes the same records,
 * revisions and results.
 *
 * Revisions follow etcd: one global counter, incremented once by every command that changes
 * something (a put, a delete of an existing key, a successful cas, a transaction with at least one
 * such write); all writes of one command share that revision. A key's `version` counts its writes
 * since it was (re)created; `createRevision`/`modRevision` are the revisions of its creation and
 * last write.
 */
import { bytesEqual, compareBytes, type KeyRecord, type KeyValueView } from './record.js';
import { checkTxn, type Compare, type OpResult, type Txn, type TxnOp, type TxnResult } from './txn.js';

export { bytesEqual, decodeRecord, encodeRecord, type KeyRecord, type KeyValueView } from './record.js';

/** What a cas compares the current key with. `version: 0` means "the key must not exist". */
export type CasExpectation =
  | { readonly kind: 'value'; readonly value: Uint8Array }
  | { readonly kind: 'version'; readonly version: number };

/** A command carried by a Normal entry of the Raft log: one discriminated union, switched exhaustively. */
export type KvCommand =
  | { readonly kind: 'put'; readonly key: string; readonly value: Uint8Array }
  | { readonly kind: 'delete'; readonly key: string }
  | { readonly kind: 'cas'; readonly key: string; readonly expected: CasExpectation; readonly value: Uint8Array }
  | { readonly kind: 'txn'; readonly txn: Txn };

/** The result of applying one entry. `invalid`: the entry's data is not a valid command (applied as a no-op). */
export type KvResult =
  | { readonly kind: 'put'; readonly revision: number; readonly version: number }
  | { readonly kind: 'delete'; readonly revision: number; readonly deleted: boolean }
  | { readonly kind: 'cas'; readonly revision: number; readonly succeeded: boolean; readonly kv?: KeyValueView }
  | TxnResult
  | { readonly kind: 'invalid'; readonly revision: number; readonly reason: string };

/** Read access to the current records (the state before the command). */
export interface KvReader {
  get(key: string): KeyRecord | undefined;
  /** Every key starting with `prefix`, in key order. */
  scan(prefix: string): Iterable<readonly [string, KeyRecord]>;
}

/** One key changed by a command: `next` null = deleted. */
export interface Change {
  readonly key: string;
  readonly prev: KeyRecord | undefined;
  readonly next: KeyRecord | null;
}

/** The outcome of {@link applyCommand}: the revision after the command, its result and its changes. */
export interface CommandOutcome {
  readonly revision: number;
  readonly result: KvResult;
  /** At most one change per key, in the order the command made them. */
  readonly changes: readonly Change[];
}

/** Applies `cmd` against `reader` at global revision `revision` (the revision before the command). Pure. */
export function applyCommand(reader: KvReader, cmd: KvCommand, revision: number): CommandOutcome {
  const rev = revision + 1;
  switch (cmd.kind) {
    case 'put': {
      const prev = reader.get(cmd.key);
      const next = written(prev, cmd.value, rev);
      return { revision: rev, result: { kind: 'put', revision: rev, version: next.version }, changes: [{ key: cmd.key, prev, next }] };
    }
    case 'delete': {
      const prev = reader.get(cmd.key);
      if (prev === undefined) return { revision, result: { kind: 'delete', revision, deleted: false }, changes: [] };
      return { revision: rev, result: { kind: 'delete', revision: rev, deleted: true }, changes: [{ key: cmd.key, prev, next: null }] };
    }
    case 'cas': {
      const prev = reader.get(cmd.key);
      if (!casMatches(prev, cmd.expected)) {
        return {
          revision,
          result: { kind: 'cas', revision, succeeded: false, ...(prev ? { kv: { key: cmd.key, ...prev } } : {}) },
          changes: [],
        };
      }
      const next = written(prev, cmd.value, rev);
      return {
        revision: rev,
        result: { kind: 'cas', revision: rev, succeeded: true, kv: { key: cmd.key, ...next } },
        changes: [{ key: cmd.key, prev, next }],
      };
    }
    case 'txn':
      return applyTxn(reader, cmd.txn, revision);
  }
}

/** Applies a transaction (see txn.ts for the semantics). A malformed one is `invalid`, changing nothing. */
export function applyTxn(reader: KvReader, txn: Txn, revision: number): CommandOutcome {
  const problem = checkTxn(txn);
  if (problem !== undefined) return { revision, result: { kind: 'invalid', revision, reason: `invalid transaction: ${problem}` }, changes: [] };
  let failedCompare = -1;
  for (let i = 0; i < txn.compare.length; i++) {
    if (!holds(reader, txn.compare[i]!)) {
      failedCompare = i;
      break;
    }
  }
  const succeeded = failedCompare < 0;
  const ops = succeeded ? txn.success : txn.failure;
  const rev = revision + 1;
  // This transaction's writes so far, consulted by its later reads (null = deleted).
  const overlay = new Map<string, KeyRecord | null>();
  const changes: Change[] = [];
  const responses: OpResult[] = [];
  const current = (key: string): KeyRecord | undefined => {
    const o = overlay.get(key);
    return o === undefined ? reader.get(key) : (o ?? undefined);
  };
  for (const op of ops) responses.push(runOp(op));
  const revisionAfter = changes.length > 0 ? rev : revision;
  return { revision: revisionAfter, result: { kind: 'txn', succeeded, revision: revisionAfter, failedCompare, responses }, changes };

  function runOp(op: TxnOp): OpResult {
    switch (op.kind) {
      case 'range': {
        const kvs = op.prefix ? scanMerged(reader, overlay, op.key) : single(op.key, current(op.key));
        const limit = op.limit ?? 0;
        const shown = limit > 0 ? kvs.slice(0, limit) : kvs;
        return { kind: 'range', kvs: shown, count: kvs.length, more: shown.length < kvs.length };
      }
      case 'put': {
        const prev = current(op.key);
        const next = written(prev, op.value, rev);
        overlay.set(op.key, next);
        changes.push({ key: op.key, prev, next });
        return op.prevKv && prev ? { kind: 'put', prev: { key: op.key, ...prev } } : { kind: 'put' };
      }
      case 'delete': {
        const gone = op.prefix ? scanMerged(reader, overlay, op.key) : single(op.key, current(op.key));
        for (const kv of gone) {
          overlay.set(kv.key, null);
          const { key, ...prev } = kv;
          changes.push({ key, prev, next: null });
        }
        return op.prevKv ? { kind: 'delete', deleted: gone.length, prev: gone } : { kind: 'delete', deleted: gone.length };
      }
    }
  }
}

function single(key: string, rec: KeyRecord | undefined): KeyValueView[] {
  return rec === undefined ? [] : [{ key, ...rec }];
}

/** Keys under `prefix` from `reader` with the transaction's own writes applied, in key order. */
function scanMerged(reader: KvReader, overlay: ReadonlyMap<string, KeyRecord | null>, prefix: string): KeyValueView[] {
  const merged = new Map<string, KeyRecord>();
  for (const [k, r] of reader.scan(prefix)) merged.set(k, r);
  let added = false;
  for (const [k, r] of overlay) {
    if (!k.startsWith(prefix)) continue;
    if (r === null) merged.delete(k);
    else {
      if (!merged.has(k)) added = true;
      merged.set(k, r);
    }
  }
  const out = [...merged].map(([key, r]) => ({ key, ...r }));
  if (added) out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out;
}

/** Evaluates one compare against the state before the transaction. */
export function holds(reader: KvReader, c: Compare): boolean {
  if (!c.prefix) return compareOne(reader.get(c.key), c);
  let any = false;
  for (const [, rec] of reader.scan(c.key)) {
    any = true;
    if (!compareOne(rec, c)) return false;
  }
  return any || compareOne(undefined, c);
}

function compareOne(rec: KeyRecord | undefined, c: Compare): boolean {
  let d: number;
  switch (c.target) {
    case 'value':
      // etcd: a value compare on a missing key always fails (no way to represent a missing value).
      if (rec === undefined) return false;
      d = compareBytes(rec.value, c.value);
      break;
    case 'version':
      d = (rec?.version ?? 0) - c.number;
      break;
    case 'createRevision':
      d = (rec?.createRevision ?? 0) - c.number;
      break;
    case 'modRevision':
      d = (rec?.modRevision ?? 0) - c.number;
      break;
  }
  switch (c.op) {
    case '=':
      return d === 0;
    case '!=':
      return d !== 0;
    case '<':
      return d < 0;
    case '>':
      return d > 0;
  }
}

function written(current: KeyRecord | undefined, value: Uint8Array, revision: number): KeyRecord {
  return current === undefined
    ? { value, version: 1, createRevision: revision, modRevision: revision }
    : { value, version: current.version + 1, createRevision: current.createRevision, modRevision: revision };
}

function casMatches(current: KeyRecord | undefined, expected: CasExpectation): boolean {
  if (expected.kind === 'version') return (current?.version ?? 0) === expected.version;
  return current !== undefined && bytesEqual(current.value, expected.value);
}
