/** LXD's byte-size strings (`10GiB`, `512MB`, `1073741824`), as in LXD's `units.ParseByteSizeString`. */
import { errors } from '../shared/index.js';

const MULTIPLIERS: Readonly<Record<string, number>> = {
  '': 1,
  B: 1,
  kB: 1e3,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  PB: 1e15,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
  PiB: 1024 ** 5,
};

/**
 * Parses a byte size. Throws INVALID_ARGUMENT naming `what` (e.g. `device "root" size`) when the
 * string is not a non-negative integer with an optional LXD unit.
 */
export function parseByteSize(value: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const mult = m ? MULTIPLIERS[m[2] ?? ''] : undefined;
  if (!m || mult === undefined) throw errors.invalid(`Invalid ${what} "${value}"`);
  const n = Number(m[1]) * mult;
  if (!Number.isFinite(n) || n < 0 || (mult === 1 && !Number.isInteger(n))) {
    throw errors.invalid(`Invalid ${what} "${value}"`);
  }
  return Math.floor(n);
}
