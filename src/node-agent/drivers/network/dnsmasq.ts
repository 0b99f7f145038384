/**
 * Supervision of the one dnsmasq process each network runs.
 *
 * dnsmasq runs in the foreground (`--keep-in-foreground --conf-file=<dir>/dnsmasq.conf`) as a child
 * started through exec.ts's spawnChild, in its own process group and unref'd, so that it outlives
 * an agent restart the way LXD's dnsmasq outlives LXD. It counts as started once it has written its
 * pid file (after parsing its config and binding its sockets); if it exits first, the start fails
 * with what it printed. After an agent restart, {@link DnsmasqSupervisor.adopt} takes over the
 * process named by the pid file when `/proc/<pid>/cmdline` proves it is this network's dnsmasq.
 * {@link DnsmasqSupervisor.stop} kills every dnsmasq running this network's config (recorded child,
 * pid file, and a /proc scan), so no orphan survives its network.
 */
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { ErrorCode, ShoalError, type Clock, type Logger } from '../../../shared/index.js';
import { spawnChild } from '../../exec.js';

/** The Debian `dnsmasq-base` binary. */
export const DNSMASQ_BINARY = '/usr/sbin/dnsmasq';

/** The files of a network's dnsmasq the supervisor uses. */
export interface DnsmasqProcessFiles {
  readonly conf: string;
  readonly pid: string;
  /** dnsmasq's stdout/stderr (its log, with `log-facility=-`), appended to. */
  readonly log: string;
}

/** Called when a dnsmasq the supervisor started exits without being asked to. */
export type UnexpectedExitHandler = (network: string, code: number | null, signal: string | null) => void;

interface Tracked {
  readonly pid: number;
  readonly child: ChildProcess | null;
  expectedExit: boolean;
}

// Polls use a ref'd timer on purpose: the Clock's timers are unref'd, and a caller waiting for
// dnsmasq must keep the process alive while nothing else does (a CLI, a test).
const POLL_MS = 10;

/** Reads `/proc/<pid>/cmdline` as argv, or null when the process is gone. */
async function readCmdline(pid: number): Promise<string[] | null> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((a) => a !== '');
  } catch {
    // ENOENT/ESRCH: the process is gone, which is exactly what the caller asks about.
    return null;
  }
}

/** True when the process exists and is not a zombie. */
async function isAlive(pid: number): Promise<boolean> {
  try {
    const s = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    // No /proc entry: the process is gone.
    return false;
  }
}

function isDnsmasqFor(argv: readonly string[] | null, conf: string): boolean {
  return argv !== null && (argv[0] ?? '').endsWith('dnsmasq') && argv.includes(`--conf-file=${conf}`);
}

async function readPidFile(path: string): Promise<number | null> {
  try {
    const n = Number((await readFile(path, 'utf8')).trim());
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  } catch {
    // No pid file: dnsmasq has not written it (yet), or the network was never started.
    return null;
  }
}

function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    // ESRCH: it exited between our check and the signal; that is what we wanted.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Starts, adopts, reloads and stops the dnsmasq of each network. One instance per driver. */
export class DnsmasqSupervisor {
  private readonly tracked = new Map<string, Tracked>();

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly onUnexpectedExit: UnexpectedExitHandler,
    private readonly binary: string = DNSMASQ_BINARY,
    private readonly startTimeoutMs = 10_000,
  ) {}

  /** The pid of the network's dnsmasq as last started or adopted, if any. */
  pidOf(network: string): number | null {
    return this.tracked.get(network)?.pid ?? null;
  }

  /**
   * Starts dnsmasq for `network` and resolves with its pid once it is serving. Precondition: no
   * dnsmasq runs for this network (call {@link stop} or {@link adopt} first). Rejects with
   * INVALID_ARGUMENT when dnsmasq refuses its configuration (exit code 1, e.g. a bad `raw.dnsmasq`),
   * INTERNAL for other early exits, DEADLINE_EXCEEDED when it does not come up in time, CANCELLED on
   * abort; in every failure case no process is left behind.
   */
  async start(network: string, files: DnsmasqProcessFiles, signal: AbortSignal): Promise<number> {
    await rm(files.pid, { force: true });
    const logStart = await stat(files.log).then(
      (s) => s.size,
      () => 0,
    );
    const logFile = await open(files.log, 'a', 0o640);
    let child: ChildProcess;
    try {
      child = spawnChild(this.binary, ['--keep-in-foreground', `--conf-file=${files.conf}`], {
        stdio: ['ignore', logFile.fd, logFile.fd],
        detached: true,
      });
    } finally {
      await logFile.close();
    }
    child.unref();
    let exited: { code: number | null; signal: string | null; error?: Error } | null = null;
    child.once('error', (error) => {
      exited = { code: null, signal: null, error };
    });
    const tracked: Tracked = { pid: child.pid ?? -1, child, expectedExit: false };
    let started = false;
    child.once('exit', (code, sig) => {
      exited = { code, signal: sig };
      if (this.tracked.get(network) === tracked) this.tracked.delete(network);
      if (started && !tracked.expectedExit) {
        this.log.warn({ network, code, signal: sig, pid: tracked.pid }, 'dnsmasq exited unexpectedly');
        this.onUnexpectedExit(network, code, sig);
      }
    });
    const deadline = this.clock.now() + this.startTimeoutMs;
    const fail = async (err: ShoalError): Promise<never> => {
      tracked.expectedExit = true;
      if (exited === null && tracked.pid > 0) {
        signalPid(tracked.pid, 'SIGKILL');
        while (exited === null) await delay(POLL_MS);
      }
      await rm(files.pid, { force: true });
      throw err;
    };
    for (;;) {
      const ended = exited as { code: number | null; signal: string | null; error?: Error } | null;
      if (ended) {
        if (ended.error) {
          const missing = (ended.error as NodeJS.ErrnoException).code === 'ENOENT';
          return fail(
            new ShoalError(
              missing ? ErrorCode.FailedPrecondition : ErrorCode.Internal,
              missing ? `dnsmasq not found at "${this.binary}"` : `Failed starting dnsmasq: ${ended.error.message}`,
              { cause: ended.error },
            ),
          );
        }
        const output = await this.readLogTail(files.log, logStart);
        return fail(
          new ShoalError(
            ended.code === 1 ? ErrorCode.InvalidArgument : ErrorCode.Internal,
            `dnsmasq for network "${network}" exited with code ${ended.code ?? ended.signal}: ${output}`,
          ),
        );
      }
      if (signal.aborted)
        return fail(new ShoalError(ErrorCode.Cancelled, `Starting dnsmasq for "${network}" cancelled`));
      if ((await readPidFile(files.pid)) === tracked.pid) break;
      if (this.clock.now() > deadline) {
        return fail(
          new ShoalError(ErrorCode.DeadlineExceeded, `dnsmasq for network "${network}" did not start in time`),
        );
      }
      await delay(POLL_MS);
    }
    started = true;
    this.tracked.set(network, tracked);
    this.log.info({ network, pid: tracked.pid }, 'dnsmasq started');
    return tracked.pid;
  }

  /**
   * Takes over a dnsmasq left running by a previous agent: the pid in the pid file, if
   * `/proc/<pid>/cmdline` shows it runs this network's config. Returns its pid, or null when there
   * is none to adopt. An adopted process is not our child: its exit is noticed at the next
   * `adopt`/`stop`, not by an event.
   */
  async adopt(network: string, files: DnsmasqProcessFiles): Promise<number | null> {
    const known = this.tracked.get(network);
    if (known && (await isAlive(known.pid))) return known.pid;
    const pid = await readPidFile(files.pid);
    if (pid === null || !(await isAlive(pid)) || !isDnsmasqFor(await readCmdline(pid), files.conf)) return null;
    this.tracked.set(network, { pid, child: null, expectedExit: false });
    this.log.info({ network, pid }, 'dnsmasq adopted');
    return pid;
  }

  /** Asks the network's dnsmasq to re-read its host entries (SIGHUP). No-op when none runs. */
  reload(network: string): void {
    const t = this.tracked.get(network);
    if (t) signalPid(t.pid, 'SIGHUP');
  }

  /**
   * Stops every dnsmasq running this network's config — the one we track, the one in the pid file,
   * and any other found in /proc — with SIGTERM, then SIGKILL after 5 s, and waits until they are
   * gone. Idempotent. Rejects with INTERNAL if a process survives SIGKILL.
   */
  async stop(network: string, files: DnsmasqProcessFiles, signal: AbortSignal): Promise<void> {
    const pids = new Set<number>();
    const t = this.tracked.get(network);
    if (t) {
      t.expectedExit = true;
      pids.add(t.pid);
    }
    this.tracked.delete(network);
    const fromFile = await readPidFile(files.pid);
    if (fromFile !== null && isDnsmasqFor(await readCmdline(fromFile), files.conf)) pids.add(fromFile);
    for (const pid of await this.scan(files.conf)) pids.add(pid);
    for (const pid of pids) signalPid(pid, 'SIGTERM');
    const waitGone = async (ms: number): Promise<number[]> => {
      const until = this.clock.now() + ms;
      for (;;) {
        const alive: number[] = [];
        for (const pid of pids) if (await isAlive(pid)) alive.push(pid);
        if (alive.length === 0 || this.clock.now() > until || signal.aborted) return alive;
        await delay(POLL_MS);
      }
    };
    let alive = await waitGone(5_000);
    if (alive.length > 0) {
      for (const pid of alive) signalPid(pid, 'SIGKILL');
      alive = await waitGone(5_000);
    }
    if (alive.length > 0) {
      throw new ShoalError(
        ErrorCode.Internal,
        `dnsmasq of network "${network}" still running (pid ${alive.join(', ')})`,
      );
    }
    await rm(files.pid, { force: true });
    if (pids.size > 0) this.log.info({ network, pids: [...pids] }, 'dnsmasq stopped');
  }

  /** Forgets every tracked process without stopping it (agent shutdown: dnsmasq keeps serving). */
  close(): void {
    for (const t of this.tracked.values()) t.expectedExit = true;
    this.tracked.clear();
  }

  /** Pids of every dnsmasq whose command line runs `conf`. */
  private async scan(conf: string): Promise<number[]> {
    const out: number[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (isDnsmasqFor(await readCmdline(pid), conf) && (await isAlive(pid))) out.push(pid);
    }
    return out;
  }

  private async readLogTail(path: string, from: number): Promise<string> {
    try {
      const text = (await readFile(path, 'utf8')).slice(from);
      return text.trim().split('\n').slice(-5).join('; ') || '(no output)';
    } catch (err) {
      return `(log unreadable: ${(err as Error).message})`;
    }
  }
}
