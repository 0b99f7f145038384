// Failure injection shared by the fakes: `fail(method, err, times)` makes the next `times` calls of
// `method` throw `err` (after recording the call), so unit tests can break any orchestration step.

/** A per-method failure schedule and call log. */
export class FakeFailures {
  private readonly planned = new Map<string, { err: Error; times: number }>();
  /** Every call, in order: `method:arg`. */
  readonly calls: string[] = [];

  /** Makes the next `times` calls of `method` throw `err`. */
  fail(method: string, err: Error, times = 1): void {
    this.planned.set(method, { err, times });
  }

  /** Records a call and throws when a failure is planned for it. */
  hit(method: string, arg = ''): void {
    this.calls.push(arg ? `${method}:${arg}` : method);
    const p = this.planned.get(method);
    if (!p) return;
    if (--p.times <= 0) this.planned.delete(method);
    throw p.err;
  }

  /** How many times `method` was called (optionally with `arg`). */
  count(method: string, arg?: string): number {
    return this.calls.filter((c) => c === (arg === undefined ? method : `${method}:${arg}`) || (arg === undefined && c.startsWith(`${method}:`))).length;
  }
}
