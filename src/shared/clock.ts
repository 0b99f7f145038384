/**
 * Time and randomness as injected ports. Pure modules never read the wall clock or Math.random;
 * they receive a Clock and an Rng. Defaults are wired only in the daemon.
 */
import { toDisposable, type Disposable } from './disposables.js';

/** Wall time in milliseconds and one-shot timers. */
export interface Clock {
  /** Milliseconds since the epoch (monotonic enough for timeouts; not for ordering across hosts). */
  now(): number;
  /** Calls `fn` once after `ms`; disposing cancels it. */
  setTimer(ms: number, fn: () => void): Disposable;
}

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/** The real clock. Timers are unref'd so they never keep a process alive on their own. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms: number, fn: () => void): Disposable {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return toDisposable(() => clearTimeout(t));
  },
};

/**
 * A deterministic PRNG (sfc32) seeded from a 32-bit integer. Same seed, same sequence, on every
 * platform. Used by simulations and tests; the daemon seeds it from crypto randomness.
 */
export function seededRng(seed: number): Rng {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 ^ Math.imul(seed, 0x85ebca6b);
  let c = 0xb7e15162 ^ Math.imul(seed, 0xc2b2ae35);
  let d = seed >>> 0;
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

/** An integer in [lo, hi) from `rng`. */
export function randomInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo));
}
