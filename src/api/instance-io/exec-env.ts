/**
 * The environment and identity an exec runs with, as LXD computes them (lxd/instance_exec.go):
 * the request's variables, then the instance's `environment.*` config keys for names the request
 * did not set, then defaults — PATH, HOME=/root and USER=root when running as uid 0, LANG=C.UTF-8.
 * Pure.
 */
import type { InstanceExecPost } from '../types/index.js';

/** LXD's default PATH inside instances. */
export const DEFAULT_EXEC_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The environment of an exec request against an instance with expanded config `config`. */
export function execEnvironment(req: Pick<InstanceExecPost, 'environment' | 'user'>, config: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = { ...(req.environment ?? {}) };
  for (const [k, v] of Object.entries(config)) {
    if (!k.startsWith('environment.')) continue;
    const name = k.slice('environment.'.length);
    if (name !== '' && !(name in env)) env[name] = v;
  }
  env['PATH'] ??= DEFAULT_EXEC_PATH;
  if ((req.user ?? 0) === 0) {
    env['HOME'] ??= '/root';
    env['USER'] ??= 'root';
  }
  env['LANG'] ??= 'C.UTF-8';
  return env;
}
