/** Small statistics and timing helpers for the agent benchmark. */

/** Wall-clock milliseconds (monotonic). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Runs `fn` and returns its duration in milliseconds. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = nowMs();
  await fn();
  return nowMs() - t0;
}

/** The median of `xs` (NaN for none). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Rounds to one decimal. */
export function r1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Writes a progress line on stderr (stdout carries only the table and the JSON line). */
export function say(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}
