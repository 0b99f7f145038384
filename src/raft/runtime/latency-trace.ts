/**
 * A debug facility: stage timestamps of sampled log indexes along the write path (propose, Ready
 * taken, App sent, App received, persisted, ack sent/received, committed, applied), cheap enough to
 * leave wired in. Off unless a {@link LatencyTrace} is passed to RaftNode / GrpcTransport (the
 * kv-member program does so when SHOAL_RAFT_LATENCY_TRACE names a file). Timestamps are epoch
 * milliseconds with sub-millisecond resolution (performance.timeOrigin + performance.now()), so the
 * records of different processes on one host can be joined by index.
 */
import { performance } from 'node:perf_hooks';

/** Receives stage marks for a range of log indexes [lo, hi]. */
export interface LatencyTrace {
  mark(stage: string, lo: number, hi?: number, at?: number): void;
  /** A duration not tied to an index (e.g. a request handler's time). */
  sample?(name: string, ms: number): void;
}

/** Epoch milliseconds with sub-millisecond resolution. */
export function traceNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Records the first time each stage is seen for every `sampleEvery`-th index; `records()` returns
 * them (index → stage → epoch ms). Keeps at most `maxIndexes` indexes (the oldest are dropped).
 */
export class LatencyRecorder implements LatencyTrace {
  private readonly byIndex = new Map<number, Record<string, number>>();
  private readonly samples = new Map<string, number[]>();

  constructor(
    private readonly sampleEvery = 16,
    private readonly maxIndexes = 20_000,
  ) {}

  mark(stage: string, lo: number, hi = lo, at?: number): void {
    if (lo <= 0 || hi < lo) return;
    const n = this.sampleEvery;
    let first = Math.ceil(lo / n) * n;
    if (first > hi) return;
    const t = at ?? traceNow();
    for (; first <= hi; first += n) {
      let rec = this.byIndex.get(first);
      if (rec === undefined) {
        rec = {};
        this.byIndex.set(first, rec);
        if (this.byIndex.size > this.maxIndexes) {
          const oldest = this.byIndex.keys().next().value;
          if (oldest !== undefined) this.byIndex.delete(oldest);
        }
      }
      rec[stage] ??= t;
    }
  }

  sample(name: string, ms: number): void {
    let xs = this.samples.get(name);
    if (xs === undefined) this.samples.set(name, (xs = []));
    if (xs.length < this.maxIndexes) xs.push(ms);
  }

  /** Index → stage → epoch ms, and the samples under the key `samples`. */
  records(): Record<string, unknown> {
    return { ...Object.fromEntries(this.byIndex), samples: Object.fromEntries(this.samples) };
  }
}
