/**
 * Trace of a simulation run: a ring buffer of the last N lines for failure reports, and, when
 * replaying one seed, every line written to a file under the OS temp directory. Lines are kept as
 * closures and rendered only when needed (rendering every event would dominate the run time), so
 * a closure must capture immutable values only.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Line = { readonly time: number; readonly what: () => string };

export class Trace {
  private readonly ring: Line[];
  private next = 0;
  private count = 0;
  private pending: string[] = [];
  /** The full trace file when a full trace was requested, else undefined. */
  readonly file: string | undefined;

  constructor(
    private readonly capacity: number,
    full: { readonly seed: number } | undefined,
  ) {
    this.ring = new Array<Line>(capacity);
    if (full) {
      this.file = join(tmpdir(), `shoal-raft-sim-${full.seed}.trace`);
      writeFileSync(this.file, '');
    } else {
      this.file = undefined;
    }
  }

  add(time: number, what: () => string): void {
    const line = { time, what };
    this.ring[this.next] = line;
    this.next = (this.next + 1) % this.capacity;
    this.count++;
    if (this.file !== undefined) {
      this.pending.push(render(line));
      if (this.pending.length >= 5000) this.flush();
    }
  }

  /** The last `capacity` lines, oldest first, rendered. */
  tail(): string[] {
    const n = Math.min(this.count, this.capacity);
    const out: string[] = [];
    for (let k = 0; k < n; k++) out.push(render(this.ring[(this.next - n + k + this.capacity) % this.capacity]!));
    return out;
  }

  flush(): void {
    if (this.file !== undefined && this.pending.length > 0) {
      appendFileSync(this.file, this.pending.join('\n') + '\n');
      this.pending = [];
    }
  }
}

function render(line: Line): string {
  return `${line.time.toFixed(3).padStart(10)}  ${line.what()}`;
}
