// FakeClock: a manual Clock for unit tests; time moves only when the test calls advance().
import type { Clock, Disposable } from '../../../src/shared/index.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  live: boolean;
}

/** Timers fire, in due order, during {@link FakeClock.advance}. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(start = Date.UTC(2024, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): Disposable {
    const timer: Timer = { at: this.t + ms, seq: this.seq++, fn, live: true };
    this.timers.push(timer);
    return { dispose: () => void (timer.live = false) };
  }

  /** Moves time forward by `ms`, firing due timers (including ones they set) in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.t = Math.max(this.t, due.at);
      due.live = false;
      due.fn();
    }
    this.timers = this.timers.filter((x) => x.live);
    this.t = end;
  }

  /** Number of timers not yet fired or disposed. */
  get pending(): number {
    return this.timers.filter((x) => x.live).length;
  }
}
