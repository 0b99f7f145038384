/**
 * Pure validation of an instance's expanded config (LXD keys). Returns the first problem as a
 * message naming the key, or undefined. Keys the driver implements are checked for syntax; keys
 * LXD defines that the container driver does not act on (snapshots.*, migration.*, …) are
 * accepted; anything else is an unknown key.
 */
import type { ConfigMap } from '../../types.js';
import { parseRawLxc } from './raw-lxc.js';
import { parseBool, parseCpuAllowance, parseCpuLimit, parseInt10, parseMemoryLimit, parseUint } from './units.js';

type Check = (value: string, config: ConfigMap, nicCount: number) => string | undefined;

const bool: Check = (v) => (parseBool(v) === undefined ? 'expected a boolean (true/false)' : undefined);
const uint: Check = (v) => (parseUint(v) === undefined ? 'expected a non-negative integer' : undefined);
const int: Check = (v) => (parseInt10(v) === undefined ? 'expected an integer' : undefined);
const any: Check = () => undefined;
const oneOf =
  (...values: string[]): Check =>
  (v) =>
    values.includes(v) ? undefined : `expected one of ${values.join(', ')}`;

/** Keys with their checks. */
const KEYS: Readonly<Record<string, Check>> = {
  'limits.cpu': (v) => (parseCpuLimit(v) === undefined ? 'expected a CPU count (2) or a CPU set (0-1,3)' : undefined),
  'limits.cpu.allowance': (v) =>
    parseCpuAllowance(v) === undefined ? 'expected a percentage (50%) or a quota (25ms/100ms)' : undefined,
  'limits.cpu.priority': uint,
  'limits.memory': (v) =>
    parseMemoryLimit(v, 2 ** 40) === undefined ? 'expected a size (256MiB, 1GB) or a percentage (50%)' : undefined,
  'limits.memory.enforce': oneOf('hard', 'soft'),
  'limits.memory.swap': bool,
  'limits.memory.swap.priority': uint,
  'limits.processes': (v) => (parseUint(v) === undefined || parseUint(v) === 0 ? 'expected a positive integer' : undefined),
  'limits.disk.priority': uint,
  'limits.network.priority': uint,
  'security.privileged': bool,
  'security.nesting': bool,
  'security.protection.delete': bool,
  'security.protection.shift': bool,
  'security.idmap.isolated': bool,
  'security.idmap.size': uint,
  'security.idmap.base': uint,
  'security.devlxd': bool,
  'security.devlxd.images': bool,
  'security.syscalls.intercept.mknod': bool,
  'security.syscalls.intercept.setxattr': bool,
  'boot.autostart': bool,
  'boot.autostart.delay': uint,
  'boot.autostart.priority': int,
  'boot.host_shutdown_timeout': uint,
  'boot.stop.priority': int,
  'cloud-init.user-data': any,
  'cloud-init.vendor-data': any,
  'cloud-init.network-config': any,
  'cloud-init.meta-data': any,
  'linux.kernel_modules': any,
  'cluster.evacuate': oneOf('auto', 'migrate', 'live-migrate', 'stop'),
  'snapshots.schedule': any,
  'snapshots.schedule.stopped': bool,
  'snapshots.pattern': any,
  'snapshots.expiry': any,
  'raw.lxc': (v, config, nicCount) => {
    const p = parseRawLxc(v, { privileged: parseBool(config['security.privileged'] ?? '') === true, nicCount });
    return p.ok ? undefined : p.reason;
  },
  'raw.apparmor': any,
  'raw.seccomp': any,
  'raw.idmap': any,
};

/** Prefixes whose keys are free-form (user data, server-managed, image properties…). */
const FREE_PREFIXES = ['user.', 'volatile.', 'image.', 'migration.', 'linux.sysctl.', 'limits.kernel.', 'limits.hugepages.', 'nvidia.', 'security.syscalls.'];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Returns the first problem with `config` as `config "<key>": <why>`, or undefined. */
export function validateConfig(config: ConfigMap, nicCount: number): string | undefined {
  for (const key of Object.keys(config).sort()) {
    const value = config[key] ?? '';
    if (key.startsWith('environment.')) {
      const name = key.slice('environment.'.length);
      if (!ENV_NAME.test(name)) return `config "${key}": invalid environment variable name "${name}"`;
      if (value.includes('\n') || value.includes('\0')) return `config "${key}": value must be a single line`;
      continue;
    }
    const check = KEYS[key];
    if (check === undefined) {
      if (FREE_PREFIXES.some((p) => key.startsWith(p))) continue;
      return `config "${key}": unknown configuration key`;
    }
    const why = check(value, config, nicCount);
    if (why !== undefined && key === 'raw.lxc') return `config "raw.lxc": ${why}`;
    if (why !== undefined) return `config "${key}": invalid value "${value.length > 60 ? `${value.slice(0, 60)}…` : value}": ${why}`;
  }
  return undefined;
}
