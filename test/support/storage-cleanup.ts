/**
 * Test hygiene for storage and image tests: a per-test stack of undo steps (temp dirs, mounts,
 * loop devices) run in afterEach even when the test failed, and temp dirs named with this
 * helper's tag (/tmp/shoal-sst-*) so nothing collides with other suites sharing the host.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** LIFO stack of cleanup steps; `run()` executes all of them and reports every failure. */
export class CleanupStack {
  private steps: { what: string; fn: () => Promise<void> | void }[] = [];

  add(what: string, fn: () => Promise<void> | void): void {
    this.steps.push({ what, fn });
  }

  async run(): Promise<void> {
    const failures: string[] = [];
    for (const step of this.steps.reverse()) {
      try {
        await step.fn();
      } catch (err) {
        failures.push(`${step.what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.steps = [];
    if (failures.length > 0) throw new Error(`Cleanup failed:\n${failures.join('\n')}`);
  }

  /** A new temp dir (mode 0711, so unprivileged containers may traverse it) removed by `run()`. */
  async tempDir(label: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `shoal-sst-${label}-`));
    await chmod(dir, 0o711);
    this.add(`temp dir ${dir}`, () => rm(dir, { recursive: true, force: true }));
    return dir;
  }
}
