/**
 * Stop detection (ephemeral removal, LXD's "instance stopped by itself"). LXC runs our
 * `lxc.hook.post-stop` script when an instance stops for any reason (lxc-stop, `poweroff` inside,
 * init dying, a failed start), with LXC_TARGET=stop|reboot. The script drops a marker file
 * `<containers>/.shoal/stops/<hostName>` (write + rename). The agent watches that directory with
 * inotify (fs.watch) and scans it when watching starts, so stops that happened while the agent was
 * down are reported at the next start. A marker is reported when its target is "stop" and the
 * instance is still defined and still STOPPED (a reboot, or a start that raced us, is dropped);
 * the marker is removed only if it was not replaced meanwhile (inode check), so a second stop is
 * never lost. No polling, no extra process per instance, nothing lingering after dispose.
 */
import { watch, type FSWatcher } from 'node:fs';
import { chmod, lstat, mkdir, readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, Disposable, Logger } from '../../../shared/index.js';
import type { InstanceStopEvent } from '../instance-driver.js';
import { writeFileAtomic, type InstanceStore } from './instance-store.js';
import type { LxcTools } from './lxc-tools.js';

export type StopListener = (event: InstanceStopEvent) => void;

/** How long after a reboot marker the instance must be back up to not count as stopped. */
const REBOOT_GRACE_MS = 5000;
/** A `starting` phase older than this was left by an agent that died mid-start. */
const STALE_START_MS = 120_000;

/** The hook script (POSIX sh, runs as root in the host namespaces). */
export const STOP_HOOK_SCRIPT = `#!/bin/sh
# Written by the Shoal node agent (drivers/lxc/stop-watcher.ts); rewritten when it differs.
# LXC runs it as lxc.hook.post-stop with LXC_NAME and LXC_TARGET (stop|reboot). It leaves one
# marker per stopped instance for the agent, which watches the directory.
d="\${0%/*}/stops"
[ -n "$LXC_NAME" ] || exit 0
printf '%s\\n' "\${LXC_TARGET:-stop}" > "$d/.$LXC_NAME.tmp" && mv -f "$d/.$LXC_NAME.tmp" "$d/$LXC_NAME"
exit 0
`;

/** Paths of the hook and its marker directory under an LXC path. */
export function stopHookPaths(lxcpath: string): { hook: string; stops: string } {
  return { hook: join(lxcpath, '.shoal', 'post-stop'), stops: join(lxcpath, '.shoal', 'stops') };
}

/** Installs (or refreshes) the hook script and marker directory. Idempotent. */
export async function installStopHook(lxcpath: string): Promise<string> {
  const { hook, stops } = stopHookPaths(lxcpath);
  await mkdir(stops, { recursive: true, mode: 0o700 });
  let current = '';
  try {
    current = await readFile(hook, 'utf8');
  } catch {
    current = ''; // not installed yet
  }
  if (current !== STOP_HOOK_SCRIPT) await writeFileAtomic(hook, STOP_HOOK_SCRIPT, 0o755);
  await chmod(hook, 0o755);
  return hook;
}

/** The target recorded by the hook for `hostName` (`stop`/`reboot`), or null when there is no marker. */
export async function readStopMarker(lxcpath: string, hostName: string): Promise<string | null> {
  try {
    return (await readFile(join(stopHookPaths(lxcpath).stops, hostName), 'utf8')).trim();
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return null;
    throw err;
  }
}

/** Removes a stale marker (called before a start). */
export async function clearStopMarker(lxcpath: string, hostName: string): Promise<void> {
  await unlink(join(stopHookPaths(lxcpath).stops, hostName)).catch((err: unknown) => {
    if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
  });
}

/** Watches the marker directory and reports stops to its listeners. */
export class StopWatcher implements Disposable {
  private watcher: FSWatcher | undefined;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private disposed = false;
  /** Resolves when the start-up scan has been handled. */
  readonly ready: Promise<void>;

  constructor(
    private readonly lxcpath: string,
    /** Installs the hook (the driver shares one installation between rendering and watching). */
    private readonly ensureHook: () => Promise<string>,
    private readonly store: InstanceStore,
    private readonly tools: LxcTools,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly emit: StopListener,
  ) {
    this.ready = this.start().catch((err: unknown) => this.log.error({ err }, 'stop watcher failed to start'));
  }

  private async start(): Promise<void> {
    await this.ensureHook();
    const { stops } = stopHookPaths(this.lxcpath);
    if (this.disposed) return;
    this.watcher = watch(stops, (_event, filename) => {
      if (filename === null) void this.scan();
      else void this.kick(filename.toString());
    });
    this.watcher.on('error', (err) => this.log.warn({ err }, 'stop marker watch failed'));
    await this.scan();
  }

  private async scan(): Promise<void> {
    const { stops } = stopHookPaths(this.lxcpath);
    let names: string[];
    try {
      names = await readdir(stops);
    } catch (err) {
      this.log.warn({ err }, 'stop marker scan failed');
      return;
    }
    await Promise.all(names.map((n) => this.kick(n)));
  }

  /** Handles marker `name`, one at a time per name; a kick during handling re-runs it once after. */
  private kick(name: string): Promise<void> {
    if (this.disposed || name.startsWith('.')) return Promise.resolve();
    const running = this.inFlight.get(name);
    if (running !== undefined) {
      this.again.add(name);
      return running;
    }
    const p = this.handle(name)
      .catch((err: unknown) => this.log.warn({ err, instance: name }, 'stop marker handling failed'))
      .finally(() => {
        this.inFlight.delete(name);
        if (this.again.delete(name)) void this.kick(name);
      });
    this.inFlight.set(name, p);
    return p;
  }

  private async handle(name: string): Promise<void> {
    const marker = join(stopHookPaths(this.lxcpath).stops, name);
    let ino: number;
    let target: string;
    try {
      ino = (await lstat(marker)).ino;
      target = (await readFile(marker, 'utf8')).trim();
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return; // handled already
      throw err;
    }
    // A reboot is not a stop, unless the restart failed (LXC runs no hook then): look again later.
    if (target === 'reboot') await new Promise<void>((r) => this.clock.setTimer(REBOOT_GRACE_MS, r));
    const report = await this.stillStopped(name);
    if (report !== null) {
      await this.store.writePower(name, 'STOPPED');
      this.log.info({ instance: name, ephemeral: report.ephemeral }, 'instance stopped');
      if (!this.disposed) {
        try {
          this.emit(report);
        } catch (err) {
          this.log.error({ err, instance: name }, 'stop listener failed');
        }
      }
    }
    try {
      if ((await lstat(marker)).ino === ino) await unlink(marker);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
    }
  }

  private async stillStopped(name: string): Promise<InstanceStopEvent | null> {
    const runtime = await this.store.readRuntime(name);
    if (runtime === null || (await this.store.readConfig(name)) === null) return null;
    // The stop of a start that failed is that start's failure (its caller got the error), as LXD
    // ignores stop hooks during a start; one during a start still running is looked at again.
    const start = await this.store.readStartPhase(name);
    if (start?.phase === 'failed') return null;
    if (start?.phase === 'starting' && this.clock.now() - start.atMs < STALE_START_MS) {
      await new Promise<void>((r) => this.clock.setTimer(500, r));
      return this.stillStopped(name);
    }
    if ((await this.tools.monitorAlive(name)) && (await this.tools.info(name)).state !== 'STOPPED') return null;
    return { hostName: name, ephemeral: runtime.spec.ephemeral };
  }

  dispose(): void {
    this.disposed = true;
    this.watcher?.close();
    this.watcher = undefined;
  }
}
