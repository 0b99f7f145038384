/**
 * Thin wrappers over Debian's lxc 5.0 tools, always with our own LXC path (`-P`), never
 * /var/lib/lxc. Facts they rely on (measured on LXC 5.0.2):
 * - `lxc-start -d` returns only once the container is RUNNING (liblxc waits on its state socket),
 *   or fails with exit 1; starting a running container exits 0.
 * - `lxc-stop` exits 2 for a container that is not running; `-t N` waits N seconds and then kills
 *   unless `--nokill`; `-k` kills at once.
 * - `lxc-info -s -p` prints `State: X` and, when running, `PID: N` (labels stay even with -H).
 * - A container has an LXC monitor (the daemonised lxc-start) from start until it is fully torn
 *   down; the monitor serves the abstract unix socket `@<lxcpath>/<name>/command` (liblxc's
 *   lxc_make_abstract_socket_name: hashed when longer than 105 bytes). lxc-info reports STOPPED as
 *   soon as the monitor says so, but the monitor goes on (post-stop hook, cgroup removal, console
 *   and log writes in the container's directory) until it exits: only then is the directory free.
 */
import { readFile } from 'node:fs/promises';
import { ErrorCode, ExecError, ShoalError, isShoalError, sleep, systemClock, wrap } from '../../../shared/index.js';
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

  /**
   * Whether the LXC monitor of `name` still exists (its command socket is bound). No process is
   * spawned: one read of /proc/net/unix (abstract sockets of the agent's network namespace, which
   * is the monitor's). No monitor means STOPPED, exactly as lxc-info would report it.
   */
  async monitorAlive(name: string): Promise<boolean> {
    const needle = ` @${commandSocketName(this.lxcpath, name)}\n`;
    return (await readFile('/proc/net/unix', 'utf8')).includes(needle);
  }

  /**
   * Waits (polling every 5 ms) until the monitor of `name` has exited; false when it is still
   * there after `timeoutMs`. Callers use it after a stop, before touching the container's files.
   */
  async waitMonitorGone(name: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      if (!(await this.monitorAlive(name))) return true;
      if (performance.now() >= until) return false;
      await sleep(systemClock, 5, signal);
    }
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

/** sizeof(sockaddr_un.sun_path) minus the leading NUL and the trailing NUL liblxc keeps. */
const ABSTRACT_NAME_MAX = 108 - 2;

/** FNV-1a, 64 bits, as liblxc's fnv_64a_buf with FNV1A_64_INIT. */
function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text)) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

/**
 * The name (without the leading `@`/NUL) of the abstract command socket of container `name` under
 * `lxcpath`, as liblxc 5 computes it: `<lxcpath>/<name>/command`, or `lxc/<fnv64 hex>/command`
 * of `<lxcpath>/<name>` when that does not fit.
 */
export function commandSocketName(lxcpath: string, name: string): string {
  const plain = `${lxcpath}/${name}/command`;
  if (Buffer.byteLength(plain) < ABSTRACT_NAME_MAX) return plain;
  return `lxc/${fnv1a64(`${lxcpath}/${name}`).toString(16).padStart(16, '0')}/command`;
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
