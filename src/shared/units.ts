/**
 * LXD byte sizes (`units.ParseByteSizeString`): "512MiB", "5GiB", "10GB", "1048576", "20 GiB".
 * Binary suffixes (KiB, MiB, GiB, TiB, PiB, EiB) are powers of 1024; decimal ones (kB, MB, GB,
 * TB, PB, EB) powers of 1000; "B" or no suffix means bytes. Pure.
 */
import { errors } from './errors.js';

const MULTIPLIERS: Readonly<Record<string, number>> = {
  '': 1,
  B: 1,
  kB: 1e3,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  PB: 1e15,
  EB: 1e18,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
  PiB: 2 ** 50,
  EiB: 2 ** 60,
};

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/;

/**
 * Parses an LXD byte size into a whole number of bytes (fractions are rounded down, as LXD
 * does). Throws INVALID_ARGUMENT naming `what` (e.g. `Invalid value for "size"`) when malformed.
 */
export function parseByteSize(value: string, what = 'size'): number {
  const m = SIZE.exec(value);
  const mult = m ? MULTIPLIERS[m[2] ?? ''] : undefined;
  if (!m || mult === undefined) {
    throw errors.invalid(`Invalid value for "${what}": "${value}" is not a byte size (e.g. 512MiB, 5GiB, 10GB)`);
  }
  const bytes = Math.floor(Number(m[1]) * mult);
  if (!Number.isSafeInteger(bytes)) throw errors.invalid(`Invalid value for "${what}": "${value}" is too large`);
  return bytes;
}

/** Formats bytes the way LXD prints sizes (`units.GetByteSizeStringIEC`): "5.00GiB", "512B". */
export function formatByteSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${bytes}B` : `${v.toFixed(2)}${units[i]}`;
}
