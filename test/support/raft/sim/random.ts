/**
 * SimRandom: the simulator's only source of randomness, a seeded sfc32 stream (src/shared/clock.ts)
 * with the helpers the simulator needs. `fork(label)` derives an independent stream so that, e.g.,
 * the network's draws do not shift when a client draws one more number.
 */
import { seededRng, type Rng } from '../../../../src/shared/index.js';

export class SimRandom {
  private readonly rng: Rng;

  constructor(readonly seed: number) {
    this.rng = seededRng(seed);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.rng();
  }

  /** Uniform integer in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rng() * (hi - lo));
  }

  /** Uniform real in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + this.rng() * (hi - lo);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.rng() < p;
  }

  /** Exponentially distributed with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.rng()) * mean;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.rng() * items.length)]!;
  }

  /** Picks by weight; weights need not sum to 1. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    const total = choices.reduce((s, [, w]) => s + w, 0);
    let x = this.rng() * total;
    for (const [v, w] of choices) {
      if ((x -= w) < 0) return v;
    }
    return choices[choices.length - 1]![0];
  }

  shuffle<T>(items: readonly T[]): T[] {
    const a = [...items];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.rng() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }

  /** An independent stream derived from this stream's seed and `label`. */
  fork(label: string): SimRandom {
    let h = this.seed ^ 0x811c9dc5;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
    return new SimRandom(h >>> 0);
  }

  /** A plain `() => number` for APIs that take an Rng (RaftConfig.rng). */
  asRng(): Rng {
    return () => this.rng();
  }
}
