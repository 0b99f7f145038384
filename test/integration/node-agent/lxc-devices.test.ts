// Covers LxcInstanceDriver devices on real LXC: a bridged nic (veth on a test bridge, MAC, MTU,
// name inside, host veth name, state), a macvlan nic on a dummy parent, disk bind mounts
// (read-only, idmapped with shift=true, plain), a unix-char device bind-mounted from a host node,
// and cloud-init seed files. Bridges and dummies are deleted in afterEach.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LxcInstanceDriver } from '../../../src/node-agent/drivers/lxc/lxc-driver.js';
import { run } from '../../../src/node-agent/exec.js';
import { execCollect } from '../../support/exec-helpers.js';
import { LxcFixture, sig } from '../../support/lxc-fixture.js';
import { HOST_TAG } from '../../support/host-plan.js';

describe('src/node-agent/drivers/lxc', () => {
  let fx: LxcFixture;
  let d: LxcInstanceDriver;
  beforeEach(async () => {
    fx = await LxcFixture.create();
    d = fx.driver();
  });
  afterEach(async () => {
    await fx.close();
  });

  describe('nic devices', () => {
    it('attaches a bridged veth with the given MAC, MTU, names, and reports it in state', async () => {
      const br = await fx.bridge();
      const name = fx.name('nic');
      const veth = `${HOST_TAG}v${randomBytes(2).toString('hex')}`;
      const rt = await fx.runtime(
        name,
        { devices: { eth0: { type: 'nic', nictype: 'bridged', parent: br.name, mtu: '1400', hwaddr: '00:16:3e:71:00:01' } } },
        { nics: [{ device: 'eth0', ifname: 'eth0', kind: 'bridged', parent: br.name, hwaddr: '00:16:3e:71:00:01', mtu: 1400, hostName: veth }] },
      );
      await d.create(rt, sig());
      await d.start(rt.hostName, sig());
      const master = JSON.parse((await run('ip', ['-j', 'link', 'show', veth])).stdout) as { master?: string; mtu?: number }[];
      assert.equal(master[0]?.master, br.name);
      const r = await execCollect(d, name, ['sh', '-c', `ip addr add ${br.subnet}.5/24 dev eth0 && ping -c1 -W2 ${br.subnet}.1 >/dev/null && echo reached`]);
      assert.equal(r.stdout, 'reached\n', r.stderr);
      const st = await d.state(name, sig());
      const eth0 = st.network['eth0'];
      assert.ok(eth0);
      assert.equal(eth0.hwaddr, '00:16:3e:71:00:01');
      assert.equal(eth0.mtu, 1400);
      assert.equal(eth0.state, 'up');
      assert.equal(eth0.hostName, veth);
      assert.ok(eth0.addresses.some((a) => a.family === 'inet' && a.address === `${br.subnet}.5` && a.netmask === '24' && a.scope === 'global'));
      assert.ok(eth0.counters.packetsSent > 0 && eth0.counters.bytesReceived > 0);
      await d.stop(name, { force: true, timeoutMs: 0 }, sig());
      assert.equal((await run('ip', ['link', 'show', veth], { okCodes: [0, 1] })).code, 1);
    });

    it('attaches a macvlan nic in bridge mode on its parent', async () => {
      // No dummy driver in this kernel: one end of a veth pair is the parent.
      const suffix = randomBytes(2).toString('hex');
      const parent = `${HOST_TAG}d${suffix}`;
      await run('ip', ['link', 'add', parent, 'type', 'veth', 'peer', 'name', `${HOST_TAG}e${suffix}`]);
      fx.onClose(async () => void (await run('ip', ['link', 'del', parent], { okCodes: [0, 1] })));
      await run('ip', ['link', 'set', parent, 'up']);
      const name = fx.name('mv');
      const rt = await fx.runtime(
        name,
        { devices: { lan: { type: 'nic', nictype: 'macvlan', parent, name: 'lan0' } } },
        { nics: [{ device: 'lan', ifname: 'lan0', kind: 'macvlan', parent, hwaddr: '00:16:3e:71:00:02' }] },
      );
      await d.create(rt, sig());
      await d.start(name, sig());
      const st = await d.state(name, sig());
      assert.equal(st.network['lan0']?.hwaddr, '00:16:3e:71:00:02');
      assert.equal(st.network['lan0']?.hostName, '');
      const r = await execCollect(d, name, ['cat', '/sys/class/net/lan0/address']);
      assert.equal(r.stdout, '00:16:3e:71:00:02\n');
      await d.stop(name, { force: true, timeoutMs: 0 }, sig());
    });
  });

  describe('disk and unix devices', () => {
    it('bind-mounts disks read-only, idmapped or plain, and a unix-char node from the host', async () => {
      const host = join(fx.base, 'hostdata');
      await mkdir(host, { mode: 0o711 });
      for (const sub of ['ro', 'shifted', 'plain']) {
        await mkdir(join(host, sub));
        await writeFile(join(host, sub, 'f'), sub);
      }
      await chmod(join(host, 'plain'), 0o777);
      const name = fx.name('dsk');
      const rt = await fx.runtime(
        name,
        {
          devices: {
            ro: { type: 'disk', source: join(host, 'ro'), path: '/mnt/ro', readonly: 'true' },
            shifted: { type: 'disk', source: join(host, 'shifted'), path: '/mnt/shifted', shift: 'true' },
            plain: { type: 'disk', source: join(host, 'plain'), path: '/mnt/plain' },
            zero: { type: 'unix-char', path: '/dev/slxzero', major: '1', minor: '5', uid: '1000', gid: '1000', mode: '0640' },
          },
        },
        {
          disks: [
            { device: 'ro', source: join(host, 'ro'), path: '/mnt/ro', readonly: true },
            { device: 'shifted', source: join(host, 'shifted'), path: '/mnt/shifted', readonly: false },
            { device: 'plain', source: join(host, 'plain'), path: '/mnt/plain', readonly: false },
          ],
          unixDevices: [{ device: 'zero', kind: 'unix-char', path: '/dev/slxzero', major: 1, minor: 5, uid: 1000, gid: 1000, mode: 0o640 }],
        },
      );
      await d.create(rt, sig());
      await d.start(name, sig());
      const r = await execCollect(d, name, [
        'sh',
        '-c',
        [
          'cat /mnt/ro/f; echo',
          'touch /mnt/ro/x 2>/dev/null && echo ro-writable || echo ro-refused',
          'stat -c %u /mnt/shifted/f /mnt/plain/f',
          'touch /mnt/shifted/new && chown 1000:1000 /mnt/shifted/new && echo shifted-ok',
          'stat -c "%u %g %a %t:%T" /dev/slxzero',
          'head -c 4 /dev/slxzero | od -An -tx1',
        ].join('; '),
      ]);
      assert.equal(r.stdout, 'ro\nro-refused\n0\n65534\nshifted-ok\n1000 1000 640 1:5\n 00 00 00 00\n', r.stderr);
      assert.equal((await stat(join(host, 'shifted', 'new'))).uid, 1000);
      await d.stop(name, { force: true, timeoutMs: 0 }, sig());
    });
  });

  describe('cloud-init', () => {
    it('writes a NoCloud seed with LXD default meta-data on create and refreshes it on start', async () => {
      const name = fx.name('ci');
      const rt = await fx.runtime(name, { config: { 'cloud-init.user-data': '#cloud-config\npackages: []\n' } });
      await d.create(rt, sig());
      const seed = join(rt.volumePath, 'rootfs/var/lib/cloud/seed/nocloud-net');
      assert.equal(await readFile(join(seed, 'meta-data'), 'utf8'), `instance-id: ${name}\nlocal-hostname: ${name}\n`);
      assert.equal(await readFile(join(seed, 'user-data'), 'utf8'), '#cloud-config\npackages: []\n');
      assert.equal((await stat(join(seed, 'user-data'))).mode & 0o777, 0o600);
      await d.update({ ...rt, spec: { ...rt.spec, config: { 'cloud-init.network-config': 'version: 2\n' } } }, sig());
      await d.start(name, sig());
      assert.equal(await readFile(join(seed, 'network-config'), 'utf8'), 'version: 2\n');
      await assert.rejects(stat(join(seed, 'user-data')));
      await d.stop(name, { force: true, timeoutMs: 0 }, sig());
    });
  });
});
