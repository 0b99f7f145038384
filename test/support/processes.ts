/**
 * Child processes for real-process tests, benchmarks and the demo: spawned with their output in a
 * log file, tracked by PID, killed by PID (never by name), and all killed when the owner exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

/** How a child ended. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const live = new Set<ManagedProcess>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const p of live) p.killNow();
  });
}

/** One spawned child. */
export class ManagedProcess {
  readonly exited: Promise<ExitStatus>;
  private status: ExitStatus | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly label: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.status = { code, signal };
        live.delete(this);
        resolve(this.status);
      });
    });
  }

  /** Spawns `cmd args` with stdout and stderr appended to `logFile`; killed on our exit unless `detached`. */
  static spawn(
    label: string,
    cmd: string,
    args: readonly string[],
    options: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string; detached?: boolean },
  ): ManagedProcess {
    hookExit();
    const fd = openSync(options.logFile, 'a');
    try {
      const child = spawn(cmd, args, {
        stdio: ['ignore', fd, fd],
        env: options.env ?? process.env,
        ...(options.cwd ? { cwd: options.cwd } : {}),
        ...(options.detached ? { detached: true } : {}),
      });
      const p = new ManagedProcess(child, label);
      if (options.detached) {
        // Outlives this process (the demo leaves its cluster running); killed later by PID.
        child.unref();
      } else {
        live.add(p);
        child.once('error', () => live.delete(p));
      }
      return p;
    } finally {
      closeSync(fd);
    }
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.label} has no pid`);
    return this.child.pid;
  }

  /** The exit status, or undefined while it runs. */
  get exitStatus(): ExitStatus | undefined {
    return this.status;
  }

  get running(): boolean {
    return this.status === undefined;
  }

  /** Sends `signal` by PID and waits for the exit (SIGKILL by default). */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 10_000): Promise<ExitStatus> {
    if (this.status) return this.status;
    try {
      process.kill(this.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const res = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (res === 'timeout') {
      this.killNow();
      return this.exited;
    }
    return res;
  }

  /** SIGKILL by PID without waiting (for exit hooks). */
  killNow(): void {
    if (this.status || this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, 'SIGKILL');
    } catch {
      // Already gone: nothing to clean up.
    }
  }
}
