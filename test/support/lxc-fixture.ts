/**
 * Fixture for tests that run real LXC containers: a temp state dir (/tmp/shoal-<tag>-lxc-*, 0711)
 * with its own LXC path, the busybox image of src/node-agent/images (built once per process)
 * unpacked into per-instance volumes, instance names `<tag>-<word>-<random>`, test bridges
 * `<tag>b<random>` in the host plan's lxc block (test/support/host-plan.ts), and `close()` that
 * force-stops every container of the LXC path, disposes
 * drivers, deletes bridges and removes the temp dir, whatever state the test left.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LxcInstanceDriver } from '../../src/node-agent/drivers/lxc/lxc-driver.js';
import { run } from '../../src/node-agent/exec.js';
import { buildBusyboxImage } from '../../src/node-agent/images/busybox.js';
import { agentPaths, type AgentPaths, type InstanceRuntime, type InstanceSpec } from '../../src/node-agent/types.js';
import { createLogger, silentLogger, type Logger } from '../../src/shared/index.js';
import { blockSubnet, HOST_TAG } from './host-plan.js';

let bridgeCounter = 0;

let imageP: Promise<Buffer> | undefined;

/** The busybox image tarball (built once per test process). */
export function busyboxTarball(): Promise<Buffer> {
  imageP ??= buildBusyboxImage({}, AbortSignal.timeout(60_000)).then((img) => img.tarball);
  return imageP;
}

/** The default unprivileged range of this host (root:100000:65536). */
export const TEST_IDMAP = { hostStart: 100000, size: 65536 } as const;

/** A never-aborted signal with a generous deadline. */
export const sig = (): AbortSignal => AbortSignal.timeout(90_000);

export class LxcFixture {
  private readonly drivers: LxcInstanceDriver[] = [];
  private readonly bridges: string[] = [];
  private readonly extra: (() => Promise<void>)[] = [];
  readonly log: Logger;

  private constructor(
    readonly base: string,
    readonly paths: AgentPaths,
  ) {
    this.log = process.env['SHOAL_TEST_LOG'] ? createLogger({ level: 'debug' }) : silentLogger();
  }

  static async create(): Promise<LxcFixture> {
    const base = await mkdtemp(join(tmpdir(), `shoal-${HOST_TAG}-lxc-`));
    await chmod(base, 0o711);
    const fx = new LxcFixture(base, agentPaths(base));
    await mkdir(join(base, 'volumes'), { mode: 0o711 });
    return fx;
  }

  /** A new driver over this fixture's paths (a "restarted agent" is simply another one). */
  driver(): LxcInstanceDriver {
    const d = new LxcInstanceDriver({ paths: this.paths, log: this.log });
    this.drivers.push(d);
    return d;
  }

  /** A unique instance name `<tag>-<word>-<4 hex>`. */
  name(word = 'c'): string {
    return `${HOST_TAG}-${word}-${randomBytes(2).toString('hex')}`;
  }

  /** Unpacks the busybox image into a fresh volume directory and returns its path. */
  async volume(name: string): Promise<string> {
    const vol = join(this.base, 'volumes', name);
    await mkdir(vol, { mode: 0o700 });
    await run('tar', ['-xf', '-', '-C', vol], { input: await busyboxTarball() });
    return vol;
  }

  /** A runtime for a new unprivileged instance with a busybox root (no devices unless given). */
  async runtime(name: string, spec: Partial<Omit<InstanceSpec, 'name'>> = {}, rt: Partial<InstanceRuntime> = {}): Promise<InstanceRuntime> {
    const volumePath = rt.volumePath ?? (await this.volume(name));
    return {
      spec: { name, project: 'default', ephemeral: false, config: {}, devices: {}, ...spec },
      hostName: name,
      volumePath,
      nics: [],
      disks: [],
      unixDevices: [],
      idmap: TEST_IDMAP,
      ...rt,
    };
  }

  /** A Linux bridge named `<tag>b<4 hex>` with `<prefix>.1/24` in the lxc block, deleted by `close()`. */
  async bridge(): Promise<{ name: string; subnet: string }> {
    const name = `${HOST_TAG}b${randomBytes(2).toString('hex')}`;
    const subnet = blockSubnet('lxc', 8 + (bridgeCounter++ % 56));
    await run('ip', ['link', 'add', name, 'type', 'bridge']);
    this.bridges.push(name);
    await run('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', name]);
    await run('ip', ['link', 'set', name, 'up']);
    return { name, subnet };
  }

  /** Registers an extra cleanup step. */
  onClose(fn: () => Promise<void>): void {
    this.extra.push(fn);
  }

  async close(): Promise<void> {
    const failures: string[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        failures.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    for (const d of this.drivers) d.dispose();
    for (const fn of this.extra.reverse()) await attempt('extra cleanup', fn);
    const names = await readdir(this.paths.containers).catch(() => [] as string[]);
    for (const n of names) {
      if (n.startsWith('.')) continue;
      await attempt(`stop ${n}`, () => run('lxc-stop', ['-P', this.paths.containers, '-n', n, '-k'], { okCodes: [0, 1, 2] }));
    }
    for (const b of this.bridges) await attempt(`bridge ${b}`, () => run('ip', ['link', 'del', b], { okCodes: [0, 1] }));
    // A failed start's monitor may still be writing its log and stop marker: retry ENOTEMPTY.
    await attempt(`temp dir ${this.base}`, () => rm(this.base, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 }));
    if (failures.length > 0) throw new Error(`Cleanup failed:\n${failures.join('\n')}`);
  }
}
