/**
 * StateView: a typed, read-only, consistent view of the cluster database at one revision (swarmkit
 * `ReadTx`). Records are decoded on first use and cached per stored record (records are immutable
 * values, so the cache is shared by every view). Returned records must not be mutated.
 */
import { ErrorCode, ShoalError } from '../../shared/index.js';
import type { KvView } from '../kv/kv-view.js';
import type { KeyRecord } from '../kv/record.js';
import { readSchemaVersion } from '../schema/cluster-schema.js';
import { decodeStored, keyFor, prefixFor, type Stored, type TableDef } from '../tables/table.js';

/** Decoded records by stored record (shared by every view of one store). */
export type DecodeCache = WeakMap<KeyRecord, { readonly record: unknown; readonly version: number }>;

export class StateView {
  private schema: number | undefined;

  constructor(
    /** The raw key-value view underneath. */
    readonly kv: KvView,
    private readonly cache: DecodeCache = new WeakMap(),
  ) {}

  /** The global revision this view shows. */
  get revision(): number {
    return this.kv.revision;
  }

  /** The Raft index applied when this view was taken. */
  get appliedIndex(): number {
    return this.kv.appliedIndex;
  }

  /** The cluster schema version (`meta/schema`). */
  get schemaVersion(): number {
    this.schema ??= readSchemaVersion(this.kv);
    return this.schema;
  }

  /** The record named `parts`, or undefined. */
  get<T, A extends readonly string[]>(table: TableDef<T, A>, ...parts: A): Stored<T> | undefined {
    const key = keyFor(table, parts);
    const rec = this.kv.get(key);
    return rec === undefined ? undefined : this.decode(table, key, rec);
  }

  /** The record named `parts`; NOT_FOUND (`Instance "web1" in project "default" not found`) when absent. */
  require<T, A extends readonly string[]>(table: TableDef<T, A>, ...parts: A): Stored<T> {
    const got = this.get(table, ...parts);
    if (!got) throw new ShoalError(ErrorCode.NotFound, `${table.describe(parts)} not found`);
    return got;
  }

  /** Records whose leading name parts are `parts` (all when none), in key order. */
  list<T, A extends readonly string[]>(table: TableDef<T, A>, ...parts: string[]): Stored<T>[] {
    const out: Stored<T>[] = [];
    for (const [key, rec] of this.kv.scan(prefixFor(table, parts))) out.push(this.decode(table, key, rec));
    return out;
  }

  /** Decodes one stored record (cached). */
  decode<T>(table: TableDef<T, readonly string[]>, key: string, rec: KeyRecord): Stored<T> {
    let d = this.cache.get(rec);
    if (d === undefined) {
      d = decodeStored(table, key, rec.value);
      this.cache.set(rec, d);
    }
    return { key, record: d.record as T, revision: rec.modRevision, createRevision: rec.createRevision, recordVersion: d.version };
  }
}
