/**
 * What the driver keeps per instance in its LXC path, `<containers>/<hostName>/`:
 * `config` (the rendered LXC config, what lxc-* read), `shoal-runtime.json` (the InstanceRuntime it
 * was rendered from: start, state, exec and autostart need it after an agent restart),
 * `shoal-power` (last requested power state, RUNNING/STOPPED, for `boot.autostart` unset = "restore
 * what was running", as LXD's volatile.last_state.power), `shoal-start` (`starting` while a start
 * runs, `failed` after it failed: the stop LXC reports for it is not an instance stop),
 * `lxc.log`, `console.log`, `devices/`.
 * Files are replaced atomically (write to a temporary name, then rename).
 */
import { mkdir, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errors } from '../../../shared/index.js';
import type { InstanceRuntime } from '../../types.js';

/** The sidecar format. */
interface StoredRuntime {
  readonly version: 1;
  readonly runtime: InstanceRuntime;
}

/** Last requested power state. */
export type PowerState = 'RUNNING' | 'STOPPED';

/** Where a start stands (see `shoal-start`). */
export type StartPhase = 'starting' | 'failed';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/;

/** Throws INVALID_ARGUMENT unless `hostName` is a safe LXC container name (one path component). */
export function checkHostName(hostName: string): void {
  if (!NAME.test(hostName)) throw errors.invalid(`Invalid instance host name "${hostName}"`);
}

let tmpCounter = 0;

/** Writes `data` to `path` atomically (a unique temporary name, then rename). */
export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  await (await stageFileAtomic(path, data, mode))();
}

/**
 * The first half of {@link writeFileAtomic}: writes `data` under a temporary name next to `path`
 * and returns the step that gives it its name. The temporary file is the caller's to remove if it
 * never commits (it lives in a directory the caller owns).
 */
export async function stageFileAtomic(path: string, data: string, mode = 0o600): Promise<() => Promise<void>> {
  tmpCounter += 1;
  const tmp = `${path}.tmp-${process.pid}-${tmpCounter}`;
  await writeFile(tmp, data, { mode });
  return () => rename(tmp, path);
}

function isEnoent(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}

/** Per-instance files in one LXC path. */
export class InstanceStore {
  constructor(readonly lxcpath: string) {}

  dir(hostName: string): string {
    checkHostName(hostName);
    return join(this.lxcpath, hostName);
  }

  configPath(hostName: string): string {
    return join(this.dir(hostName), 'config');
  }

  /** Creates the LXC path (0711: unprivileged container roots must traverse it to reach device nodes). */
  async ensureLxcPath(): Promise<void> {
    await mkdir(this.lxcpath, { recursive: true, mode: 0o711 });
  }

  /** The rendered config text, or null when the instance is not defined here. */
  async readConfig(hostName: string): Promise<string | null> {
    try {
      return await readFile(this.configPath(hostName), 'utf8');
    } catch (err) {
      if (isEnoent(err)) return null;
      throw err;
    }
  }

  /** True when the instance has a config here. */
  async hasConfig(hostName: string): Promise<boolean> {
    try {
      return (await stat(this.configPath(hostName))).isFile();
    } catch (err) {
      if (isEnoent(err)) return false;
      throw err;
    }
  }

  async readRuntime(hostName: string): Promise<InstanceRuntime | null> {
    try {
      const stored = JSON.parse(await readFile(join(this.dir(hostName), 'shoal-runtime.json'), 'utf8')) as StoredRuntime;
      return stored.runtime;
    } catch (err) {
      if (isEnoent(err)) return null;
      throw err;
    }
  }

  async writeRuntime(hostName: string, runtime: InstanceRuntime): Promise<void> {
    const stored: StoredRuntime = { version: 1, runtime };
    await writeFileAtomic(join(this.dir(hostName), 'shoal-runtime.json'), `${JSON.stringify(stored, null, 2)}\n`);
  }

  async readPower(hostName: string): Promise<PowerState | null> {
    try {
      const v = (await readFile(join(this.dir(hostName), 'shoal-power'), 'utf8')).trim();
      return v === 'RUNNING' || v === 'STOPPED' ? v : null;
    } catch (err) {
      if (isEnoent(err)) return null;
      throw err;
    }
  }

  /** Records the power state; a no-op when the instance directory is gone (deleted meanwhile). */
  async writePower(hostName: string, state: PowerState): Promise<void> {
    try {
      await writeFileAtomic(join(this.dir(hostName), 'shoal-power'), `${state}\n`, 0o644);
    } catch (err) {
      if (!isEnoent(err)) throw err;
    }
  }

  /** Records the phase of a start (`starting`, `failed`), or clears it (null). */
  async writeStartPhase(hostName: string, phase: StartPhase | null): Promise<void> {
    const path = join(this.dir(hostName), 'shoal-start');
    try {
      if (phase === null) await unlink(path);
      else await writeFileAtomic(path, `${phase}\n`, 0o644);
    } catch (err) {
      if (!isEnoent(err)) throw err;
    }
  }

  /** The recorded start phase and when it was written (epoch ms), or null. */
  async readStartPhase(hostName: string): Promise<{ phase: StartPhase; atMs: number } | null> {
    const path = join(this.dir(hostName), 'shoal-start');
    try {
      const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
      const phase = text.trim();
      return phase === 'starting' || phase === 'failed' ? { phase, atMs: st.mtimeMs } : null;
    } catch (err) {
      if (isEnoent(err)) return null;
      throw err;
    }
  }

  /** Host names of the instances defined here (directories with a `config`). */
  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.lxcpath);
    } catch (err) {
      if (isEnoent(err)) return [];
      throw err;
    }
    const out: string[] = [];
    for (const n of names.sort()) {
      if (!NAME.test(n)) continue;
      try {
        if ((await stat(join(this.lxcpath, n, 'config'))).isFile()) out.push(n);
      } catch (err) {
        if (!isEnoent(err)) throw err;
      }
    }
    return out;
  }

  /**
   * Removes the instance directory (config, logs, device nodes). Missing → no-op. Callers make
   * sure no LXC monitor writes in it any more (see LxcTools.monitorAlive); the two retries only
   * cover a file appearing in the instant between listing and rmdir.
   */
  async remove(hostName: string): Promise<void> {
    await rm(this.dir(hostName), { recursive: true, force: true, maxRetries: 2, retryDelay: 10 });
  }
}
