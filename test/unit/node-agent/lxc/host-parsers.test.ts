// Covers the pure helpers around the LXC driver's host I/O: cgroup layout from mountinfo (hybrid
// and unified hosts), /proc/<pid>/cgroup parsing, `ip -j -s addr` parsing, managed cgroup limit
// settings (values and resets), autostart planning, the cloud-init seed, lxc-attach argv, dev_t
// decoding and fstab escaping.
import { strict as assert } from 'node:assert';
import { planAutostart } from '../../../../src/node-agent/drivers/lxc/autostart.js';
import { cgroupLimitSettings } from '../../../../src/node-agent/drivers/lxc/cgroup-limits.js';
import { parseProcCgroup, trimToPayload } from '../../../../src/node-agent/drivers/lxc/cgroup-stats.js';
import { cloudInitSeed } from '../../../../src/node-agent/drivers/lxc/cloud-init.js';
import { attachArgs } from '../../../../src/node-agent/drivers/lxc/exec-session.js';
import { devMajor, devMinor } from '../../../../src/node-agent/drivers/lxc/host-devices.js';
import { cgroupLayoutFromMountinfo } from '../../../../src/node-agent/drivers/lxc/host-features.js';
import { fstabEscape } from '../../../../src/node-agent/drivers/lxc/lxc-config-devices.js';
import { parseIpAddr } from '../../../../src/node-agent/drivers/lxc/net-state.js';
import { aRuntime, HYBRID_HOST, UNIFIED_HOST } from './fixtures.js';

const HYBRID_MOUNTINFO = `25 30 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw
32 25 0:27 / /sys/fs/cgroup rw shared:9 - tmpfs tmpfs rw,mode=755
33 32 0:28 / /sys/fs/cgroup/memory rw shared:10 - cgroup cgroup rw,memory
34 32 0:29 / /sys/fs/cgroup/cpu,cpuacct rw shared:11 - cgroup cgroup rw,cpu,cpuacct
35 32 0:30 / /sys/fs/cgroup/pids rw shared:12 - cgroup cgroup rw,pids
36 32 0:31 / /sys/fs/cgroup/unified rw shared:13 - cgroup2 cgroup2 rw
37 32 0:32 / /sys/fs/cgroup/systemd rw shared:14 - cgroup cgroup rw,name=systemd
`;
const UNIFIED_MOUNTINFO = `25 30 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw
32 25 0:27 / /sys/fs/cgroup rw shared:9 - cgroup2 cgroup2 rw,nsdelegate
`;

describe('src/node-agent/drivers/lxc host helpers', () => {
  describe('cgroupLayoutFromMountinfo', () => {
    it('puts controllers on v1 where mounted there, the rest on v2, on a hybrid host', () => {
      assert.deepEqual(cgroupLayoutFromMountinfo(HYBRID_MOUNTINFO, ['cpuset', 'freezer']), {
        cgroup: { memory: 'v1', cpu: 'v1', cpuacct: 'v1', pids: 'v1', cpuset: 'v2', freezer: 'v2' },
        roots: {
          memory: '/sys/fs/cgroup/memory',
          cpu: '/sys/fs/cgroup/cpu,cpuacct',
          cpuacct: '/sys/fs/cgroup/cpu,cpuacct',
          pids: '/sys/fs/cgroup/pids',
          cpuset: '/sys/fs/cgroup/unified',
          freezer: '/sys/fs/cgroup/unified',
        },
        layout: 'hybrid',
        v2Mount: '/sys/fs/cgroup/unified',
      });
    });
    it('puts everything on v2 on a unified host', () => {
      const r = cgroupLayoutFromMountinfo(UNIFIED_MOUNTINFO, ['cpuset', 'cpu', 'memory', 'pids']);
      assert.equal(r.layout, 'unified');
      assert.deepEqual(r.cgroup, { cpuset: 'v2', cpu: 'v2', memory: 'v2', pids: 'v2', freezer: 'v2', devices: 'v2', cpuacct: 'v2' });
      assert.equal(r.roots.memory, '/sys/fs/cgroup');
    });
  });

  describe('parseProcCgroup', () => {
    it('maps controllers to the instance payload cgroup, even from a child cgroup', () => {
      const m = parseProcCgroup('4:memory:/lxc.payload.web1/init.scope\n2:cpu,cpuacct:/lxc.payload.web1\n0::/lxc.payload.web1/init.scope\n');
      assert.deepEqual([...m.entries()], [
        ['memory', '/lxc.payload.web1'],
        ['cpu', '/lxc.payload.web1'],
        ['cpuacct', '/lxc.payload.web1'],
        ['', '/lxc.payload.web1'],
      ]);
      assert.equal(trimToPayload('/a/b'), '/a/b');
    });
  });

  describe('parseIpAddr', () => {
    it('converts ip -j -s addr output to LXD interface states with host veth names', () => {
      const json = JSON.stringify([
        {
          ifname: 'eth0',
          flags: ['BROADCAST', 'UP', 'LOWER_UP'],
          mtu: 1450,
          address: '00:16:3e:00:00:01',
          addr_info: [
            { family: 'inet', local: '10.0.0.5', prefixlen: 24, scope: 'global' },
            { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
          ],
          stats64: { rx: { bytes: 100, packets: 2 }, tx: { bytes: 50, packets: 1 } },
        },
        { ifname: 'lo', flags: ['LOOPBACK'], mtu: 65536, address: '00:00:00:00:00:00', addr_info: [] },
      ]);
      assert.deepEqual(parseIpAddr(json, [{ device: 'eth0', ifname: 'eth0', kind: 'bridged', parent: 'br0', hwaddr: '', hostName: 'vethabc' }]), {
        eth0: {
          addresses: [
            { family: 'inet', address: '10.0.0.5', netmask: '24', scope: 'global' },
            { family: 'inet6', address: 'fe80::1', netmask: '64', scope: 'link' },
          ],
          hwaddr: '00:16:3e:00:00:01',
          mtu: 1450,
          state: 'up',
          hostName: 'vethabc',
          counters: { bytesReceived: 100, bytesSent: 50, packetsReceived: 2, packetsSent: 1 },
        },
        lo: {
          addresses: [],
          hwaddr: '00:00:00:00:00:00',
          mtu: 65536,
          state: 'down',
          hostName: '',
          counters: { bytesReceived: 0, bytesSent: 0, packetsReceived: 0, packetsSent: 0 },
        },
      });
    });
  });

  describe('cgroupLimitSettings', () => {
    it('lists every managed file with its value, defaults resetting removed limits', () => {
      const s = (rt = aRuntime(), host = HYBRID_HOST): string[] => cgroupLimitSettings(rt, host).map((x) => `${x.file}=${x.value}${x.isDefault ? ' (default)' : ''}`);
      assert.deepEqual(s(), [
        'memory.limit_in_bytes=-1 (default)',
        'pids.max=max (default)',
        'cpuset.cpus=0-1 (default)',
        'cpu.shares=1024 (default)',
        'cpu.cfs_period_us=100000 (default)',
        'cpu.cfs_quota_us=-1 (default)',
      ]);
      assert.deepEqual(s(aRuntime({ config: { 'limits.memory': '1GiB', 'limits.cpu.allowance': '50%' } }), UNIFIED_HOST), [
        'memory.max=1073741824',
        'pids.max=max (default)',
        'cpuset.cpus=0-7 (default)',
        'cpu.weight=20',
        'cpu.max=max 100000 (default)',
      ]);
    });
  });

  describe('planAutostart', () => {
    it('starts flagged and last-running instances by priority then name, with delays', () => {
      const c = (hostName: string, config: Record<string, string>, lastPower: 'RUNNING' | 'STOPPED' | null, running = false) => ({
        hostName,
        config,
        lastPower,
        running,
      });
      assert.deepEqual(
        planAutostart([
          c('b', { 'boot.autostart': 'true' }, 'STOPPED'),
          c('a', { 'boot.autostart': 'true', 'boot.autostart.delay': '3' }, null),
          c('hi', { 'boot.autostart': '1', 'boot.autostart.priority': '5' }, null),
          c('was', {}, 'RUNNING'),
          c('empty', { 'boot.autostart': '' }, 'RUNNING'),
          c('never', { 'boot.autostart': 'false' }, 'RUNNING'),
          c('off', {}, 'STOPPED'),
          c('up', { 'boot.autostart': 'true' }, 'RUNNING', true),
        ]),
        [
          { hostName: 'hi', delayAfterMs: 0 },
          { hostName: 'a', delayAfterMs: 3000 },
          { hostName: 'b', delayAfterMs: 0 },
          { hostName: 'empty', delayAfterMs: 0 },
          { hostName: 'was', delayAfterMs: 0 },
        ],
      );
    });
  });

  describe('cloudInitSeed', () => {
    it('has no seed without cloud-init keys and defaults meta-data like LXD', () => {
      assert.equal(cloudInitSeed(aRuntime().spec), null);
      assert.deepEqual(cloudInitSeed(aRuntime({ config: { 'cloud-init.user-data': 'u', 'user.vendor-data': 'v' } }).spec), {
        'meta-data': 'instance-id: web1\nlocal-hostname: web1\n',
        'user-data': 'u',
        'vendor-data': 'v',
      });
      assert.deepEqual(cloudInitSeed(aRuntime({ config: { 'cloud-init.meta-data': 'm' } }).spec), { 'meta-data': 'm' });
    });
  });

  describe('attachArgs', () => {
    it('clears the environment, sets ids and env, and wraps a cwd', () => {
      const t = { lxcpath: '/s/containers', hostName: 'web1', env: { B: '2', A: '1' } };
      assert.deepEqual(attachArgs(t, { command: ['ls', '-l'], env: {}, pty: false }), [
        '-P', '/s/containers', '-n', 'web1', '--clear-env', '-v', 'A=1', '-v', 'B=2', '--', 'ls', '-l',
      ]);
      assert.deepEqual(attachArgs({ ...t, env: {} }, { command: ['pwd'], env: {}, pty: false, cwd: '/tmp', uid: 1000, gid: 1000 }), [
        '-P', '/s/containers', '-n', 'web1', '--clear-env', '-u', '1000', '-g', '1000', '--',
        '/bin/sh', '-c', 'cd "$1" && shift && exec "$@"', 'sh', '/tmp', 'pwd',
      ]);
    });
  });

  it('decodes dev_t and escapes fstab fields', () => {
    assert.deepEqual([devMajor(0x0105), devMinor(0x0105)], [1, 5]);
    assert.deepEqual([devMajor(0x10305), devMinor(0x10305)], [259, 5]);
    assert.deepEqual([devMajor(0x10082c), devMinor(0x10082c)], [8, 300]);
    assert.equal(fstabEscape('/srv/my data\\x'), '/srv/my\\040data\\134x');
  });
});
