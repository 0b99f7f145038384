// Covers spec validation for the LXC driver: config keys (validate-config.ts), raw.lxc
// (raw-lxc.ts) and devices (validate-devices.ts). Every error names the key or device and says why.
import { strict as assert } from 'node:assert';
import { parseRawLxc } from '../../../../src/node-agent/drivers/lxc/raw-lxc.js';
import { validateConfig } from '../../../../src/node-agent/drivers/lxc/validate-config.js';
import { nicCount, validateDevices } from '../../../../src/node-agent/drivers/lxc/validate-devices.js';

describe('src/node-agent/drivers/lxc/validate', () => {
  describe('validateConfig', () => {
    it('accepts the keys the driver implements and the ones it passes over', () => {
      assert.equal(
        validateConfig(
          {
            'limits.cpu': '2',
            'limits.cpu.allowance': '50%',
            'limits.memory': '1GiB',
            'limits.processes': '100',
            'security.privileged': 'false',
            'security.nesting': 'true',
            'boot.autostart': 'true',
            'boot.autostart.delay': '5',
            'boot.autostart.priority': '-1',
            'environment.PATH_EXTRA': '/opt/bin',
            'cloud-init.user-data': '#cloud-config',
            'user.anything': 'x',
            'volatile.eth0.hwaddr': '00:16:3e:00:00:01',
            'image.os': 'busybox',
            'snapshots.schedule': '@daily',
            'raw.lxc': 'lxc.prlimit.nofile = 1024',
          },
          0,
        ),
        undefined,
      );
    });

    it('names the bad key and the reason', () => {
      const cases: [Record<string, string>, string][] = [
        [{ 'limits.memory': 'lots' }, 'config "limits.memory": invalid value "lots": expected a size (256MiB, 1GB) or a percentage (50%)'],
        [{ 'limits.cpu': '0' }, 'config "limits.cpu": invalid value "0": expected a CPU count (2) or a CPU set (0-1,3)'],
        [{ 'limits.processes': '0' }, 'config "limits.processes": invalid value "0": expected a positive integer'],
        [{ 'security.nesting': 'sure' }, 'config "security.nesting": invalid value "sure": expected a boolean (true/false)'],
        [{ 'environment.1BAD': 'x' }, 'config "environment.1BAD": invalid environment variable name "1BAD"'],
        [{ 'environment.OK': 'a\nb' }, 'config "environment.OK": value must be a single line'],
        [{ 'limits.banana': '1' }, 'config "limits.banana": unknown configuration key'],
        [{ 'raw.lxc': 'lxc.rootfs.path = dir:/' }, 'config "raw.lxc": line 1: key "lxc.rootfs.path" is managed by Shoal (the root is the storage volume)'],
      ];
      for (const [config, msg] of cases) assert.equal(validateConfig(config, 0), msg);
    });
  });

  describe('parseRawLxc', () => {
    const opts = { privileged: false, nicCount: 2 };
    it('parses key = value lines, skipping blanks and comments', () => {
      assert.deepEqual(parseRawLxc('# c\n\nlxc.signal.halt = SIGUSR1\n  lxc.cgroup.cpu.shares=512  \nlxc.net.2.type = empty\n', opts), {
        ok: true,
        entries: [
          { line: 3, key: 'lxc.signal.halt', value: 'SIGUSR1' },
          { line: 4, key: 'lxc.cgroup.cpu.shares', value: '512' },
          { line: 5, key: 'lxc.net.2.type', value: 'empty' },
        ],
      });
    });

    it('refuses what breaks the agent\'s invariants, with the line number', () => {
      const cases: [string, string][] = [
        ['no equals sign', 'line 1: expected "lxc.<key> = <value>"'],
        ['foo.bar = 1', 'line 1: unknown LXC key "foo.bar"'],
        ['lxc.frobnicate = 1', 'line 1: unknown LXC key "lxc.frobnicate"'],
        ['lxc.rootfs.options = ro', 'line 1: key "lxc.rootfs.options" is managed by Shoal (the root is the storage volume)'],
        ['lxc.include = /etc/passwd', 'line 1: key "lxc.include" is not allowed (it would load arbitrary files)'],
        ['lxc.ephemeral = 1', 'line 1: key "lxc.ephemeral" is not allowed (use the instance\'s "ephemeral" flag)'],
        ['lxc.log.file = /tmp/x', 'line 1: key "lxc.log.file" is managed by Shoal'],
        ['lxc.idmap = u 0 0 1', 'line 1: key "lxc.idmap" is only allowed with security.privileged=true'],
        ['\nlxc.net.1.link = br9', 'line 2: key "lxc.net.1.link" clashes with nic device number 1 (use lxc.net.2 or higher)'],
        ['lxc.net = ', 'line 1: key "lxc.net" is not allowed (it would drop the nic devices)'],
        ['lxc.mount.entry =', 'line 1: key "lxc.mount.entry" with an empty value would reset entries managed by Shoal'],
        ['lxc.hook.post-stop =', 'line 1: key "lxc.hook.post-stop" with an empty value would reset entries managed by Shoal'],
      ];
      for (const [text, reason] of cases) assert.deepEqual(parseRawLxc(text, opts), { ok: false, reason }, text);
      assert.equal(parseRawLxc('lxc.idmap = u 0 0 1', { privileged: true, nicCount: 0 }).ok, true);
    });
  });

  describe('validateDevices', () => {
    it('accepts LXD device shapes', () => {
      assert.equal(
        validateDevices({
          root: { type: 'disk', path: '/', pool: 'default', size: '10GiB' },
          eth0: { type: 'nic', network: 'shoalbr0', 'ipv4.address': '10.0.0.5', hwaddr: '00:16:3e:00:00:01' },
          lan: { type: 'nic', nictype: 'macvlan', parent: 'enp1s0', mtu: '1500' },
          data: { type: 'disk', source: '/srv/data', path: '/mnt', readonly: 'true', shift: 'true' },
          vol: { type: 'disk', source: 'myvol', pool: 'default', path: '/vol' },
          fuse: { type: 'unix-char', source: '/dev/fuse' },
          sdb: { type: 'unix-block', path: '/dev/sdb', major: '8', minor: '16', mode: '0660' },
          masked: { type: 'none' },
        }),
        undefined,
      );
      assert.equal(nicCount({ a: { type: 'nic', network: 'x' }, b: { type: 'disk', path: '/', pool: 'p' }, c: { type: 'nic', parent: 'br0' } }), 2);
    });

    it('names the device and key of the first problem', () => {
      const cases: [Record<string, Record<string, string>>, string][] = [
        [{ eth0: { type: 'nic', network: 'br', mtu: 'big' } }, 'device "eth0": key "mtu": invalid value "big": expected an MTU between 68 and 65535'],
        [{ eth0: { type: 'nic' } }, 'device "eth0": key "parent": required (or "network")'],
        [{ eth0: { type: 'nic', nictype: 'macvlan', network: 'br' } }, 'device "eth0": key "network": not allowed with nictype "macvlan"'],
        [{ eth0: { type: 'nic', parent: 'br0', hwaddr: 'zz' } }, 'device "eth0": key "hwaddr": invalid value "zz": expected a MAC address (00:16:3e:xx:xx:xx)'],
        [{ eth0: { type: 'nic', parent: 'br0', colour: 'red' } }, 'device "eth0": key "colour": unknown device key'],
        [{ d: { type: 'disk', source: '/a' } }, 'device "d": key "path": required'],
        [{ d: { type: 'disk', path: 'rel', source: '/a' } }, 'device "d": key "path": invalid value "rel": expected an absolute path'],
        [{ d: { type: 'disk', path: '/a/../b', source: '/a' } }, 'device "d": key "path": invalid value "/a/../b": must not contain ".." components'],
        [{ root: { type: 'disk', path: '/' } }, 'device "root": key "pool": required on the root disk'],
        [{ u: { type: 'unix-char', path: '/dev/x', major: '1' } }, 'device "u": key "major": "major" and "minor" go together'],
        [{ u: { type: 'unix-char', path: '/dev/x', mode: '999' } }, 'device "u": key "mode": invalid value "999": expected an octal mode (0660)'],
        [{ g: { type: 'gpu' } }, 'device "g": key "type": unsupported device type "gpu"'],
        [{ 'bad name': { type: 'none' } }, 'device "bad name": invalid device name'],
        [
          { a: { type: 'disk', source: '/x', path: '/mnt' }, b: { type: 'disk', source: '/y', path: '/mnt/' } },
          'device "b": key "path": "/mnt" is already used by device "a"',
        ],
      ];
      for (const [devices, msg] of cases) assert.equal(validateDevices(devices), msg);
    });
  });
});
