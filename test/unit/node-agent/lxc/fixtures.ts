/**
 * Host shapes and runtimes for the LXC renderer's unit and golden tests: a cgroup v1/v2 hybrid
 * host like this Debian machine (no AppArmor, seccomp, no lxcfs) and a pure cgroup v2 host with
 * AppArmor and lxcfs.
 */
import type { HostFeatures } from '../../../../src/node-agent/drivers/lxc/host-features.js';
import type { InstanceRuntime } from '../../../../src/node-agent/types.js';

const V1 = ['memory', 'pids', 'cpuset', 'cpu', 'cpuacct', 'devices', 'freezer'] as const;

export const HYBRID_HOST: HostFeatures = {
  cgroup: Object.fromEntries(V1.map((c) => [c, 'v1'])),
  cgroupRoots: Object.fromEntries(V1.map((c) => [c, `/sys/fs/cgroup/${c}`])),
  cgroupLayout: 'hybrid',
  cgroupNamespace: true,
  apparmor: false,
  seccompProfile: '/usr/share/lxc/config/common.seccomp',
  lxcfsInclude: null,
  bindMounts: [
    { path: '/dev/fuse', dir: false },
    { path: '/dev/net/tun', dir: false },
    { path: '/sys/fs/fuse/connections', dir: true },
  ],
  cpus: [0, 1],
  memoryBytes: 24 * 2 ** 30,
};

export const UNIFIED_HOST: HostFeatures = {
  cgroup: Object.fromEntries(V1.map((c) => [c, 'v2'])),
  cgroupRoots: Object.fromEntries(V1.map((c) => [c, '/sys/fs/cgroup'])),
  cgroupLayout: 'unified',
  cgroupNamespace: true,
  apparmor: true,
  seccompProfile: '/usr/share/lxc/config/common.seccomp',
  lxcfsInclude: '/usr/share/lxc/config/common.conf.d/',
  bindMounts: [
    { path: '/dev/fuse', dir: false },
    { path: '/dev/mqueue', dir: true },
  ],
  cpus: [0, 1, 2, 3, 4, 5, 6, 7],
  memoryBytes: 8 * 2 ** 30,
};

/** A minimal unprivileged runtime; `patch` overrides parts. */
export function aRuntime(patch: Partial<InstanceRuntime> & { config?: Record<string, string>; devices?: InstanceRuntime['spec']['devices'] } = {}): InstanceRuntime {
  const { config, devices, ...rest } = patch;
  return {
    spec: { name: 'web1', project: 'default', ephemeral: false, config: config ?? {}, devices: devices ?? {} },
    hostName: 'web1',
    volumePath: '/var/lib/shoal/storage-pools/default/containers/web1',
    nics: [],
    disks: [],
    unixDevices: [],
    idmap: { hostStart: 100000, size: 65536 },
    ...rest,
  };
}

/** A runtime with every feature the renderer handles. */
export function aFullRuntime(): InstanceRuntime {
  return aRuntime({
    spec: {
      name: 'web1',
      project: 'shop',
      ephemeral: false,
      config: {
        'limits.cpu': '1',
        'limits.cpu.allowance': '25ms/100ms',
        'limits.memory': '256MiB',
        'limits.processes': '200',
        'security.nesting': 'true',
        'environment.HTTP_PORT': '8080',
        'environment.GREETING': 'hello world',
        'boot.autostart': 'true',
        'raw.lxc': '# extra\nlxc.signal.halt = SIGUSR1\nlxc.net.2.type = empty\nlxc.prlimit.nofile = 4096\n',
        'user.note': 'kept',
      },
      devices: {
        root: { type: 'disk', path: '/', pool: 'default' },
        eth0: { type: 'nic', network: 'shoalbr0' },
        lan: { type: 'nic', nictype: 'macvlan', parent: 'enp1s0' },
        data: { type: 'disk', source: '/srv/data dir', path: '/mnt/data', readonly: 'true' },
        shared: { type: 'disk', source: '/srv/shared', path: '/srv/shared', shift: 'true' },
        cfg: { type: 'disk', source: '/etc/app.conf', path: '/etc/app.conf' },
        opt: { type: 'disk', source: '/srv/maybe', path: '/opt/maybe', required: 'false' },
        zero: { type: 'unix-char', path: '/dev/myzero', major: '1', minor: '5' },
        sdb: { type: 'unix-block', path: '/dev/sdb', major: '8', minor: '16', mode: '0660' },
      },
    },
    hostName: 'shop_web1',
    nics: [
      { device: 'eth0', ifname: 'eth0', kind: 'bridged', parent: 'shoalbr0', hwaddr: '00:16:3e:12:34:56', mtu: 1450, hostName: 'veth3f2a1b0c' },
      { device: 'lan', ifname: 'lan', kind: 'macvlan', parent: 'enp1s0', hwaddr: '00:16:3e:65:43:21' },
    ],
    disks: [
      { device: 'data', path: '/mnt/data', source: '/srv/data dir', readonly: true },
      { device: 'shared', path: '/srv/shared', source: '/srv/shared', readonly: false },
      { device: 'cfg', path: '/etc/app.conf', source: '/etc/app.conf', readonly: false },
      { device: 'opt', path: '/opt/maybe', source: '/srv/maybe', readonly: false },
    ],
    unixDevices: [
      { device: 'zero', kind: 'unix-char', path: '/dev/myzero', major: 1, minor: 5, uid: 0, gid: 0, mode: 0o666 },
      { device: 'sdb', kind: 'unix-block', path: '/dev/sdb', major: 8, minor: 16, uid: 0, gid: 6, mode: 0o660 },
    ],
  });
}

/** An old cgroup v1-only kernel without cgroup namespaces (LXC then mounts `cgroup:mixed`). */
export const LEGACY_HOST: HostFeatures = { ...HYBRID_HOST, cgroupLayout: 'legacy', cgroupNamespace: false };
