/**
 * The benchmark's cleanup stack: every host object the benchmark makes (agent state dir, LXD
 * daemon and its dir, loop devices, mounts, containers, bridges) registers its removal here, and
 * `runAll()` undoes them in reverse order, on success, on failure and on SIGINT/SIGTERM.
 */

type Step = { readonly what: string; readonly fn: () => Promise<void> };

const steps: Step[] = [];
let running: Promise<void> | undefined;

/** Registers an undo step; returns a function that runs it early (and unregisters it). */
export function onCleanup(what: string, fn: () => Promise<void>): () => Promise<void> {
  const step = { what, fn };
  steps.push(step);
  return async () => {
    const i = steps.indexOf(step);
    if (i >= 0) steps.splice(i, 1);
    await fn();
  };
}

/** Runs every registered step in reverse order; reports failures on stderr and keeps going. */
export function runAll(): Promise<void> {
  running ??= (async () => {
    while (steps.length > 0) {
      const step = steps.pop()!;
      try {
        await step.fn();
      } catch (err) {
        process.stderr.write(`[bench] cleanup of ${step.what} failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  })();
  return running;
}

/** Cleans up and exits on SIGINT/SIGTERM. */
export function cleanupOnSignals(): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`[bench] ${sig}: cleaning up\n`);
      void runAll().finally(() => process.exit(130));
    });
  }
}
