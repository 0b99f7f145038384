/**
 * LXD's API filtering (`api_filtering`, lxd/filter): `?filter=` holds clauses
 * `[not] <field> <eq|ne> <value>` joined by `and`/`or`, e.g.
 * `name eq web1 or not config.image.os eq "Alpine Linux"`. Values with spaces are quoted.
 *
 * Parsing follows LXD's Parse exactly (same error messages). Matching follows LXD's Match:
 * clauses are folded left to right with no precedence (`a or b and c` is `(a or b) and c`), and
 * a string value matches as a case-insensitive regular expression anchored at both ends unless
 * it contains `^` or `$` (an invalid expression falls back to case-insensitive equality).
 * Deliberate differences, each a fix: an operator other than `eq`/`ne` is rejected (LXD treats
 * anything but `ne` as `eq`), and numbers and booleans compare by their string form (LXD compares
 * a bool with the string "true" and never matches).
 */
import { errors, type ShoalError } from '../shared/index.js';

/** One parsed clause. */
export interface FilterClause {
  /** How this clause combines with the result so far ("and" for the first). */
  readonly prevLogical: 'and' | 'or';
  readonly not: boolean;
  readonly field: string;
  readonly operator: 'eq' | 'ne';
  readonly value: string;
}

/** Parses a filter; `''` gives no clauses. Returns a ShoalError (INVALID_ARGUMENT) on bad syntax. */
export function parseFilter(s: string): FilterClause[] | ShoalError {
  const clauses: FilterClause[] = [];
  const parts = s.split(/\s+/).filter(Boolean);
  let index = 0;
  let prevLogical: 'and' | 'or' = 'and';
  const bad = (why: string): ShoalError => errors.invalid(`Invalid filter: ${why}`);
  while (index < parts.length) {
    let not = false;
    if (parts[index]!.toLowerCase() === 'not') {
      not = true;
      index++;
      if (index === parts.length) return bad('incomplete not clause');
    }
    const field = parts[index]!;
    index++;
    if (index === parts.length) return bad('clause has no operator');
    const operator = parts[index]!;
    if (operator !== 'eq' && operator !== 'ne') return bad(`unknown operator "${operator}" (use eq or ne)`);
    index++;
    if (index === parts.length) return bad('clause has no value');
    let value = parts[index]!;
    if (value.startsWith('"')) {
      if (value.length > 1 && value.endsWith('"')) {
        value = value.slice(1, -1);
      } else {
        value = value.slice(1);
        for (;;) {
          index++;
          if (index === parts.length) return bad('unterminated quote');
          if (parts[index]!.endsWith('"')) break;
          value += ' ' + parts[index]!;
        }
        value += ' ' + parts[index]!.slice(0, -1);
      }
    }
    index++;
    clauses.push({ prevLogical, not, field, operator, value });
    if (index < parts.length) {
      const logical = parts[index]!;
      if (logical !== 'and' && logical !== 'or') return bad('invalid clause composition');
      prevLogical = logical;
      index++;
      if (index === parts.length) return bad('unterminated compound clause');
    }
  }
  return clauses;
}

/** True when `obj` (an API object with LXD's JSON keys) satisfies `clauses`. No clauses: true. */
export function matchFilter(obj: unknown, clauses: readonly FilterClause[]): boolean {
  let match = true;
  for (const clause of clauses) {
    let m = valueMatches(valueOf(obj, clause.field), clause.value);
    if (clause.operator === 'ne') m = !m;
    if (clause.not) m = !m;
    match = clause.prevLogical === 'and' ? match && m : match || m;
  }
  return match;
}

/**
 * The value at a dotted `field` path. Map keys may themselves contain dots (`config.image.os`
 * reads key `image.os` of `config`), so at each level the longest existing key wins.
 */
export function valueOf(obj: unknown, field: string): unknown {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, unknown>;
  if (Object.hasOwn(rec, field)) return rec[field];
  const parts = field.split('.');
  for (let i = parts.length - 1; i >= 1; i--) {
    const key = parts.slice(0, i).join('.');
    if (Object.hasOwn(rec, key)) return valueOf(rec[key], parts.slice(i).join('.'));
  }
  return undefined;
}

function valueMatches(value: unknown, wanted: string): boolean {
  if (typeof value === 'string') {
    const pattern = wanted.includes('^') || wanted.includes('$') ? wanted : `^${wanted}$`;
    let re: RegExp;
    try {
      re = new RegExp(pattern, 'i');
    } catch {
      // Not a valid expression: LXD falls back to case-insensitive equality.
      return value.toLowerCase() === wanted.toLowerCase();
    }
    return re.test(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value) === wanted;
  return false;
}
