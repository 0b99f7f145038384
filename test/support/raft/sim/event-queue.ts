/**
 * The discrete-event core: a binary min-heap of events keyed by (virtual time, insertion order), so
 * events at the same instant run in the order they were scheduled and every run is reproducible.
 */

/** One scheduled event. `what` renders it for traces (called only when a trace line is needed). */
export interface SimEvent {
  readonly time: number;
  readonly seq: number;
  readonly run: () => void;
  readonly what: () => string;
}

export class EventQueue {
  private heap: SimEvent[] = [];
  private seq = 0;
  private nowMs = 0;

  /** Current virtual time in milliseconds. */
  get now(): number {
    return this.nowMs;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `run` after `delayMs` (>= 0) of virtual time. */
  after(delayMs: number, what: () => string, run: () => void): void {
    this.at(this.nowMs + Math.max(0, delayMs), what, run);
  }

  /** Schedules `run` at absolute virtual time `time` (never in the past). */
  at(time: number, what: () => string, run: () => void): void {
    const ev: SimEvent = { time: Math.max(time, this.nowMs), seq: this.seq++, run, what };
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** Removes and returns the earliest event, advancing the clock to its time; undefined when empty. */
  pop(): SimEvent | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    this.nowMs = top.time;
    return top;
  }

  /** Time of the earliest event, or Infinity. */
  peekTime(): number {
    return this.heap[0]?.time ?? Infinity;
  }
}

function less(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
