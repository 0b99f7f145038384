/**
 * A revert stack for multi-step host work (incus `shared/revert`):
 *
 * ```ts
 * const r = new Reverter();
 * try { await step1(); r.add('remove x', undo1); await step2(); r.success(); }
 * finally { await r.fail(); }
 * ```
 * `fail()` after `success()` does nothing. Otherwise it runs the undo steps in reverse order; if
 * any of them throws it raises {@link RevertIncompleteError} naming exactly what remains.
 */
import { RevertIncompleteError } from './errors.js';

interface UndoStep {
  readonly what: string;
  readonly undo: () => Promise<void> | void;
}

export class Reverter {
  private steps: UndoStep[] = [];
  private done = false;

  /** Registers an undo step; `what` names the thing it removes, for error messages. */
  add(what: string, undo: () => Promise<void> | void): void {
    this.steps.push({ what, undo });
  }

  /** Marks the work as complete: undo steps will not run. */
  success(): void {
    this.done = true;
    this.steps = [];
  }

  /** Runs the undo steps in reverse unless `success()` was called. Idempotent. */
  async fail(): Promise<void> {
    if (this.done) return;
    this.done = true;
    const remaining: string[] = [];
    let firstErr: unknown;
    for (const step of this.steps.reverse()) {
      try {
        await step.undo();
      } catch (err) {
        remaining.push(step.what);
        firstErr ??= err;
      }
    }
    this.steps = [];
    if (remaining.length > 0) throw new RevertIncompleteError(remaining.reverse(), firstErr);
  }

  /**
   * Hands the pending undo steps to the caller as one function (for a caller that continues the
   * work and wants to revert it later) and disarms this reverter.
   */
  clone(): () => Promise<void> {
    const steps = this.steps;
    this.success();
    const r = new Reverter();
    for (const s of steps) r.add(s.what, s.undo);
    return () => r.fail();
  }
}
