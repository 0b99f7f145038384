/**
 * LXD expiry expressions (shared/util.go GetExpiry), used by `core.remote_token_expiry`,
 * `snapshots.expiry` and image expiry: space-separated `<n><unit>` with units S (seconds),
 * M (minutes), H (hours), d (days), w (weeks), m (months), y (years), each unit at most once.
 */
import { errors } from '../shared/index.js';

const TERM = /^(\d+)(S|M|H|d|w|m|y)$/;

/**
 * The instant `expr` after `fromMs` (epoch ms), or undefined for an empty expression ("never").
 * Throws INVALID_ARGUMENT "Invalid expiry expression". Months and years follow the calendar (UTC).
 */
export function expiryFrom(fromMs: number, expr: string): number | undefined {
  const text = expr.trim();
  if (text === '') return undefined;
  const seen = new Map<string, number>();
  for (const term of text.split(' ')) {
    const m = TERM.exec(term);
    if (!m || seen.has(m[2]!)) throw errors.invalid(`Invalid expiry expression "${expr}"`);
    seen.set(m[2]!, Number(m[1]));
  }
  const get = (u: string): number => seen.get(u) ?? 0;
  const d = new Date(fromMs);
  d.setUTCFullYear(d.getUTCFullYear() + get('y'), d.getUTCMonth() + get('m'), d.getUTCDate() + get('d') + 7 * get('w'));
  return d.getTime() + ((get('H') * 60 + get('M')) * 60 + get('S')) * 1000;
}
