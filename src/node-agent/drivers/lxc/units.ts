/**
 * Pure parsers for LXD value syntaxes the LXC driver needs: byte sizes (`256MiB`, `1GB`),
 * booleans (`true`/`1`/`yes`/`on`), CPU sets (`0-1,3`) and CPU allowances (`50%`, `25ms/100ms`).
 * Each returns `undefined` for a malformed value; callers turn that into an INVALID_ARGUMENT error
 * naming the key.
 */

const DECIMAL: Readonly<Record<string, number>> = {
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

/** LXD's ParseByteSizeString: an integer with an optional decimal (kB…EB) or binary (KiB…EiB) suffix. */
export function parseByteSize(value: string): number | undefined {
  const m = /^(\d+)\s*([a-zA-Z]*)$/.exec(value.trim());
  if (!m) return undefined;
  const mult = DECIMAL[m[2] ?? ''];
  if (mult === undefined) return undefined;
  const n = Number(m[1]) * mult;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** `limits.memory`: a byte size, or a percentage (1–100) of `hostMemoryBytes`, rounded down to a page. */
export function parseMemoryLimit(value: string, hostMemoryBytes: number): number | undefined {
  const pct = /^(\d+)%$/.exec(value.trim());
  if (pct) {
    const p = Number(pct[1]);
    if (p < 1 || p > 100) return undefined;
    return Math.floor((hostMemoryBytes * p) / 100 / 4096) * 4096;
  }
  const n = parseByteSize(value);
  return n !== undefined && n > 0 ? n : undefined;
}

/** LXD's shared.IsTrue / IsFalse. Returns undefined for anything else. */
export function parseBool(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  return undefined;
}

/** True when `config[key]` is a true boolean. */
export function isTrue(config: Readonly<Record<string, string>>, key: string): boolean {
  const v = config[key];
  return v !== undefined && parseBool(v) === true;
}

/** A non-negative decimal integer, or undefined. */
export function parseUint(value: string): number | undefined {
  if (!/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A decimal integer (possibly negative), or undefined. */
export function parseInt10(value: string): number | undefined {
  if (!/^-?\d+$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

/** `limits.cpu`: either a count of CPUs or an explicit set of CPU ids. */
export type CpuLimit = { readonly kind: 'count'; readonly count: number } | { readonly kind: 'set'; readonly cpus: readonly number[] };

/**
 * Parses `limits.cpu` like LXD: `2` is a count (pinned to that many CPUs), `0-1,3` or `1-1` an
 * explicit set. A single number is always a count; write `3-3` to pin to CPU 3.
 */
export function parseCpuLimit(value: string): CpuLimit | undefined {
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const count = Number(v);
    return count >= 1 && count <= 4096 ? { kind: 'count', count } : undefined;
  }
  const cpus = parseCpuSet(v);
  return cpus === undefined ? undefined : { kind: 'set', cpus };
}

/** Parses a kernel cpu list (`0-3,5`) into sorted unique ids. */
export function parseCpuSet(value: string): number[] | undefined {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(value.trim())) return undefined;
  const out = new Set<number>();
  for (const part of value.trim().split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (a === undefined) return undefined;
    const hi = b ?? a;
    if (hi < a || hi - a > 4096) return undefined;
    for (let i = a; i <= hi; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** Formats sorted CPU ids as a kernel cpu list (`0-2,5`). */
export function formatCpuSet(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i] as number;
    let end = start;
    while (i + 1 < sorted.length && sorted[i + 1] === end + 1) {
      end += 1;
      i += 1;
    }
    parts.push(start === end ? `${start}` : `${start}-${end}`);
    i += 1;
  }
  return parts.join(',');
}

/** `limits.cpu.allowance`: a soft share (`50%`) or a hard quota (`25ms/100ms`). */
export type CpuAllowance =
  | { readonly kind: 'share'; readonly percent: number }
  | { readonly kind: 'quota'; readonly quotaUs: number; readonly periodUs: number };

/** Parses `limits.cpu.allowance` as LXD does. */
export function parseCpuAllowance(value: string): CpuAllowance | undefined {
  const v = value.trim();
  const pct = /^(\d+)%$/.exec(v);
  if (pct) {
    const percent = Number(pct[1]);
    return percent >= 1 && percent <= 100 ? { kind: 'share', percent } : undefined;
  }
  const q = /^(\d+)ms\/(\d+)ms$/.exec(v);
  if (q) {
    const quotaUs = Number(q[1]) * 1000;
    const periodUs = Number(q[2]) * 1000;
    if (quotaUs < 1000 || periodUs < 1000 || periodUs > 1_000_000) return undefined;
    return { kind: 'quota', quotaUs, periodUs };
  }
  return undefined;
}

/**
 * Chooses `count` CPUs out of `hostCpus` for an instance, spreading instances over the host: the
 * window starts at a stable hash of `seed` (the instance name). LXD rebalances pinned instances at
 * run time; Shoal picks once per render, deterministically. A count above the host's CPUs gets all.
 */
export function pickCpus(count: number, hostCpus: readonly number[], seed: string): number[] {
  const cpus = [...hostCpus].sort((a, b) => a - b);
  if (count >= cpus.length) return cpus;
  let h = 2166136261;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619) >>> 0;
  const start = h % cpus.length;
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(cpus[(start + i) % cpus.length] as number);
  return out.sort((a, b) => a - b);
}
