// Device resolution (src/node-agent/devices.ts): LXD devices → host objects, volatile keys kept
// or generated once, and INVALID_ARGUMENT / NOT_FOUND naming the device or the missing object.
import { strict as assert } from 'node:assert';
import { resolveDevices, type DeviceLookups } from '../../../src/node-agent/devices.js';
import type { InstanceSpec, PoolSpec } from '../../../src/node-agent/types.js';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';

const pool: PoolSpec = { name: 'p', driver: 'dir', config: {} };
let hex = 0;
const look: DeviceLookups = {
  pool: (n) => (n === 'p' ? pool : undefined),
  network: (n) => (n === 'lan' ? { name: 'lan', type: 'bridge', config: {} } : undefined),
  customVolumePath: (p, n) => (p === 'p' && n === 'data' ? '/pools/p/custom/data' : undefined),
  instanceVolumePath: (p, h) => `/pools/${p.name}/containers/${h}`,
  deviceNumbers: (path) => (path === '/dev/null' ? { major: 1, minor: 3 } : undefined),
  randomHex: (bytes) => (++hex).toString(16).padStart(bytes * 2, '0'),
  idmap: { hostStart: 100000, size: 65536 },
  vethPrefix: 'veth',
};
const spec = (devices: InstanceSpec['devices'], config: InstanceSpec['config'] = {}): InstanceSpec => ({
  name: 'c1',
  project: 'default',
  ephemeral: false,
  config,
  devices: { root: { type: 'disk', path: '/', pool: 'p' }, ...devices },
});
const rejects = (code: ErrorCode, text: string) => (err: unknown) => isShoalError(err, code) && err.message.includes(text);

describe('src/node-agent/devices.ts', () => {
  beforeEach(() => {
    hex = 0;
  });

  describe('resolveDevices', () => {
    it('resolves every device kind and generates volatile keys once', () => {
      const r = resolveDevices(
        spec({
          eth0: { type: 'nic', network: 'lan', 'ipv4.address': '10.0.0.5' },
          mv: { type: 'nic', nictype: 'macvlan', parent: 'eno1', name: 'eth1', hwaddr: '02:00:00:00:00:01' },
          data: { type: 'disk', path: '/data', pool: 'p', source: 'data' },
          host: { type: 'disk', path: '/mnt', source: '/srv', readonly: 'true' },
          null: { type: 'unix-char', source: '/dev/null' },
          gone: { type: 'none' },
        }, { 'limits.memory': '1GiB' }),
        'c1',
        {},
        look,
      );
      assert.deepEqual(r.runtime.nics, [
        { device: 'eth0', ifname: 'eth0', kind: 'bridged', parent: 'lan', hwaddr: '00:16:3e:00:00:01', ipv4: '10.0.0.5', hostName: 'veth00000002' },
        { device: 'mv', ifname: 'eth1', kind: 'macvlan', parent: 'eno1', hwaddr: '02:00:00:00:00:01' },
      ]);
      assert.deepEqual(r.runtime.disks, [
        { device: 'data', path: '/data', source: '/pools/p/custom/data', readonly: false, shift: true },
        { device: 'host', path: '/mnt', source: '/srv', readonly: true },
      ]);
      assert.deepEqual(r.runtime.unixDevices, [{ device: 'null', kind: 'unix-char', path: '/dev/null', major: 1, minor: 3, uid: 0, gid: 0, mode: 0o660 }]);
      assert.deepEqual(r.volatile, {
        'volatile.eth0.hwaddr': '00:16:3e:00:00:01',
        'volatile.eth0.host_name': 'veth00000002',
        'volatile.idmap.base': '100000',
      });
      assert.deepEqual(r.networkHosts, [{ network: 'lan', host: { instance: 'c1', device: 'eth0', hwaddr: '00:16:3e:00:00:01', ipv4: '10.0.0.5' } }]);
      assert.equal(r.runtime.volumePath, '/pools/p/containers/c1');
      assert.deepEqual(r.runtime.idmap, { hostStart: 100000, size: 65536 });
      const again = resolveDevices(spec({ eth0: { type: 'nic', network: 'lan' } }), 'c1', r.volatile, look);
      assert.equal(again.runtime.nics[0]?.hwaddr, '00:16:3e:00:00:01');
    });

    it('gives privileged instances no idmap', () => {
      assert.equal(resolveDevices(spec({}, { 'security.privileged': 'true' }), 'c1', {}, look).runtime.idmap, null);
    });

    it('reads the root size as the quota', () => {
      assert.equal(resolveDevices({ ...spec({}), devices: { root: { type: 'disk', path: '/', pool: 'p', size: '2GiB' } } }, 'c1', {}, look).rootSizeBytes, 2 * 1024 ** 3);
    });

    it('names what is wrong', () => {
      const bad: Array<[InstanceSpec, ErrorCode, string]> = [
        [{ ...spec({}), devices: {} }, ErrorCode.InvalidArgument, 'no root disk'],
        [{ ...spec({}), devices: { root: { type: 'disk', path: '/', pool: 'x' } } }, ErrorCode.NotFound, 'Storage pool "x" not found'],
        [spec({ eth0: { type: 'nic', network: 'wan' } }), ErrorCode.NotFound, 'Network "wan" not found'],
        [spec({ eth0: { type: 'nic' } }), ErrorCode.InvalidArgument, 'Device "eth0"'],
        [spec({ eth0: { type: 'nic', nictype: 'bridged', parent: 'br0', 'ipv4.address': '1.2.3.4' } }), ErrorCode.InvalidArgument, 'needs a managed network'],
        [spec({ d: { type: 'disk', path: '/d', pool: 'p', source: 'nope' } }), ErrorCode.NotFound, 'Storage volume "nope" not found'],
        [spec({ d: { type: 'disk', path: 'rel', source: '/x' } }), ErrorCode.InvalidArgument, 'Device "d"'],
        [spec({ u: { type: 'unix-block', path: '/dev/sdz' } }), ErrorCode.InvalidArgument, 'Device "u"'],
        [spec({ g: { type: 'gpu' } }), ErrorCode.InvalidArgument, 'unsupported type "gpu"'],
        [spec({ a: { type: 'nic', network: 'lan', name: 'eth0' }, b: { type: 'nic', network: 'lan', name: 'eth0' } }), ErrorCode.InvalidArgument, 'used twice'],
        [{ ...spec({}), devices: { root: { type: 'disk', path: '/', pool: 'p', size: 'lots' } } }, ErrorCode.InvalidArgument, 'root.size'],
      ];
      for (const [s, code, text] of bad) assert.throws(() => resolveDevices(s, 'c1', {}, look), rejects(code, text), text);
    });
  });
});
