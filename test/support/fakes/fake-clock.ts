/** A manual Clock for unit tests: timers fire only when the test calls `advance(ms)`. */
import { toDisposable, type Clock, type Disposable } from '../../../src/shared/index.js';

export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): Disposable {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return toDisposable(() => this.timers.delete(id));
  }

  /** Moves time forward, firing due timers in order (timers they set fire too if due). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}
