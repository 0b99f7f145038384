/**
 * Thin wrappers over Debian's lxc 5.0 tools, always with our own LXC path (`-P`), never
 * /var/lib/lxc. Facts they rely on (measured on LXC 5.0.2):
 * - `lxc-start -d` returns only once the container is RUNNING (liblxc waits on its state socket),
 *   or fails with exit 1; starting a running container exits 0.
 * - `lxc-stop` exits 2 for a container that is not running; `-t N` waits N seconds and then kills
 *   unless `--nokill`; `-k` kills at once.
 * - `lxc-info -s -p` prints `State: X` and, when running, `PID: N` (labels stay even with -H).
 */
import { readFile } from 'node:fs/promises';
import { ErrorCode, ExecError, ShoalError, isShoalError, wrap } from '../../../shared/index.js';
import { run } from '../../exec.js';

/** LXC states as lxc-info prints them. */
export type LxcState = 'STOPPED' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'ABORTING' | 'FREEZING' | 'FROZEN' | 'THAWED';

/** Runtime facts of one container. */
export interface LxcInfo {
  readonly state: LxcState;
  /** Host pid of the container's init; 0 when not running. */
  readonly pid: number;
}

/** Calls the lxc-* tools for one LXC path. */
export class LxcTools {
  constructor(readonly lxcpath: string) {}

  private args(name: string, ...rest: string[]): string[] {
    return ['-P', this.lxcpath, '-n', name, ...rest];
  }

  /** State and init pid. Callers check the config exists first (lxc-info fails for unknown names). */
  async info(name: string, signal?: AbortSignal): Promise<LxcInfo> {
    const r = await run('lxc-info', this.args(name, '-s', '-p'), signal ? { signal } : {});
    const state = /^State:\s+(\w+)/m.exec(r.stdout)?.[1] as LxcState | undefined;
    if (state === undefined) throw new ShoalError(ErrorCode.Internal, `Unexpected lxc-info output for "${name}": ${r.stdout.trim()}`);
    const pid = Number(/^PID:\s+(\d+)/m.exec(r.stdout)?.[1] ?? 0);
    return { state, pid };
  }

  /** Starts detached and waits for RUNNING (lxc-start's own wait). */
  async start(name: string, signal?: AbortSignal): Promise<void> {
    await run('lxc-start', this.args(name, '-d'), signal ? { signal } : {});
  }

  /**
   * Stops: `kill` → SIGKILL at once; otherwise the halt signal, waiting `timeoutS` seconds, then
   * killing only if `killAfter`. Resolves false when the container was not running.
   */
  async stop(name: string, how: { kill: true } | { kill: false; timeoutS: number; killAfter: boolean }, signal?: AbortSignal): Promise<boolean> {
    const extra = how.kill ? ['-k'] : ['-t', String(how.timeoutS), ...(how.killAfter ? [] : ['--nokill'])];
    const r = await run('lxc-stop', this.args(name, ...extra), { okCodes: [0, 2], ...(signal ? { signal } : {}) });
    return r.code === 0;
  }

  async freeze(name: string, signal?: AbortSignal): Promise<void> {
    await run('lxc-freeze', this.args(name), signal ? { signal } : {});
  }

  async unfreeze(name: string, signal?: AbortSignal): Promise<void> {
    await run('lxc-unfreeze', this.args(name), signal ? { signal } : {});
  }

  /** Writes one cgroup file of a running container (`lxc-cgroup name memory.limit_in_bytes 1G`). */
  async setCgroup(name: string, file: string, value: string, signal?: AbortSignal): Promise<void> {
    await run('lxc-cgroup', this.args(name, '--', file, value), signal ? { signal } : {});
  }
}

/** The last `lines` interesting lines (ERROR and above, else anything) of an LXC log file, or ''. */
export async function logTail(path: string, lines = 8): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return ''; // no log yet: nothing to add to the error
  }
  const all = text.split('\n').filter((l) => l.trim() !== '');
  const errs = all.filter((l) => / (ERROR|CRIT|ALERT|FATAL) /.test(l));
  return (errs.length > 0 ? errs : all)
    .slice(-lines)
    .map((l) => l.replace(/^\S+ \S+ \d+\.\d+ (ERROR|CRIT|ALERT|FATAL|WARN)\s+/, ''))
    .join('\n');
}

/** Re-throws a tool failure as a ShoalError naming the instance (`Failed starting instance "x": …`). */
export function toolError(err: unknown, context: string, extra = ''): ShoalError {
  if (isShoalError(err, ErrorCode.Cancelled)) return wrap(err, context);
  const base = err instanceof ExecError ? (err.stderrTail.trim() || err.message) : err instanceof Error ? err.message : String(err);
  const message = extra.trim() ? `${base.split('\n').slice(-3).join('; ')}; log: ${extra.trim().split('\n').join('; ')}` : base;
  return new ShoalError(isShoalError(err) && err.code !== ErrorCode.Internal ? err.code : ErrorCode.Internal, `${context}: ${message}`, {
    cause: err,
  });
}
