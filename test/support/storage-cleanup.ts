/**
 * Test hygiene for storage and image tests: a per-test stack of undo steps (temp dirs, mounts,
 * loop devices) run in afterEach even when the test failed, and temp dirs named with this
 * run's host tag (/tmp/shoal-<tag>-st-*, test/support/host-plan.ts) so nothing collides with other suites sharing the host.
 */
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/node-agent/exec.js';
import { HOST_TAG } from './host-plan.js';

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
    const dir = await mkdtemp(join(tmpdir(), `shoal-${HOST_TAG}-st-${label}-`));
    await chmod(dir, 0o711);
    this.add(`temp dir ${dir}`, () => rm(dir, { recursive: true, force: true }));
    return dir;
  }
}

/**
 * Safety net after a failed test: unmounts every mount point under `dir` (deepest first) and
 * detaches every loop device whose backing file is under `dir`. Only objects inside this test's
 * own temp dir are touched. Returns what it released.
 */
export async function releaseHostObjectsUnder(dir: string): Promise<string[]> {
  const released: string[] = [];
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const points = mountinfo
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p): p is string => p !== undefined && p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
  for (const p of points) {
    await run('umount', [p]);
    released.push(`mount ${p}`);
  }
  const loops = await run('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE']);
  for (const line of loops.stdout.split('\n')) {
    const [name, file] = line.trim().split(/\s+/, 2);
    if (name && file?.startsWith(prefix)) {
      await run('losetup', ['--detach', name]);
      released.push(`loop ${name} (${file})`);
    }
  }
  return released;
}
