/**
 * WriteTx: a typed write transaction over a StateView, optimistic like etcd's STM and shaped like
 * swarmkit's `store.Tx`. Reads go through the view (plus this transaction's own writes) and are
 * tracked; writes are validated (schema, config registry), checked by the integrity rules and
 * staged. commit() (in StateStore.update) turns them into one Txn whose compares say "nothing this
 * transaction read has changed": a read key's mod revision is still the one seen (0 = still absent)
 * and no key under a listed prefix was created or written since the view's revision. Explicit
 * expectations (`ifRevision`, an API client's ETag) are compares too, but are never retried.
 */
import { ErrorCode, ShoalError } from '../../shared/index.js';
import { cmp, type Compare, type Txn, type TxnOp } from '../kv/txn.js';
import { SCHEMA_KEY } from '../schema/cluster-schema.js';
import { recordVersionAt } from '../schema/versions.js';
import { rulesFor, tableOfKey } from '../tables/integrity.js';
import { encodeStored, keyFor, prefixFor, type Stored, type TableDef } from '../tables/table.js';
import type { TableTx } from '../tables/tx.js';
import type { StateView } from './state-view.js';

/** Options of a single write. */
export interface WriteOptions {
  /** The record must still be at this revision (its ETag); ABORTED otherwise, without retry. */
  readonly ifRevision?: number;
}

interface Staged {
  /** undefined for a raw (non-table) key. */
  readonly table: TableDef<unknown, readonly string[]> | undefined;
  /** null = deleted. */
  readonly record: unknown;
  readonly value: Uint8Array | null;
}

/** Why a compare of a committed transaction failed. */
export interface CompareOrigin {
  readonly key: string;
  readonly prefix: boolean;
  /** From an explicit expectation (not retried). */
  readonly explicit: boolean;
  readonly seen: number;
}

export class WriteTx implements TableTx {
  private readonly staged = new Map<string, Staged>();
  /** Key → mod revision seen (0 = absent). */
  private readonly reads = new Map<string, number>();
  private readonly prefixes = new Set<string>();
  private readonly expectations = new Map<string, number>();
  /** Set by raiseSchema(): the schema the staged records are written in. */
  private targetSchema: number | undefined;

  constructor(private readonly view: StateView) {}

  /** The revision of the view this transaction reads. */
  get revision(): number {
    return this.view.revision;
  }

  get schemaVersion(): number {
    if (!this.reads.has(SCHEMA_KEY)) this.reads.set(SCHEMA_KEY, this.view.kv.get(SCHEMA_KEY)?.modRevision ?? 0);
    return this.targetSchema ?? this.view.schemaVersion;
  }

  /**
   * Moves the cluster to schema `version` in this transaction: records written after this call use
   * its formats (the upgrade rewrites the changed tables). Only schema/upgrade.ts calls this.
   */
  raiseSchema(version: number, value: Uint8Array): void {
    if (version <= this.schemaVersion) throw new ShoalError(ErrorCode.Internal, `Schema ${version} is not newer than ${this.schemaVersion}`);
    this.staged.set(SCHEMA_KEY, { table: undefined, record: value, value });
    this.targetSchema = version;
  }

  /** True once something was written. */
  get hasWrites(): boolean {
    return this.staged.size > 0;
  }

  get<T, A extends readonly string[]>(table: TableDef<T, A>, ...parts: A): Stored<T> | undefined {
    const key = keyFor(table, parts);
    const s = this.staged.get(key);
    if (s) return s.record === null ? undefined : { key, record: s.record as T, revision: 0, createRevision: 0, recordVersion: 0 };
    const rec = this.view.kv.get(key);
    if (!this.reads.has(key)) this.reads.set(key, rec?.modRevision ?? 0);
    return rec === undefined ? undefined : this.view.decode(table, key, rec);
  }

  /** The record named `parts`; NOT_FOUND when absent. */
  require<T, A extends readonly string[]>(table: TableDef<T, A>, ...parts: A): Stored<T> {
    const got = this.get(table, ...parts);
    if (!got) throw new ShoalError(ErrorCode.NotFound, `${table.describe(parts)} not found`);
    return got;
  }

  list<T, A extends readonly string[]>(table: TableDef<T, A>, ...parts: string[]): Stored<T>[] {
    const prefix = prefixFor(table, parts);
    this.prefixes.add(prefix);
    const out = new Map<string, Stored<T>>();
    for (const s of this.view.list(table, ...parts)) out.set(s.key, s);
    let added = false;
    for (const [key, s] of this.staged) {
      if (!key.startsWith(prefix)) continue;
      if (s.record === null) out.delete(key);
      else {
        added ||= !out.has(key);
        out.set(key, { key, record: s.record as T, revision: 0, createRevision: 0, recordVersion: 0 });
      }
    }
    const list = [...out.values()];
    if (added) list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return list;
  }

  /** Creates a record; ALREADY_EXISTS (`Instance "web1" in project "default" already exists`) if present. */
  create<T, A extends readonly string[]>(table: TableDef<T, A>, record: T): void {
    table.validate(record);
    const parts = table.keyOf(record);
    if (this.get(table, ...parts)) throw new ShoalError(ErrorCode.AlreadyExists, `${table.describe(parts)} already exists`);
    this.write(table, parts, record, undefined);
  }

  /** Creates or replaces a record. */
  put<T, A extends readonly string[]>(table: TableDef<T, A>, record: T, opts: WriteOptions = {}): void {
    table.validate(record);
    const parts = table.keyOf(record);
    const prev = this.expect(table, parts, opts);
    this.write(table, parts, record, prev);
  }

  /** Replaces an existing record; NOT_FOUND when absent. */
  update<T, A extends readonly string[]>(table: TableDef<T, A>, record: T, opts: WriteOptions = {}): void {
    table.validate(record);
    const parts = table.keyOf(record);
    const prev = this.expect(table, parts, opts);
    if (!prev) throw new ShoalError(ErrorCode.NotFound, `${table.describe(parts)} not found`);
    this.write(table, parts, record, prev);
  }

  delete<T, A extends readonly string[]>(table: TableDef<T, A>, ...parts: A): void {
    this.deleteWith(table, parts, {});
  }

  /** Deletes a record that must still be at `opts.ifRevision` (when given); NOT_FOUND when absent. */
  deleteWith<T, A extends readonly string[]>(table: TableDef<T, A>, parts: A, opts: WriteOptions): void {
    const prev = this.expect(table, parts, opts);
    if (!prev) throw new ShoalError(ErrorCode.NotFound, `${table.describe(parts)} not found`);
    // Staged first, so the rules (and the cascades they run) see the record as gone.
    this.staged.set(keyFor(table, parts), { table: table as unknown as TableDef<unknown, readonly string[]>, record: null, value: null });
    rulesFor(table).beforeDelete?.(this, prev);
  }

  /** Sets a raw key (schema bookkeeping; typed tables for everything else). */
  putRaw(key: string, value: Uint8Array): void {
    if (tableOfKey(key)) throw new ShoalError(ErrorCode.InvalidArgument, `Key "${key}" belongs to a typed table`);
    if (!this.reads.has(key)) this.reads.set(key, this.view.kv.get(key)?.modRevision ?? 0);
    this.staged.set(key, { table: undefined, record: value, value });
  }

  private expect<T, A extends readonly string[]>(table: TableDef<T, A>, parts: A, opts: WriteOptions): Stored<T> | undefined {
    const prev = this.get(table, ...parts);
    if (opts.ifRevision !== undefined) {
      const key = keyFor(table, parts);
      const seen = this.reads.get(key) ?? 0;
      if (seen !== opts.ifRevision) throw conflict(`${table.describe(parts)} changed: it is at revision ${seen}, the request expected ${opts.ifRevision}`, key, seen);
      this.expectations.set(key, opts.ifRevision);
    }
    return prev;
  }

  private write<T, A extends readonly string[]>(table: TableDef<T, A>, parts: A, record: T, prev: Stored<T> | undefined): void {
    rulesFor(table).beforeWrite?.(this, record, prev);
    const value = encodeStored(table, record, recordVersionAt(table.name, this.schemaVersion));
    this.staged.set(keyFor(table, parts), { table: table as unknown as TableDef<unknown, readonly string[]>, record, value });
  }

  /**
   * The transaction to propose: compares (explicit expectations, then every tracked read, then
   * every listed prefix) and the staged writes. `origins[i]` says where compare i came from.
   */
  toTxn(): { txn: Txn; origins: CompareOrigin[] } {
    const compare: Compare[] = [];
    const origins: CompareOrigin[] = [];
    for (const [key, rev] of this.expectations) {
      compare.push(cmp.modRevision(key, '=', rev));
      origins.push({ key, prefix: false, explicit: true, seen: rev });
    }
    for (const [key, rev] of this.reads) {
      if (this.expectations.has(key)) continue;
      compare.push(cmp.modRevision(key, '=', rev));
      origins.push({ key, prefix: false, explicit: false, seen: rev });
    }
    for (const prefix of this.prefixes) {
      compare.push(cmp.unchangedSince(prefix, this.view.revision));
      origins.push({ key: prefix, prefix: true, explicit: false, seen: this.view.revision });
    }
    const success: TxnOp[] = [];
    for (const [key, s] of this.staged) success.push(s.value === null ? { kind: 'delete', key } : { kind: 'put', key, value: s.value });
    return { txn: { compare, success, failure: [] }, origins };
  }
}

/** ABORTED naming the key that changed (retryable: re-read and try again). */
export function conflict(message: string, key: string, seen: number): ShoalError {
  return new ShoalError(ErrorCode.Aborted, message, { details: { key, seenRevision: seen } });
}

/** A human description of a key for conflict messages: `"instances/default/web1" (instance "web1" in project "default")`. */
export function describeKey(key: string, prefix: boolean): string {
  if (prefix) return `keys under "${key}"`;
  const t = tableOfKey(key);
  return t ? `"${key}" (${t.table.describe(t.parts)})` : `"${key}"`;
}
