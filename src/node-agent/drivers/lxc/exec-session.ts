/**
 * `exec` in a running instance through `lxc-attach --clear-env` (LXD `POST /instances/<n>/exec`).
 * - Environment: exactly what the caller passes (`-v K=V`); the driver merges LXD's defaults and
 *   the instance's `environment.*` first.
 * - uid/gid: `-u`/`-g`. cwd: lxc-attach has no cwd flag; it enters the directory of the same name
 *   as its own working directory, so it is started in host `/` (→ `/` inside) and a requested cwd
 *   goes through `sh -c 'cd "$1" && shift && exec "$@"'` (the driver checks the directory exists).
 * - Without a pty, lxc-attach hands our pipes to the command directly: stdin EOF, stdout and
 *   stderr stay separate. With a pty (node-pty, through exec.ts `spawnPty`), lxc-attach sees a
 *   terminal and allocates one inside the instance, forwarding window size changes (SIGWINCH);
 *   output is merged on `stdout`, and ending stdin sends ^D. Input written before the command
 *   exists is held back (lxc-attach flushes pending input when it switches to raw mode), and the
 *   host-side pty's ONLCR, which LXC forces on, is cleared so newlines arrive as "\r\n".
 * - Signals: lxc-attach does NOT forward signals (SIGTERM to it detaches and leaves the command
 *   running), so `signal(n)` finds the attached command — lxc-attach's child in the instance's pid
 *   namespace — in /proc/<lxc-attach>/task/<tid>/children and signals it directly, once it has
 *   exec'd the command: before that the child is still lxc-attach code (same executable) and a
 *   signal would hit lxc-attach's setup instead of the command's own handlers. Signals sent
 *   before then are queued and delivered in order as soon as the command runs.
 * - Exit code: lxc-attach's, which is the command's, or 128+N when it was killed by signal N; 127
 *   when the command does not exist.
 */
import type { ChildProcess } from 'node:child_process';
import { readFile, readdir, readlink, stat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { PassThrough, Writable } from 'node:stream';
import { ErrorCode, ShoalError, type Logger } from '../../../shared/index.js';
import { run, spawnChild, spawnPty } from '../../exec.js';
import type { ExecRequest, ExecSession } from '../instance-driver.js';

/** What the session needs besides the request. */
export interface ExecTarget {
  readonly lxcpath: string;
  readonly hostName: string;
  /** Final environment (defaults + instance environment + request env). */
  readonly env: Readonly<Record<string, string>>;
  readonly log: Logger;
}

/** The lxc-attach argv for a request. */
export function attachArgs(target: Pick<ExecTarget, 'lxcpath' | 'hostName' | 'env'>, request: ExecRequest): string[] {
  const args = ['-P', target.lxcpath, '-n', target.hostName, '--clear-env'];
  if (request.uid !== undefined) args.push('-u', String(request.uid));
  if (request.gid !== undefined) args.push('-g', String(request.gid));
  for (const [k, v] of Object.entries(target.env).sort(([a], [b]) => a.localeCompare(b))) args.push('-v', `${k}=${v}`);
  args.push('--');
  if (request.cwd !== undefined && request.cwd !== '/') {
    args.push('/bin/sh', '-c', 'cd "$1" && shift && exec "$@"', 'sh', request.cwd);
  }
  args.push(...request.command);
  return args;
}

function signalNumber(name: NodeJS.Signals | null): number {
  if (name === null) return 0;
  return (osConstants.signals as Record<string, number>)[name] ?? 0;
}

/** `dev:ino` of a process's executable, or undefined when the process is gone. */
async function exeId(pid: number | string): Promise<string | undefined> {
  try {
    const st = await stat(`/proc/${pid}/exe`);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined; // exited (or a kernel thread): not a candidate
  }
}

/**
 * The host pid of the command lxc-attach `pid` runs, once it has exec'd it; undefined before (or
 * after it is gone). lxc-attach has short-lived helper children in the host's pid namespace (it
 * joins the instance's namespaces and clones the command with CLONE_PARENT); only the command
 * lives in the instance's pid namespace, and until it calls execve it still runs lxc-attach's own
 * executable (a memfd copy), so the child with another pid namespace AND another executable is
 * the command itself.
 */
export async function attachedCommandPid(pid: number): Promise<number | undefined> {
  try {
    const [ownNs, ownExe] = await Promise.all([readlink(`/proc/${pid}/ns/pid`), exeId(pid)]);
    for (const t of await readdir(`/proc/${pid}/task`)) {
      const text = await readFile(`/proc/${pid}/task/${t}/children`, 'utf8');
      for (const c of text.trim().split(/\s+/)) {
        if (c === '') continue;
        const ns = await readlink(`/proc/${c}/ns/pid`).catch(() => ownNs); // child gone: skip it
        if (ns === ownNs) continue;
        const exe = await exeId(c);
        if (exe !== undefined && exe !== ownExe) return Number(c);
      }
    }
  } catch {
    return undefined; // lxc-attach (or a thread of it) has exited: nothing to find now
  }
  return undefined;
}

/** How long a session waits for its command to exist before it gives up signalling it. */
const ATTACH_WAIT_MS = 30_000;

/** Waits (polling /proc every 2 ms) for the attached command to have exec'd. */
async function waitAttached(pid: number | undefined, exited: () => boolean): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const until = performance.now() + ATTACH_WAIT_MS;
  while (!exited() && performance.now() < until) {
    const found = await attachedCommandPid(pid);
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 2));
  }
  return undefined;
}

/** Starts the command; the session ends when `exit` settles. */
export function startExecSession(target: ExecTarget, request: ExecRequest, signal: AbortSignal): ExecSession {
  const args = attachArgs(target, request);
  return request.pty ? ptySession(target, request, args, signal) : pipeSession(target, args, signal);
}

/**
 * Delivers signals to the command attached under one lxc-attach, in the order they were asked
 * for: the first one waits until the command has exec'd (see `attachedCommandPid`), later ones
 * queue behind it. A signal asked for after the command ended is dropped (nothing to signal).
 */
class AttachedSignaller {
  private target: Promise<number | undefined> | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly attachPid: number | undefined,
    private readonly exited: () => boolean,
    private readonly log: Logger,
  ) {}

  /** The command's host pid once it runs (shared by every signal and by pty setup). */
  command(): Promise<number | undefined> {
    this.target ??= waitAttached(this.attachPid, this.exited);
    return this.target;
  }

  /** Queues signal `sig`; the returned promise settles once it was delivered or dropped. */
  send(sig: number): Promise<void> {
    this.queue = this.queue.then(async () => {
      const pid = await this.command();
      if (pid === undefined || this.exited()) {
        this.log.debug({ signal: sig }, 'exec signal dropped: the command is not running');
        return;
      }
      try {
        process.kill(pid, sig);
      } catch (err) {
        this.log.debug({ err, pid }, 'exec signal target already gone');
      }
    });
    return this.queue;
  }
}

function pipeSession(target: ExecTarget, args: string[], signal: AbortSignal): ExecSession {
  const child: ChildProcess = spawnChild('lxc-attach', args, { cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] });
  let done = false;
  const exit = new Promise<number>((resolve, reject) => {
    child.once('error', (err) =>
      reject(new ShoalError(ErrorCode.Internal, `Failed running lxc-attach for instance "${target.hostName}": ${err.message}`, { cause: err })),
    );
    child.once('close', (code, sig) => {
      done = true;
      signal.removeEventListener('abort', onAbort);
      resolve(code ?? 128 + signalNumber(sig));
    });
  });
  const signaller = new AttachedSignaller(child.pid, () => done, target.log);
  const onAbort = (): void => {
    void signaller.send(9).finally(() => child.kill('SIGKILL'));
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  child.once('exit', () => (done = true)); // output pipes may outlive the command (background jobs)
  child.stdin?.on('error', (err) => target.log.debug({ err }, 'exec stdin closed'));
  return {
    stdin: child.stdin as Writable,
    stdout: child.stdout as NonNullable<ChildProcess['stdout']>,
    stderr: child.stderr,
    resize: () => undefined,
    signal: (n) => void signaller.send(n),
    exit,
  };
}

function ptySession(target: ExecTarget, request: ExecRequest, args: string[], signal: AbortSignal): ExecSession {
  const pty = spawnPty('lxc-attach', args, { cwd: '/', cols: request.width ?? 80, rows: request.height ?? 24 });
  let done = false;
  const stdout = new PassThrough();
  pty.onData((d: string | Buffer) => void stdout.write(typeof d === 'string' ? Buffer.from(d) : d));
  const exit = new Promise<number>((resolve) => {
    pty.onExit(({ exitCode, signal: sig }) => {
      done = true;
      signal.removeEventListener('abort', onAbort);
      // node-pty delivers the last output before onExit; end the stream after it drains.
      setImmediate(() => stdout.end());
      resolve(sig ? 128 + sig : exitCode);
    });
  });
  const signaller = new AttachedSignaller(pty.pid, () => done, target.log);
  const onAbort = (): void => {
    void signaller.send(9).finally(() => {
      if (!done) pty.kill('SIGKILL');
    });
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  // lxc-attach switches our pty to raw mode with TCSAFLUSH before it forks the command, which
  // discards anything typed earlier: input waits until the command exists.
  // LXC 5.0.2 also forces ONLCR on the host-side pty, so each newline would reach the client as
  // "\r\r\n"; once lxc-attach has set its modes we clear it (output written by the command before
  // that, usually nothing, keeps the extra "\r").
  const ready = signaller.command().then(async (attached) => {
    if (attached === undefined || done) return;
    try {
      const tty = await readlink(`/proc/${pty.pid}/fd/0`);
      if (tty.startsWith('/dev/pts/')) await run('stty', ['-F', tty, '-onlcr']);
    } catch (err) {
      target.log.debug({ err }, 'could not clear onlcr on the exec pty');
    }
  });
  const stdin = new Writable({
    write(chunk: Buffer, _enc, cb): void {
      void ready.then(() => {
        if (!done) pty.write(chunk);
        cb();
      });
    },
    final(cb): void {
      void ready.then(() => {
        if (!done) pty.write('\x04');
        cb();
      });
    },
  });
  return {
    stdin,
    stdout,
    stderr: null,
    resize: (w, h) => {
      if (!done) pty.resize(Math.max(1, w), Math.max(1, h));
    },
    signal: (n) => void signaller.send(n),
    exit,
  };
}
