/**
 * Helpers for tests that exec in instances: run a command to completion and collect its output.
 */
import type { ExecRequest, InstanceDriver } from '../../src/node-agent/drivers/instance-driver.js';

/** Output of {@link execCollect}. */
export interface Collected {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` in `hostName` (no pty), feeding `input`, and collects its output. */
export async function execCollect(
  driver: InstanceDriver,
  hostName: string,
  command: readonly string[],
  opts: Partial<Omit<ExecRequest, 'command'>> & { readonly input?: string } = {},
): Promise<Collected> {
  const { input, ...rest } = opts;
  const s = await driver.exec(hostName, { env: {}, pty: false, ...rest, command }, AbortSignal.timeout(60_000));
  let stdout = '';
  let stderr = '';
  s.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  s.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  s.stdin.end(input ?? '');
  const code = await s.exit;
  await new Promise((r) => setImmediate(r));
  return { code, stdout, stderr };
}
