/**
 * Runs the real `shoal` command (src/cli/main.ts under tsx, as a child process) against a
 * member: SHOAL_DIR selects the member's socket, SHOAL_CONF a per-test client config dir.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../../..');
const MAIN = join(REPO, 'src/cli/main.ts');

/** What one invocation printed and how it exited. */
export interface ShoalRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `shoal ...args` with `env` added; `stdin` is written then closed. Never throws on exit codes. */
export function runShoal(args: readonly string[], env: Readonly<Record<string, string>>, stdin = '', timeoutMs = 60_000): Promise<ShoalRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

/** Runs and fails the test with the output when the exit code is not 0. */
export async function shoalOk(args: readonly string[], env: Readonly<Record<string, string>>, stdin = ''): Promise<string> {
  const r = await runShoal(args, env, stdin);
  if (r.code !== 0) throw new Error(`shoal ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}
