/** Value checks used by the config key registry (LXD's shared/validate, as far as Shoal needs it). */
import { parseByteSize } from '../../shared/index.js';

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** LXD's shared.IsTrue. */
export function isTrue(value: string): boolean {
  return TRUE.has(value.toLowerCase());
}

/** The problem with `value` for `type`, or undefined. */
export function checkType(type: 'string' | 'bool' | 'integer' | 'float', value: string): string | undefined {
  switch (type) {
    case 'string':
      return undefined;
    case 'bool':
      return TRUE.has(value.toLowerCase()) || FALSE.has(value.toLowerCase()) ? undefined : `"${value}" is not a boolean`;
    case 'integer':
      return /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? undefined : `"${value}" is not an integer`;
    case 'float':
      return /^-?\d+(\.\d+)?$/.test(value) ? undefined : `"${value}" is not a number`;
  }
}

type Check = (value: string) => string | undefined;

export const atLeast =
  (min: number): Check =>
  (x) =>
    Number(x) >= min ? undefined : `must be at least ${min}`;

export const between =
  (min: number, max: number): Check =>
  (x) =>
    Number(x) >= min && Number(x) <= max ? undefined : `must be between ${min} and ${max}`;

export const oddAtLeast =
  (min: number): Check =>
  (x) =>
    Number(x) >= min && Number(x) % 2 === 1 ? undefined : `must be an odd number of at least ${min}`;

export const minusOneOrAtLeast =
  (min: number): Check =>
  (x) =>
    Number(x) === -1 || Number(x) >= min ? undefined : `must be -1 or at least ${min}`;

export const positive: Check = (x) => (Number(x) > 0 ? undefined : 'must be greater than 0');

export const oneOf =
  (...values: string[]): Check =>
  (x) =>
    values.includes(x) ? undefined : `must be one of ${values.join(', ')}`;

/** LXD's token expiry: a number and a unit (S, M, H, d, w, m, y). */
export const expiry: Check = (x) => (/^\d+[SMHdwmy]$/.test(x) ? undefined : 'must be a number followed by S, M, H, d, w, m or y');

/** Snapshot expiry: space-separated numbers with units (M, H, d, w, m, y). */
export const snapshotExpiry: Check = (x) => (/^(\d+[MHdwmy])( \d+[MHdwmy])*$/.test(x) ? undefined : 'must look like "1d" or "2w 3d"');

/** host:port, [v6]:port, or a bare host (the default port applies). */
export const address: Check = (x) =>
  /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+|[0-9a-fA-F:]+)?(:\d{1,5})?$/.test(x) && x !== '' ? undefined : `"${x}" is not an address`;

export const size: Check = (x) => {
  try {
    parseByteSize(x);
    return undefined;
  } catch {
    return `"${x}" is not a size`;
  }
};

export const cpuLimit: Check = (x) => (/^\d+$/.test(x) && Number(x) >= 1) || /^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(x) ? undefined : 'must be a CPU count or a CPU set';

export const memoryLimit: Check = (x) => {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(x);
  if (pct) return Number(pct[1]) > 0 && Number(pct[1]) <= 100 ? undefined : 'percentage out of range';
  return size(x);
};

export const nameList: Check = (x) => (x.split(',').every((n) => /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(n.trim())) ? undefined : 'must be a comma-separated list of names');

export const cidrOrKeyword =
  (family: 4 | 6): Check =>
  (x) => {
    if (x === 'none' || x === 'auto') return undefined;
    const ok = family === 4 ? /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(x) : /^[0-9a-fA-F:]+\/\d{1,3}$/.test(x);
    return ok ? undefined : `must be none, auto or an IPv${family} CIDR`;
  };
