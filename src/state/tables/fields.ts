/**
 * Small validators for the records of the typed tables: each `Check<T>` takes an unknown value
 * and its path (`config["limits.cpu"]`), returns it typed, or throws a FieldError naming the path.
 * Records have no optional fields (like LXD's API objects, every field is always present), and
 * objects reject unknown fields.
 */

/** A value that failed a check; `path` names the field. */
export class FieldError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path === '' ? 'record' : `field "${path}"`} ${problem}`);
  }
}

export type Check<T> = (value: unknown, path: string) => T;

const at = (path: string, key: string): string => (path === '' ? key : /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}["${key}"]`);

/** A string; `pattern` must match the whole value, `nonEmpty` refuses ''. */
export function str(opts: { readonly nonEmpty?: boolean; readonly pattern?: RegExp; readonly max?: number; readonly what?: string } = {}): Check<string> {
  return (v, p) => {
    if (typeof v !== 'string') throw new FieldError(p, 'must be a string');
    if (opts.nonEmpty && v === '') throw new FieldError(p, 'must not be empty');
    if (opts.max !== undefined && v.length > opts.max) throw new FieldError(p, `must be at most ${opts.max} characters`);
    if (opts.pattern && !opts.pattern.test(v)) throw new FieldError(p, `must be ${opts.what ?? `of the form ${String(opts.pattern)}`}`);
    return v;
  };
}

export const bool: Check<boolean> = (v, p) => {
  if (typeof v !== 'boolean') throw new FieldError(p, 'must be a boolean');
  return v;
};

/** A safe integer in [min, max]. */
export function int(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Check<number> {
  return (v, p) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new FieldError(p, 'must be an integer');
    if (v < min || v > max) throw new FieldError(p, `must be between ${min} and ${max}`);
    return v;
  };
}

/** A finite number >= min. */
export function num(min = -Infinity): Check<number> {
  return (v, p) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new FieldError(p, 'must be a number');
    if (v < min) throw new FieldError(p, `must be at least ${min}`);
    return v;
  };
}

/** One of the given strings. */
export function oneOf<L extends string>(...values: readonly L[]): Check<L> {
  return (v, p) => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw new FieldError(p, `must be one of ${values.map((x) => `"${x}"`).join(', ')}`);
    return v as L;
  };
}

/** An array whose items pass `item`. */
export function arr<T>(item: Check<T>, opts: { readonly unique?: boolean } = {}): Check<T[]> {
  return (v, p) => {
    if (!Array.isArray(v)) throw new FieldError(p, 'must be a list');
    const out = v.map((x, i) => item(x, `${p}[${i}]`));
    if (opts.unique && new Set(out.map((x) => JSON.stringify(x))).size !== out.length) throw new FieldError(p, 'must not contain duplicates');
    return out;
  };
}

/** A plain object whose keys pass `key` and values pass `value`. */
export function map<V>(value: Check<V>, key: Check<string> = str({ nonEmpty: true })): Check<Record<string, V>> {
  return (v, p) => {
    if (!isPlainObject(v)) throw new FieldError(p, 'must be a map');
    const out: Record<string, V> = {};
    for (const [k, x] of Object.entries(v)) {
      key(k, p);
      out[k] = value(x, at(p, k));
    }
    return out;
  };
}

/** `config`: string keys to string values (LXD). */
export const strMap: Check<Record<string, string>> = map(str());

/** `devices`: device name → its string map. */
export const devices: Check<Record<string, Record<string, string>>> = map(strMap);

/** `T | null`. */
export function nullable<T>(c: Check<T>): Check<T | null> {
  return (v, p) => (v === null ? null : c(v, p));
}

/** An RFC 3339 timestamp string (as LXD's API renders times). */
export const time: Check<string> = (v, p) => {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(v) || !Number.isFinite(Date.parse(v))) {
    throw new FieldError(p, 'must be an RFC 3339 time');
  }
  return v;
};

/** Any JSON value (operation metadata). */
export const json: Check<unknown> = (v) => v;

/** An object with exactly the fields of `shape` (all required, unknown fields refused). */
export function obj<T extends object>(shape: { readonly [K in keyof T]-?: Check<T[K]> }): Check<T> {
  const keys = Object.keys(shape) as (keyof T & string)[];
  return (v, p) => {
    if (!isPlainObject(v)) throw new FieldError(p, 'must be an object');
    for (const k of Object.keys(v)) if (!(k in shape)) throw new FieldError(at(p, k), 'is not a known field');
    const out = {} as T;
    for (const k of keys) {
      if (!(k in v)) throw new FieldError(at(p, k), 'is missing');
      out[k] = shape[k](v[k], at(p, k));
    }
    return out;
  };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Names of objects (LXD-like): letters, digits, `-`, `_`, `.`; starts with a letter or digit; no `/`. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/** Member names (hostname label, as join tokens require). */
export const MEMBER_NAME = /^[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
/** SHA-256 hex. */
export const SHA256 = /^[0-9a-f]{64}$/;

export const name = str({ pattern: NAME, what: 'a name of letters, digits, "-", "_" and "." (at most 63, no "/")' });
