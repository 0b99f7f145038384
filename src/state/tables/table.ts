/**
 * What a typed table is: a key prefix, how a record's key is built from its name parts, the
 * record's stored formats (one per record schema version), and its validation. Records are stored
 * as JSON `{"version": N, "record": {...}}`, keeping LXD's field names where LXD has the object.
 *
 * Schema versions: each table's records carry the version of their format. A format decodes its
 * stored shape into the current (newest) record type and encodes the current type back into its
 * shape, refusing (FAILED_PRECONDITION) a record that uses what the old shape cannot hold — that
 * is the feature gate while a mixed-version cluster still writes the old format (schema/).
 */
import { ErrorCode, ShoalError } from '../../shared/index.js';
import { FieldError, isPlainObject, type Check } from './fields.js';

/** One stored format of a table's records. */
export interface RecordFormat<T> {
  readonly version: number;
  /** Checks a stored record of this version and returns it as the current type. Throws FieldError. */
  decode(stored: unknown): T;
  /** The current type in this version's shape. Throws FAILED_PRECONDITION when it cannot be expressed. */
  encode(record: T): unknown;
}

/** A typed table. `A` is the tuple of name parts that make up a key (e.g. [project, name]). */
export interface TableDef<T, A extends readonly string[]> {
  /** Table name, also the first key segment (`instances`). */
  readonly name: string;
  /** The object's name in messages (`Instance`). */
  readonly noun: string;
  /** `${name}/`. */
  readonly prefix: string;
  readonly arity: A['length'];
  /** The name parts of a record. */
  keyOf(record: T): A;
  /** Human description for messages: `Instance "web1" in project "default"`. */
  describe(parts: A): string;
  /** Formats by ascending version; the last one is the newest this build knows. */
  readonly formats: readonly RecordFormat<T>[];
  /** Checks a record's content (names, config keys through the registry). Throws INVALID_ARGUMENT. */
  validate(record: T): void;
}

/** A record read from a view, with the revisions of its key. */
export interface Stored<T> {
  readonly key: string;
  readonly record: T;
  /** The key's mod revision (its ETag). */
  readonly revision: number;
  readonly createRevision: number;
  /** The format version the record is stored in. */
  readonly recordVersion: number;
}

/** The key of a record with name parts `parts` in `table`. Throws INVALID_ARGUMENT for a bad part. */
export function keyFor<A extends readonly string[]>(table: TableDef<unknown, A>, parts: A): string {
  if (parts.length !== table.arity) throw new ShoalError(ErrorCode.InvalidArgument, `${table.noun} key needs ${table.arity} parts, got ${parts.length}`);
  return table.prefix + parts.map((p) => checkPart(table, p)).join('/');
}

/** The prefix of every key whose first name parts are `parts` (all keys of the table when empty). */
export function prefixFor(table: TableDef<unknown, readonly string[]>, parts: readonly string[]): string {
  if (parts.length >= table.arity) throw new ShoalError(ErrorCode.InvalidArgument, `${table.noun} prefix needs fewer than ${table.arity} parts`);
  return table.prefix + parts.map((p) => `${checkPart(table, p)}/`).join('');
}

/** The name parts of `key` in `table`, or undefined when it is not one of its keys. */
export function partsOf<A extends readonly string[]>(table: TableDef<unknown, A>, key: string): A | undefined {
  if (!key.startsWith(table.prefix)) return undefined;
  const parts = key.slice(table.prefix.length).split('/');
  return parts.length === table.arity ? (parts as unknown as A) : undefined;
}

function checkPart(table: TableDef<unknown, readonly string[]>, p: string): string {
  if (p === '' || p.includes('/')) throw new ShoalError(ErrorCode.InvalidArgument, `Invalid ${table.noun.toLowerCase()} name "${p}"`);
  return p;
}

/** A format whose stored shape is the current record type itself. */
export function sameShape<T>(version: number, check: Check<T>): RecordFormat<T> {
  return { version, decode: (stored) => check(stored, ''), encode: (r) => r };
}

/** The JSON a record is stored as. */
export function encodeStored<T>(table: TableDef<T, readonly string[]>, record: T, version: number): Uint8Array {
  const format = table.formats.find((f) => f.version === version);
  if (!format) throw new ShoalError(ErrorCode.Internal, `${table.noun} has no record format ${version}`);
  return new TextEncoder().encode(JSON.stringify({ version, record: format.encode(record) }));
}

/**
 * Decodes a stored record. DATA_LOSS when it is not a record of this table; FAILED_PRECONDITION
 * when its format is newer than this build knows (the member must be upgraded).
 */
export function decodeStored<T>(table: TableDef<T, readonly string[]>, key: string, bytes: Uint8Array): { record: T; version: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new ShoalError(ErrorCode.DataLoss, `Record "${key}" is not JSON`, { cause: err, retryable: false });
  }
  if (!isPlainObject(parsed) || typeof parsed['version'] !== 'number' || !('record' in parsed)) {
    throw new ShoalError(ErrorCode.DataLoss, `Record "${key}" has no version envelope`, { retryable: false });
  }
  const version = parsed['version'];
  const format = table.formats.find((f) => f.version === version);
  if (!format) {
    const newest = table.formats[table.formats.length - 1]!.version;
    throw new ShoalError(
      ErrorCode.FailedPrecondition,
      `Record "${key}" has format ${version} but this member knows ${table.noun.toLowerCase()} formats up to ${newest}; upgrade this member`,
      { retryable: false, details: { key, version } },
    );
  }
  try {
    return { record: format.decode(parsed['record']), version };
  } catch (err) {
    if (err instanceof FieldError) throw new ShoalError(ErrorCode.DataLoss, `Record "${key}" is invalid: ${err.message}`, { cause: err, retryable: false });
    throw err;
  }
}

/** Runs a record check for a write: FieldError becomes INVALID_ARGUMENT naming the object. */
export function checkForWrite<T, A extends readonly string[]>(table: TableDef<T, A>, check: Check<T>, record: unknown): T {
  try {
    return check(record, '');
  } catch (err) {
    if (err instanceof FieldError) {
      const what = isPlainObject(record) ? describeLoose(table, record) : table.noun;
      throw new ShoalError(ErrorCode.InvalidArgument, `Invalid ${what}: ${err.message}`, { details: { field: err.path } });
    }
    throw err;
  }
}

function describeLoose(table: TableDef<unknown, readonly string[]>, record: Record<string, unknown>): string {
  const n = record['name'] ?? record['server_name'] ?? record['fingerprint'] ?? record['id'] ?? record['uuid'];
  return typeof n === 'string' ? `${table.noun.toLowerCase()} "${n}"` : table.noun.toLowerCase();
}
