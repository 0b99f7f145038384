// NAT through the bridge driver's nftables table: a namespace on the bridge talks to an "outside"
// namespace the test makes on a plain veth (never the real internet). The outside host has no
// route back to the bridge subnet, so only masqueraded traffic gets answers, and a TCP server
// there reports the source address it sees. Everything is tag-named and removed in afterEach.
import { strict as assert } from 'node:assert';
import { run } from '../../../src/node-agent/exec.js';
import { nftTableName } from '../../../src/node-agent/drivers/network/nftables.js';
import type { ConfigMap } from '../../../src/node-agent/types.js';
import { NetnsHosts, type TestHost } from '../../support/network-hosts.js';
import {
  RUN_TAG,
  bridgeFixture,
  newGateway,
  newNetworkName,
  type BridgeFixture,
} from '../../support/network-harness.js';

const signal = new AbortController().signal;
const PORT = 9000;

describe('src/node-agent/drivers/network/bridge-driver', () => {
  describe('NAT', () => {
    let f: BridgeFixture;
    let hosts: NetnsHosts;
    let networks: string[];
    let outside: { host: TestHost; hostSide: string; address: string };

    const network = async (config: ConfigMap): Promise<string> => {
      const name = newNetworkName();
      networks.push(name);
      await f.driver.create({ name, type: 'bridge', config }, signal);
      return name;
    };

    beforeEach(async () => {
      f = await bridgeFixture();
      hosts = new NetnsHosts(RUN_TAG);
      networks = [];
      // The outside world: <tag>x on a veth whose host side has <prefix>.1/24; no default route.
      const prefix = newGateway().split('.').slice(0, 3).join('.');
      const host = await hosts.addHost('x', null);
      await run('ip', ['addr', 'add', `${prefix}.1/24`, 'dev', host.hostVeth]);
      await hosts.exec(host, 'ip', ['addr', 'add', `${prefix}.2/24`, 'dev', 'eth0']);
      await hosts.serveRemoteAddress(host, `${prefix}.2`, PORT);
      outside = { host, hostSide: `${prefix}.1`, address: `${prefix}.2` };
    });
    afterEach(async () => {
      const problems = await hosts.cleanup();
      for (const n of networks) await f.driver.delete(n, signal);
      await f.cleanup();
      assert.deepEqual(problems, []);
    });

    it('masquerades traffic leaving the bridge subnet', async () => {
      const name = await network({});
      const table = (await run('nft', ['list', 'table', 'inet', nftTableName(name)])).stdout;
      assert.match(table, /masquerade/);
      const a = await hosts.addHost('a', name);
      await hosts.dhcp(a, 'a');
      assert.ok(await hosts.ping(a, outside.address), 'the outside host answers');
      assert.equal(await hosts.fetch(a, outside.address, PORT), outside.hostSide, 'the outside sees the host address');
    });

    it('does not masquerade with ipv4.nat=false', async () => {
      const name = await network({ 'ipv4.address': newGateway(), 'ipv4.nat': 'false' });
      const table = (await run('nft', ['list', 'table', 'inet', nftTableName(name)])).stdout;
      assert.doesNotMatch(table, /masquerade/);
      const a = await hosts.addHost('a', name);
      await hosts.dhcp(a, 'a');
      assert.equal(await hosts.ping(a, outside.address), false, 'replies have no route back');
    });

    it('turns NAT on and off with update, and removes the table with the network', async () => {
      const gw = newGateway();
      const name = await network({ 'ipv4.address': gw, 'ipv4.nat': 'false' });
      const a = await hosts.addHost('a', name);
      await hosts.dhcp(a, 'a');
      await f.driver.update({ name, type: 'bridge', config: { 'ipv4.address': gw, 'ipv4.nat': 'true' } }, signal);
      assert.equal(await hosts.fetch(a, outside.address, PORT), outside.hostSide);
      await f.driver.update({ name, type: 'bridge', config: { 'ipv4.address': gw, 'ipv4.firewall': 'false' } }, signal);
      const tables = (await run('nft', ['list', 'tables'])).stdout;
      assert.ok(!tables.includes(nftTableName(name)), 'no rules needed, no table');
      await f.driver.delete(name, signal);
      assert.ok(!(await run('nft', ['list', 'tables'])).stdout.includes(nftTableName(name)));
    });
  });
});
