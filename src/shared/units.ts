/**
 * LXD's size units (shared/units): decimal kB/MB/GB/TB/PB/EB (powers of 1000) and binary
 * KiB/MiB/GiB/TiB/PiB/EiB (powers of 1024), an optional `B`, or a bare number of bytes.
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
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
  PiB: 1024 ** 5,
  EiB: 1024 ** 6,
};

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([kKMGTPE]i?B|B)?\s*$/;

/** Parses `512MiB`, `1GB`, `1073741824`… into bytes (rounded down). Throws INVALID_ARGUMENT. */
export function parseByteSize(value: string): number {
  const m = SIZE.exec(value);
  const mult = m ? MULTIPLIERS[m[2] ?? ''] : undefined;
  if (!m || mult === undefined) throw errors.invalid(`Invalid size "${value}"`);
  return Math.floor(Number(m[1]) * mult);
}

/** Formats bytes the way LXD prints them (binary units, two decimals): `1.50GiB`. */
export function formatByteSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v}B` : `${v.toFixed(2)}${units[i]}`;
}
