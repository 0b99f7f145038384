/**
 * What this host offers LXC, probed once per driver: which cgroup hierarchy (v1 or v2) each
 * controller lives on (this Debian host is a v1/v2 hybrid; others are pure v2), AppArmor,
 * seccomp, lxcfs, the device nodes LXD bind-mounts into containers, CPUs and memory. The config
 * renderer is pure over this value, so golden tests pin a host shape explicitly.
 */
import { access, readFile, stat } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { parseCpuSet } from './units.js';

/** Cgroup controllers the driver configures or reads. */
export const CGROUP_CONTROLLERS = ['memory', 'pids', 'cpuset', 'cpu', 'cpuacct', 'devices', 'freezer'] as const;
export type CgroupController = (typeof CGROUP_CONTROLLERS)[number];
export type CgroupVersion = 'v1' | 'v2';

/** A host path LXD bind-mounts into every container when it exists (`/dev/fuse`, `/dev/net/tun`, …). */
export interface HostBindMount {
  readonly path: string;
  readonly dir: boolean;
}

export interface HostFeatures {
  /** The hierarchy each available controller is on; a missing controller is unavailable. */
  readonly cgroup: Readonly<Partial<Record<CgroupController, CgroupVersion>>>;
  /** Mount point of the hierarchy holding each controller (v1: its own mount; v2: the cgroup2 mount). */
  readonly cgroupRoots: Readonly<Partial<Record<CgroupController, string>>>;
  /** `unified` when /sys/fs/cgroup itself is cgroup2; `hybrid` v1 controllers plus cgroup2; `legacy` v1 only. */
  readonly cgroupLayout: 'legacy' | 'hybrid' | 'unified';
  /**
   * The kernel has cgroup namespaces (/proc/self/ns/cgroup): LXC can then mount a cgroup view
   * rooted at the instance's own cgroup inside it (`cgroup:rw:force`).
   */
  readonly cgroupNamespace: boolean;
  readonly apparmor: boolean;
  /** The seccomp policy file for `lxc.seccomp.profile`, or null when seccomp is unavailable. */
  readonly seccompProfile: string | null;
  /** The `common.conf.d` directory to include when lxcfs is running, else null. */
  readonly lxcfsInclude: string | null;
  readonly bindMounts: readonly HostBindMount[];
  /** Online host CPU ids. */
  readonly cpus: readonly number[];
  readonly memoryBytes: number;
}

/** The host paths LXD (driver_lxc.go initLXC) bind-mounts, optional, into unprivileged containers. */
export const LXD_BIND_MOUNTS: readonly string[] = [
  '/dev/fuse',
  '/dev/net/tun',
  '/proc/sys/fs/binfmt_misc',
  '/sys/firmware/efi/efivars',
  '/sys/fs/fuse/connections',
  '/sys/fs/pstore',
  '/sys/kernel/config',
  '/sys/kernel/debug',
  '/sys/kernel/security',
  '/sys/kernel/tracing',
  '/dev/mqueue',
];

const SECCOMP_POLICY = '/usr/share/lxc/config/common.seccomp';
const LXC_COMMON_CONF_D = '/usr/share/lxc/config/common.conf.d/';

/**
 * Reads the cgroup layout from mountinfo text: v1 controllers from `cgroup` mounts' super options,
 * v2 controllers from the cgroup2 mount's `cgroup.controllers` (passed in, since reading it is I/O).
 */
export function cgroupLayoutFromMountinfo(
  mountinfo: string,
  v2Controllers: readonly string[],
): {
  cgroup: Partial<Record<CgroupController, CgroupVersion>>;
  roots: Partial<Record<CgroupController, string>>;
  layout: HostFeatures['cgroupLayout'];
  v2Mount: string | null;
} {
  const cgroup: Partial<Record<CgroupController, CgroupVersion>> = {};
  const roots: Partial<Record<CgroupController, string>> = {};
  let v2Mount: string | null = null;
  let anyV1 = false;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const mountPoint = left[4];
    const fstype = right[0];
    const superOpts = (right[2] ?? '').split(',');
    if (fstype === 'cgroup2' && mountPoint !== undefined) v2Mount ??= mountPoint;
    if (fstype !== 'cgroup') continue;
    anyV1 = true;
    for (const c of CGROUP_CONTROLLERS) {
      if (!superOpts.includes(c) || mountPoint === undefined) continue;
      cgroup[c] = 'v1';
      roots[c] ??= mountPoint;
    }
  }
  const layout: HostFeatures['cgroupLayout'] = !anyV1 ? 'unified' : v2Mount !== null ? 'hybrid' : 'legacy';
  if (v2Mount !== null) {
    for (const c of v2Controllers) {
      // cpuacct is part of cpu in v2; freezer is built into every v2 cgroup.
      const ctl = c as CgroupController;
      if ((CGROUP_CONTROLLERS as readonly string[]).includes(c) && cgroup[ctl] === undefined) cgroup[ctl] = 'v2';
    }
    if (layout === 'unified') {
      cgroup.freezer ??= 'v2';
      cgroup.devices ??= 'v2';
      if (cgroup.cpu === 'v2') cgroup.cpuacct ??= 'v2';
    }
    for (const c of CGROUP_CONTROLLERS) if (cgroup[c] === 'v2') roots[c] = v2Mount;
  }
  return { cgroup, roots, layout, v2Mount };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false; // absent or unreadable: the feature is simply not offered
  }
}

async function readOr(path: string, fallback: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return fallback; // optional kernel interface missing on this host
  }
}

/** Probes the running host. Cheap (a few /proc and /sys reads); the driver caches the result. */
export async function probeHostFeatures(): Promise<HostFeatures> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const first = cgroupLayoutFromMountinfo(mountinfo, []);
  const v2Controllers =
    first.v2Mount === null ? [] : (await readOr(`${first.v2Mount}/cgroup.controllers`, '')).trim().split(/\s+/).filter(Boolean);
  const { cgroup, roots, layout } = cgroupLayoutFromMountinfo(mountinfo, v2Controllers);

  const apparmor =
    (await readOr('/sys/module/apparmor/parameters/enabled', 'N')).trim() === 'Y' &&
    (await exists('/sys/kernel/security/apparmor'));
  const status = await readOr('/proc/self/status', '');
  const seccompProfile = /^Seccomp:/m.test(status) && (await exists(SECCOMP_POLICY)) ? SECCOMP_POLICY : null;
  const lxcfsInclude =
    (await exists('/var/lib/lxcfs/proc')) && (await exists(LXC_COMMON_CONF_D)) ? LXC_COMMON_CONF_D : null;
  const bindMounts: HostBindMount[] = [];
  for (const path of LXD_BIND_MOUNTS) {
    try {
      const st = await stat(path);
      bindMounts.push({ path, dir: st.isDirectory() });
    } catch {
      // Not present on this host: LXD skips it too.
    }
  }
  const cpus = parseCpuSet((await readOr('/sys/devices/system/cpu/online', '0')).trim()) ?? [0];
  const cgroupNamespace = await exists('/proc/self/ns/cgroup');
  return { cgroup, cgroupRoots: roots, cgroupLayout: layout, cgroupNamespace, apparmor, seccompProfile, lxcfsInclude, bindMounts, cpus, memoryBytes: totalmem() };
}
