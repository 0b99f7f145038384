/**
 * The demo's narrator: numbered steps with their duration, the commands they run with their
 * output indented beneath, pauses between steps for a reader (none with --ci), and a timing table
 * at the end. A step that throws stops the demo; the error says which step failed.
 */
import { setTimeout as sleep } from 'node:timers/promises';

const tty = process.stdout.isTTY;
/** Bold when writing to a terminal. */
export const bold = (s: string): string => (tty ? `\x1b[1m${s}\x1b[0m` : s);
/** Dim when writing to a terminal. */
export const dim = (s: string): string => (tty ? `\x1b[2m${s}\x1b[0m` : s);
/** Seconds since `t0` (a performance.now() reading), e.g. `1.23 s`. */
export const since = (t0: number): string => `${((performance.now() - t0) / 1000).toFixed(2)} s`;

/** An error that names the demo step it happened in. */
export class StepError extends Error {
  override readonly name = 'StepError';
  constructor(
    readonly step: string,
    cause: unknown,
  ) {
    super(`Step "${step}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Runs and times the demo's steps. */
export class Steps {
  private n = 0;
  private readonly timings: { title: string; ms: number }[] = [];
  private readonly started = performance.now();

  constructor(private readonly pauseMs: number) {}

  /** Runs `fn` as step N with a heading and its duration; wraps a failure in {@link StepError}. */
  async run<T>(title: string, fn: () => Promise<T>): Promise<T> {
    this.n++;
    console.log(`\n${bold(`[${this.n}] ${title}`)}`);
    const t0 = performance.now();
    let out: T;
    try {
      out = await fn();
    } catch (err) {
      console.log(`    FAILED after ${since(t0)}`);
      throw new StepError(title, err);
    }
    this.timings.push({ title, ms: performance.now() - t0 });
    console.log(dim(`    done in ${since(t0)}`));
    if (this.pauseMs > 0) await sleep(this.pauseMs);
    return out;
  }

  /** Prints a line inside the current step. */
  say(line: string): void {
    console.log(`    ${line}`);
  }

  /** Prints a command as a reader would type it, then its output indented. */
  show(command: string, output: string): void {
    console.log(`    ${bold(`$ ${command}`)}`);
    for (const line of output.replace(/\s+$/, '').split('\n')) console.log(`      ${line}`);
  }

  /** Time since the demo started, in ms. */
  totalMs(): number {
    return performance.now() - this.started;
  }

  /** The timing table of the steps done so far. */
  printTimings(): void {
    console.log(`\n${bold('Timings')}`);
    for (const [i, t] of this.timings.entries()) {
      console.log(`  ${String(i + 1).padStart(2)}. ${(t.ms / 1000).toFixed(2).padStart(7)} s  ${t.title}`);
    }
    console.log(`      ${(this.totalMs() / 1000).toFixed(2).padStart(7)} s  total`);
  }
}
