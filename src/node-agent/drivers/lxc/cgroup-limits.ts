/**
 * The cgroup files Shoal manages for an instance's limits (`limits.cpu`, `limits.cpu.allowance`,
 * `limits.memory`, `limits.processes`), for the hierarchy each controller is on here: cgroup v1
 * (`memory.limit_in_bytes`, `pids.max`, `cpuset.cpus`, `cpu.shares`, `cpu.cfs_*`) or v2
 * (`memory.max`, `pids.max`, `cpuset.cpus`, `cpu.weight`, `cpu.max`). Pure. The renderer writes the
 * non-default ones as `lxc.cgroup[2].<file> = <value>`; a live update writes all of them with
 * `lxc-cgroup`, so removing a limit resets it.
 */
import type { InstanceRuntime } from '../../types.js';
import type { CgroupVersion, HostFeatures } from './host-features.js';
import { formatCpuSet, parseCpuAllowance, parseCpuLimit, parseMemoryLimit, parseUint, pickCpus } from './units.js';

/** One managed cgroup file and the value it should hold. */
export interface CgroupSetting {
  readonly version: CgroupVersion;
  /** File name inside the instance's cgroup (`memory.limit_in_bytes`). */
  readonly file: string;
  readonly value: string;
  /** True when the value is the kernel default (no limit configured). */
  readonly isDefault: boolean;
}

/** The LXC config key for a setting: `lxc.cgroup.<file>` (v1) or `lxc.cgroup2.<file>` (v2). */
export function cgroupConfigKey(s: Pick<CgroupSetting, 'version' | 'file'>): string {
  return `${s.version === 'v1' ? 'lxc.cgroup' : 'lxc.cgroup2'}.${s.file}`;
}

/** LXD's shares → weight conversion for cgroup v2. */
function sharesToWeight(shares: number): number {
  return Math.max(1, Math.min(10000, 1 + Math.floor(((shares - 2) * 9999) / 262142)));
}

/** Every managed limit for `runtime` on a host shaped like `features` (unavailable controllers are skipped). */
export function cgroupLimitSettings(runtime: InstanceRuntime, features: HostFeatures): CgroupSetting[] {
  const config = runtime.spec.config;
  const out: CgroupSetting[] = [];
  const add = (version: CgroupVersion | undefined, file: string, value: string, isDefault: boolean): void => {
    if (version !== undefined) out.push({ version, file, value, isDefault });
  };

  const memVersion = features.cgroup.memory;
  const memRaw = config['limits.memory'];
  const mem = memRaw === undefined ? undefined : parseMemoryLimit(memRaw, features.memoryBytes);
  if (memVersion === 'v1') add('v1', 'memory.limit_in_bytes', mem === undefined ? '-1' : String(mem), mem === undefined);
  if (memVersion === 'v2') add('v2', 'memory.max', mem === undefined ? 'max' : String(mem), mem === undefined);

  const procRaw = config['limits.processes'];
  const procs = procRaw === undefined ? undefined : parseUint(procRaw);
  add(features.cgroup.pids, 'pids.max', procs === undefined ? 'max' : String(procs), procs === undefined);

  const cpuRaw = config['limits.cpu'];
  const cpuLimit = cpuRaw === undefined ? undefined : parseCpuLimit(cpuRaw);
  if (features.cgroup.cpuset !== undefined) {
    let cpus: readonly number[] = features.cpus;
    if (cpuLimit?.kind === 'count') cpus = pickCpus(cpuLimit.count, features.cpus, runtime.hostName);
    if (cpuLimit?.kind === 'set') cpus = cpuLimit.cpus;
    add(features.cgroup.cpuset, 'cpuset.cpus', formatCpuSet(cpus), cpuLimit === undefined);
  }

  const allowRaw = config['limits.cpu.allowance'];
  const allowance = allowRaw === undefined ? undefined : parseCpuAllowance(allowRaw);
  const shares = allowance?.kind === 'share' ? Math.floor((1024 / 100) * allowance.percent) : 1024;
  const quota = allowance?.kind === 'quota' ? allowance : undefined;
  if (features.cgroup.cpu === 'v1') {
    add('v1', 'cpu.shares', String(shares), allowance?.kind !== 'share');
    add('v1', 'cpu.cfs_period_us', String(quota?.periodUs ?? 100000), quota === undefined);
    add('v1', 'cpu.cfs_quota_us', String(quota?.quotaUs ?? -1), quota === undefined);
  }
  if (features.cgroup.cpu === 'v2') {
    add('v2', 'cpu.weight', String(sharesToWeight(shares)), allowance?.kind !== 'share');
    add('v2', 'cpu.max', quota === undefined ? 'max 100000' : `${quota.quotaUs} ${quota.periodUs}`, quota === undefined);
  }
  return out;
}
