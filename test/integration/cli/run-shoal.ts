/**
 * Runs the real `shoal` command (src/cli/main.ts, as a child process) against a member:
 * SHOAL_DIR selects the member's socket, SHOAL_CONF a per-test client config dir. The CLI is
 * bundled once per test process with esbuild (packages external), as ShoalCluster does for
 * shoald: `node --import tsx` costs seconds per call on a loaded machine. SHOAL_CLI_TSX=1 runs
 * the sources through tsx.
 */
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../../..');
const MAIN = join(REPO, 'src/cli/main.ts');

let bundle: Promise<string> | undefined;
/** The node arguments that run the CLI (the bundle, built on first use). */
export function shoalCommand(): Promise<string[]> {
  if (process.env['SHOAL_CLI_TSX'] === '1') return Promise.resolve(['--import', 'tsx', MAIN]);
  bundle ??= (async () => {
    const dir = join(REPO, 'node_modules', '.cache', 'shoal-cli');
    await mkdir(dir, { recursive: true });
    const out = join(dir, `shoal-${process.pid}.mjs`);
    await new Promise<void>((ok, fail) =>
      execFile(join(REPO, 'node_modules', '.bin', 'esbuild'), [MAIN, '--bundle', '--platform=node', '--format=esm', '--packages=external', `--outfile=${out}`, '--log-level=warning'], (err) => (err ? fail(err) : ok())),
    );
    process.once('exit', () => rmSync(out, { force: true }));
    return out;
  })();
  return bundle.then((out) => [out]);
}

/** What one invocation printed and how it exited. */
export interface ShoalRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `shoal ...args` with `env` added; `stdin` is written then closed. Never throws on exit codes. */
export async function runShoal(args: readonly string[], env: Readonly<Record<string, string>>, stdin = '', timeoutMs = 60_000): Promise<ShoalRun> {
  const cmd = await shoalCommand();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...cmd, ...args], {
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
