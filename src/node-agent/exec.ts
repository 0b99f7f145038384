/**
 * The only place in Shoal that starts host processes. Everything the node agent does to the host
 * (lxc-*, ip, nft, btrfs, dnsmasq, mksquashfs…) goes through `run` (wait for completion) or
 * `spawnChild` (long-running or streaming), so argv, timeouts, cancellation and error shape are
 * handled once.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { ErrorCode, ExecError, ShoalError } from '../shared/index.js';

/** Options of {@link run}. */
export interface RunOptions {
  /** Aborting kills the process (SIGKILL) and rejects with CANCELLED. */
  readonly signal?: AbortSignal;
  /** Kills the process and rejects with DEADLINE_EXCEEDED after this long. */
  readonly timeoutMs?: number;
  /** Written to stdin, which is then closed. Without it stdin is /dev/null. */
  readonly input?: string | Uint8Array;
  /** Extra environment (merged over a minimal PATH/LANG environment, never the daemon's full env). */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Exit codes that are not failures (default [0]). */
  readonly okCodes?: readonly number[];
  /** Keep at most this many bytes of stdout (default 64 MiB); stderr keeps its last 64 KiB. */
  readonly maxStdoutBytes?: number;
}

/** Result of a completed command. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const BASE_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
};

const STDERR_TAIL_BYTES = 64 * 1024;

/**
 * Runs `cmd args…` to completion. Resolves with its output when the exit code is in `okCodes`;
 * otherwise rejects with an {@link ExecError} carrying argv, exit code and the stderr tail.
 * A command that cannot be started (ENOENT) rejects with ExecError code FAILED_PRECONDITION.
 */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const argv = [cmd, ...args];
  return new Promise<RunResult>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new ShoalError(ErrorCode.Cancelled, `Command "${argv.join(' ')}" cancelled`));
      return;
    }
    const child = spawn(cmd, args, {
      env: { ...BASE_ENV, ...(options.env ?? {}) },
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const maxOut = options.maxStdoutBytes ?? 64 * 1024 * 1024;
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = Buffer.alloc(0);
    let settled = false;
    let killedFor: 'timeout' | 'abort' | undefined;

    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      killedFor = 'abort';
      child.kill('SIGKILL');
    };
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            killedFor = 'timeout';
            child.kill('SIGKILL');
          }, options.timeoutMs);
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout?.on('data', (b: Buffer) => {
      if (outBytes < maxOut) {
        out.push(b);
        outBytes += b.length;
      }
    });
    child.stderr?.on('data', (b: Buffer) => {
      err = Buffer.concat([err, b]);
      if (err.length > STDERR_TAIL_BYTES) err = err.subarray(err.length - STDERR_TAIL_BYTES);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      finish(() =>
        reject(
          new ExecError(argv, null, '', {
            cause: e,
            code: e.code === 'ENOENT' ? ErrorCode.FailedPrecondition : ErrorCode.Internal,
            message: e.code === 'ENOENT' ? `Command "${cmd}" not found` : `Failed starting "${cmd}": ${e.message}`,
          }),
        ),
      );
    });
    child.on('close', (code, sig) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = err.toString('utf8');
      finish(() => {
        if (killedFor === 'abort') {
          reject(new ShoalError(ErrorCode.Cancelled, `Command "${argv.join(' ')}" cancelled`));
        } else if (killedFor === 'timeout') {
          reject(
            new ExecError(argv, null, stderr, {
              code: ErrorCode.DeadlineExceeded,
              message: `Command "${argv.join(' ')}" timed out after ${options.timeoutMs} ms`,
            }),
          );
        } else if (code !== null && (options.okCodes ?? [0]).includes(code)) {
          resolve({ code, stdout, stderr });
        } else {
          reject(
            new ExecError(argv, code, stderr, sig ? { message: `Command "${argv.join(' ')}" killed by ${sig}` } : {}),
          );
        }
      });
    });
    if (options.input !== undefined && child.stdin) {
      child.stdin.on('error', () => {
        // EPIPE: the command exited without reading all input; its exit status tells the story.
      });
      child.stdin.end(options.input);
    }
  });
}

/** Options of {@link spawnChild}. */
export interface SpawnOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Default ['pipe', 'pipe', 'pipe']. Use 'ignore' for daemons, or file descriptors for log files. */
  readonly stdio?: StdioOptions;
  /** Start in a new process group (so the whole group can be signalled). Default false. */
  readonly detached?: boolean;
  /** Aborting sends SIGKILL. */
  readonly signal?: AbortSignal;
}

/**
 * Starts a long-running or streaming process and returns it. The caller owns it: it must wait
 * for 'close' and release it (kill on dispose). Spawn failures surface as the child's 'error' event.
 */
export function spawnChild(cmd: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(cmd, args, {
    env: { ...BASE_ENV, ...(options.env ?? {}) },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdio: options.stdio ?? ['pipe', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  if (options.signal) {
    const onAbort = (): void => void child.kill('SIGKILL');
    options.signal.addEventListener('abort', onAbort, { once: true });
    child.once('close', () => options.signal?.removeEventListener('abort', onAbort));
  }
  return child;
}

/** True when `cmd` can be found on the agent's PATH. */
export async function commandExists(cmd: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v "$1" >/dev/null`, 'sh', cmd]);
    return true;
  } catch (err) {
    if (err instanceof ExecError && err.exitCode !== null) return false;
    throw err;
  }
}
