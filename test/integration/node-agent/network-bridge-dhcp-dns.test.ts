// DHCP and DNS through the real BridgeNetworkDriver: test hosts are network namespaces attached to
// the bridge by veth pairs, running busybox udhcpc, nslookup and ping. Covers dynamic leases,
// name resolution by instance name (whatever hostname the client sends), static leases, lease
// release on removeHost, custom domains, dns.mode=none and DHCP ranges. Everything is tag-named
// and removed in afterEach, even after a failure.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigMap } from '../../../src/node-agent/types.js';
import { NetnsHosts, udpPortRefused } from '../../support/network-hosts.js';
import {
  RUN_TAG,
  bridgeFixture,
  newGateway,
  newNetworkName,
  type BridgeFixture,
} from '../../support/network-harness.js';

const signal = new AbortController().signal;

describe('src/node-agent/drivers/network/bridge-driver', () => {
  describe('DHCP and DNS', () => {
    let f: BridgeFixture;
    let hosts: NetnsHosts;
    let networks: string[];

    const network = async (config: ConfigMap): Promise<{ name: string; gw: string; cidr: string }> => {
      const name = newNetworkName();
      networks.push(name);
      const effective = await f.driver.create({ name, type: 'bridge', config }, signal);
      const cidr = effective['ipv4.address'] ?? '';
      return { name, gw: cidr.split('/')[0] ?? '', cidr };
    };
    const pidOf = async (name: string): Promise<number> =>
      Number(await readFile(join(f.paths.networks, name, 'dnsmasq.pid'), 'utf8'));

    beforeEach(async () => {
      f = await bridgeFixture();
      hosts = new NetnsHosts(RUN_TAG);
      networks = [];
    });
    afterEach(async () => {
      const problems = await hosts.cleanup();
      for (const n of networks) await f.driver.delete(n, signal);
      await f.cleanup();
      assert.deepEqual(problems, []);
    });

    it('hands out leases to two hosts that resolve each other by instance name and ping', async () => {
      const net = await network({});
      const a = await hosts.addHost('a', net.name);
      const b = await hosts.addHost('b', net.name);
      await f.driver.addHost(net.name, { instance: 'alpha', device: 'eth0', hwaddr: a.hwaddr }, signal);
      await f.driver.addHost(net.name, { instance: 'beta', device: 'eth0', hwaddr: b.hwaddr }, signal);
      const la = await hosts.dhcp(a, 'alpha');
      const lb = await hosts.dhcp(b, 'sends-another-name');
      console.log(`      lease acquisition: ${la.ms.toFixed(0)} ms, ${lb.ms.toFixed(0)} ms`);
      assert.equal(la.router, net.gw);
      assert.equal(la.dns, net.gw);
      assert.equal(la.domain, 'shoal');

      const leases = await f.driver.leases(net.name, signal);
      assert.deepEqual(
        leases
          .map((l) => ({ hostname: l.hostname, hwaddr: l.hwaddr, address: l.address, type: l.type }))
          .sort((x, y) => x.hostname.localeCompare(y.hostname)),
        [
          { hostname: 'alpha', hwaddr: a.hwaddr, address: la.ip, type: 'dynamic' },
          { hostname: 'beta', hwaddr: b.hwaddr, address: lb.ip, type: 'dynamic' },
        ],
      );
      assert.ok(
        leases.every((l) => l.expiresAt > Date.now() + 50 * 60_000),
        'leases last about an hour',
      );

      assert.equal(await hosts.lookup(a, 'beta', net.gw), lb.ip);
      assert.equal(await hosts.lookup(a, 'beta.shoal', net.gw), lb.ip);
      assert.equal(await hosts.lookup(b, 'alpha', net.gw), la.ip);
      assert.equal(
        await hosts.lookup(a, 'sends-another-name', net.gw),
        null,
        'the instance name wins over the client hostname',
      );
      assert.equal(await hosts.lookup(a, `_gateway.shoal`, net.gw), net.gw);

      await hosts.setResolver(a, net.gw, 'shoal');
      assert.ok(await hosts.ping(a, 'beta'), 'a pings b by name');
      assert.ok(await hosts.ping(a, 'beta.shoal'), 'a pings b by FQDN');
    });

    it('gives a static host its pinned address', async () => {
      const net = await network({ 'ipv4.address': newGateway() });
      const pinned = net.gw.replace(/\.1$/, '.77');
      const s = await hosts.addHost('s', net.name);
      await f.driver.addHost(net.name, { instance: 'pinned', device: 'eth0', hwaddr: s.hwaddr, ipv4: pinned }, signal);
      const lease = await hosts.dhcp(s, 'pinned');
      assert.equal(lease.ip, pinned);
      assert.deepEqual(await f.driver.leases(net.name, signal), [
        { hostname: 'pinned', hwaddr: s.hwaddr, address: pinned, type: 'static', expiresAt: 0 },
      ]);
      const other = await hosts.addHost('o', net.name);
      await hosts.dhcp(other, 'other');
      assert.equal(await hosts.lookup(other, 'pinned', net.gw), pinned);
    });

    it('moves a static host to a new address without restarting dnsmasq', async () => {
      const net = await network({ 'ipv4.address': newGateway() });
      const first = net.gw.replace(/\.1$/, '.80');
      const second = net.gw.replace(/\.1$/, '.81');
      const s = await hosts.addHost('s', net.name);
      await f.driver.addHost(net.name, { instance: 'mover', device: 'eth0', hwaddr: s.hwaddr, ipv4: first }, signal);
      assert.equal((await hosts.dhcp(s, 'mover')).ip, first);
      const pid = await pidOf(net.name);
      await f.driver.addHost(net.name, { instance: 'mover', device: 'eth0', hwaddr: s.hwaddr, ipv4: second }, signal);
      assert.equal((await hosts.dhcp(s, 'mover')).ip, second);
      assert.equal(await pidOf(net.name), pid);
    });

    it('releases the lease and the name of a removed host', async () => {
      const net = await network({});
      const a = await hosts.addHost('a', net.name);
      const b = await hosts.addHost('b', net.name);
      await f.driver.addHost(net.name, { instance: 'alpha', device: 'eth0', hwaddr: a.hwaddr }, signal);
      await f.driver.addHost(net.name, { instance: 'beta', device: 'eth0', hwaddr: b.hwaddr }, signal);
      await hosts.dhcp(a, 'alpha');
      const lb = await hosts.dhcp(b, 'beta');
      const pid = await pidOf(net.name);
      await f.driver.removeHost(net.name, 'beta', signal);
      assert.equal(await pidOf(net.name), pid, 'released by DHCPRELEASE, without a restart');
      const leases = await f.driver.leases(net.name, signal);
      assert.deepEqual(
        leases.map((l) => l.hostname),
        ['alpha'],
      );
      assert.equal(await hosts.lookup(a, 'beta', net.gw), null);
      assert.notEqual(await hosts.lookup(a, 'alpha', net.gw), null, 'other hosts keep their names');
      const c = await hosts.addHost('c', net.name);
      await f.driver.addHost(net.name, { instance: 'gamma', device: 'eth0', hwaddr: c.hwaddr, ipv4: lb.ip }, signal);
      assert.equal((await hosts.dhcp(c, 'gamma')).ip, lb.ip, 'the released address can be pinned by another host');
    });

    it('uses dns.domain and serves DHCP without DNS when dns.mode=none', async () => {
      const lab = await network({ 'dns.domain': 'lab.test' });
      const quiet = await network({ 'dns.mode': 'none' });
      const a = await hosts.addHost('a', lab.name);
      const b = await hosts.addHost('b', lab.name);
      await f.driver.addHost(lab.name, { instance: 'beta', device: 'eth0', hwaddr: b.hwaddr }, signal);
      assert.equal((await hosts.dhcp(a, 'alpha')).domain, 'lab.test');
      const lb = await hosts.dhcp(b, 'beta');
      assert.equal(await hosts.lookup(a, 'beta.lab.test', lab.gw), lb.ip);
      assert.equal(await hosts.lookup(a, 'beta.shoal', lab.gw), null);

      const q = await hosts.addHost('q', quiet.name);
      const lq = await hosts.dhcp(q, 'quiet');
      assert.equal(lq.router, quiet.gw);
      assert.equal(lq.dns, '', 'no DNS server is advertised');
      assert.ok(await udpPortRefused(quiet.gw, 53), 'nothing listens for DNS on the gateway');
    });

    it('hands out addresses only from ipv4.dhcp.ranges', async () => {
      const gw = newGateway();
      const prefix = gw.split('.').slice(0, 3).join('.');
      const net = await network({
        'ipv4.address': gw,
        'ipv4.dhcp.ranges': `${prefix}.200-${prefix}.201`,
        'ipv4.dhcp.expiry': '30m',
      });
      const got = [];
      for (const id of ['a', 'b']) got.push((await hosts.dhcp(await hosts.addHost(id, net.name), id)).ip);
      assert.deepEqual(got.sort(), [`${prefix}.200`, `${prefix}.201`]);
      const lease = (await f.driver.leases(net.name, signal))[0];
      assert.ok(lease && lease.expiresAt < Date.now() + 31 * 60_000 && lease.expiresAt > Date.now() + 25 * 60_000);
    });
  });
});
