// Lifecycle of the bridge driver on the real host: agent restarts (a second driver over the same
// state dir adopts or restarts dnsmasq), dnsmasq dying under a running agent, a host reboot
// (bridge, table and process gone, files kept), creates that fail halfway leaving nothing, crash
// leftovers, subnet conflicts, failed updates that revert, and create/delete timings.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { run } from '../../../src/node-agent/exec.js';
import {
  formatInterface,
  parseSubnet,
  pickFreeSubnet,
  subnetsOverlap,
  parseInterface,
} from '../../../src/node-agent/drivers/network/addresses.js';
import { SHOAL_BRIDGE_ALIAS } from '../../../src/node-agent/drivers/network/bridge.js';
import { nftTableName } from '../../../src/node-agent/drivers/network/nftables.js';
import type { ConfigMap, NetworkSpec } from '../../../src/node-agent/types.js';
import { ErrorCode, ShoalError, seededRng } from '../../../src/shared/index.js';
import { NetnsHosts } from '../../support/network-hosts.js';
import {
  AUTO_SUBNET_POOL,
  RUN_TAG,
  assertNetworkGone,
  bridgeFixture,
  newGateway,
  newNetworkName,
  type BridgeFixture,
} from '../../support/network-harness.js';

const signal = new AbortController().signal;

async function isAlive(pid: number): Promise<boolean> {
  try {
    const s = await readFile(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(s);
  } catch {
    return false;
  }
}

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await delay(20);
  }
}

describe('src/node-agent/drivers/network/bridge-driver', () => {
  describe('lifecycle', () => {
    let f: BridgeFixture;
    let hosts: NetnsHosts;
    let networks: string[];

    const create = async (
      config: ConfigMap,
      seedName = newNetworkName(),
    ): Promise<NetworkSpec & { effective: ConfigMap }> => {
      networks.push(seedName);
      const effective = await f.driver.create({ name: seedName, type: 'bridge', config }, signal);
      return { name: seedName, type: 'bridge', config: effective, effective };
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
      for (const n of networks) await f.live().delete(n, signal);
      await f.cleanup();
      assert.deepEqual(problems, []);
    });

    it('adopts the running dnsmasq after an agent restart, and its delete stops it', async () => {
      const net = await create({});
      const pid = await pidOf(net.name);
      f.driver.close();
      const restarted = f.newDriver();
      await restarted.start(net, signal);
      assert.equal(await pidOf(net.name), pid, 'same process');
      const a = await hosts.addHost('a', net.name);
      await restarted.addHost(net.name, { instance: 'alpha', device: 'eth0', hwaddr: a.hwaddr }, signal);
      await hosts.dhcp(a, 'alpha');
      assert.equal((await restarted.leases(net.name, signal))[0]?.hostname, 'alpha');
      await restarted.delete(net.name, signal);
      await waitFor('dnsmasq to exit', async () => !(await isAlive(pid)));
      await assertNetworkGone(f.paths, net.name);
    });

    it('starts a new dnsmasq after an agent restart when the old one is gone', async () => {
      const net = await create({});
      const pid = await pidOf(net.name);
      f.driver.close();
      process.kill(pid, 'SIGKILL');
      await waitFor('dnsmasq to die', async () => !(await isAlive(pid)));
      const restarted = f.newDriver();
      await restarted.start(net, signal);
      const pid2 = await pidOf(net.name);
      assert.notEqual(pid2, pid);
      assert.ok(await isAlive(pid2));
      const a = await hosts.addHost('a', net.name);
      assert.ok((await hosts.dhcp(a, 'a')).ip);
    });

    it('restarts a dnsmasq that dies while the agent runs', async () => {
      const net = await create({});
      const pid = await pidOf(net.name);
      process.kill(pid, 'SIGKILL');
      await waitFor('a new dnsmasq', async () => {
        const p = await pidOf(net.name).catch(() => 0);
        return p !== 0 && p !== pid && (await isAlive(p));
      });
      const a = await hosts.addHost('a', net.name);
      assert.ok((await hosts.dhcp(a, 'a')).ip);
    });

    it('restarts the network after a host reboot, keeping its leases', async () => {
      const net = await create({});
      const a = await hosts.addHost('a', net.name);
      await f.driver.addHost(net.name, { instance: 'alpha', device: 'eth0', hwaddr: a.hwaddr }, signal);
      const lease = await hosts.dhcp(a, 'alpha');
      // The reboot: processes, links and nftables are gone; files remain.
      f.driver.close();
      process.kill(await pidOf(net.name), 'SIGKILL');
      await run('ip', ['link', 'del', net.name]);
      await run('nft', ['delete', 'table', 'inet', nftTableName(net.name)]);
      const restarted = f.newDriver();
      await restarted.start(net, signal);
      const st = await restarted.state(net.name, signal);
      assert.equal(st.state, 'up');
      assert.ok(st.addresses.some((x) => `${x.address}/${x.netmask}` === net.effective['ipv4.address']));
      assert.match((await run('nft', ['list', 'table', 'inet', nftTableName(net.name)])).stdout, /masquerade/);
      assert.deepEqual(
        (await restarted.leases(net.name, signal)).map((l) => [l.hostname, l.address]),
        [['alpha', lease.ip]],
      );
      await run('ip', ['link', 'set', a.hostVeth, 'master', net.name]);
      assert.equal((await hosts.dhcp(a, 'alpha')).ip, lease.ip, 'the host gets its lease back');
    });

    it('leaves nothing behind when dnsmasq refuses raw.dnsmasq during create', async () => {
      const name = newNetworkName();
      networks.push(name);
      await assert.rejects(
        f.driver.create({ name, type: 'bridge', config: { 'raw.dnsmasq': 'no-such-option=1' } }, signal),
        (err: unknown) =>
          err instanceof ShoalError && err.code === ErrorCode.InvalidArgument && /dnsmasq/.test(err.message),
      );
      await assertNetworkGone(f.paths, name);
    });

    it('leaves nothing behind when create is cancelled', async () => {
      const name = newNetworkName();
      networks.push(name);
      const ac = new AbortController();
      const p = f.driver.create({ name, type: 'bridge', config: {} }, ac.signal);
      setTimeout(() => ac.abort(), 30);
      await assert.rejects(p, (err: unknown) => err instanceof ShoalError && err.code === ErrorCode.Cancelled);
      await assertNetworkGone(f.paths, name);
    });

    it('refuses a name taken by another interface and leaves that interface alone', async () => {
      const name = newNetworkName();
      await run('ip', ['link', 'add', name, 'type', 'bridge']);
      try {
        await assert.rejects(
          f.driver.create({ name, type: 'bridge', config: {} }, signal),
          (err: unknown) => err instanceof ShoalError && err.code === ErrorCode.AlreadyExists,
        );
        await f.driver.delete(name, signal);
        await run('ip', ['link', 'show', name]);
      } finally {
        await run('ip', ['link', 'del', name]);
      }
    });

    it('removes the leftovers of a create that crashed', async () => {
      const name = newNetworkName();
      await run('ip', ['link', 'add', name, 'type', 'bridge']);
      await run('ip', ['link', 'set', name, 'alias', SHOAL_BRIDGE_ALIAS]);
      const net = await create({}, name);
      assert.equal((await f.driver.state(net.name, signal)).state, 'up');
    });

    it('picks automatic subnets around subnets in use on the host', async () => {
      const seed = 4242;
      const seeded = await bridgeFixture(seed);
      try {
        const pool = parseSubnet(AUTO_SUBNET_POOL)!;
        const first = pickFreeSubnet(pool, [], seededRng(seed));
        assert.ok(first.ok);
        const blocker = `${RUN_TAG}d0`;
        await run('ip', ['link', 'add', blocker, 'type', 'bridge']);
        await run('ip', ['addr', 'add', formatInterface(first.gateway), 'dev', blocker]);
        const name = newNetworkName();
        networks.push(name);
        const effective = await seeded.driver.create({ name, type: 'bridge', config: {} }, signal);
        const got = parseInterface(effective['ipv4.address'] ?? '');
        assert.ok(got);
        assert.ok(!subnetsOverlap(got.subnet, first.gateway.subnet), 'the first pick was taken, another one is used');
        await seeded.driver.delete(name, signal);
        await run('ip', ['link', 'del', blocker]);
      } finally {
        await seeded.cleanup();
      }
    });

    it('gives concurrent automatic creates distinct subnets', async () => {
      // An Rng stuck at 0 makes every create want the same first subnet: only reservations keep them apart.
      const stuck = await bridgeFixture(0, () => 0);
      const names = [0, 1, 2, 3].map(() => newNetworkName());
      try {
        const effective = await Promise.all(
          names.map((name) => stuck.driver.create({ name, type: 'bridge', config: {} }, signal)),
        );
        const subnets = effective.map((e) => parseInterface(e['ipv4.address'] ?? '')!.subnet);
        for (let i = 0; i < subnets.length; i++) {
          for (let j = i + 1; j < subnets.length; j++)
            assert.ok(!subnetsOverlap(subnets[i]!, subnets[j]!), `${i} and ${j} overlap`);
        }
      } finally {
        for (const name of names) await stuck.driver.delete(name, signal);
        await stuck.cleanup();
      }
    });

    it('refuses a static subnet that overlaps one in use on the host', async () => {
      const gw = newGateway();
      const blocker = `${RUN_TAG}d1`;
      await run('ip', ['link', 'add', blocker, 'type', 'bridge']);
      try {
        await run('ip', ['addr', 'add', gw.replace(/\.1\/24$/, '.9/28'), 'dev', blocker]);
        const name = newNetworkName();
        await assert.rejects(
          f.driver.create({ name, type: 'bridge', config: { 'ipv4.address': gw } }, signal),
          (err: unknown) =>
            err instanceof ShoalError && err.code === ErrorCode.AlreadyExists && /overlaps/.test(err.message),
        );
        await assertNetworkGone(f.paths, name);
      } finally {
        await run('ip', ['link', 'del', blocker]);
      }
    });

    it('reverts a failed update to the previous configuration', async () => {
      const gw = newGateway();
      const net = await create({ 'ipv4.address': gw });
      const conf = await readFile(join(f.paths.networks, net.name, 'dnsmasq.conf'), 'utf8');
      await assert.rejects(
        f.driver.update(
          { name: net.name, type: 'bridge', config: { 'ipv4.address': gw, 'raw.dnsmasq': 'bogus-option' } },
          signal,
        ),
        (err: unknown) => err instanceof ShoalError && err.code === ErrorCode.InvalidArgument,
      );
      assert.equal(await readFile(join(f.paths.networks, net.name, 'dnsmasq.conf'), 'utf8'), conf);
      assert.ok(await isAlive(await pidOf(net.name)), 'dnsmasq runs the previous config');
      const a = await hosts.addHost('a', net.name);
      assert.ok((await hosts.dhcp(a, 'a')).ip);
      await f.driver.update(net, signal);
    });

    it('deletes a network whose bridge still has ports, leaving the ports to their owners', async () => {
      const net = await create({});
      const a = await hosts.addHost('a', net.name);
      await f.driver.delete(net.name, signal);
      await assertNetworkGone(f.paths, net.name);
      const link = JSON.parse((await run('ip', ['-j', 'link', 'show', a.hostVeth])).stdout) as { master?: string }[];
      assert.equal(link[0]?.master, undefined, 'the veth is detached, not deleted');
    });

    it('creates and deletes quickly (timings)', async () => {
      const createMs: number[] = [];
      const deleteMs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const name = newNetworkName();
        networks.push(name);
        let t = performance.now();
        await f.driver.create({ name, type: 'bridge', config: {} }, signal);
        createMs.push(performance.now() - t);
        t = performance.now();
        await f.driver.delete(name, signal);
        deleteMs.push(performance.now() - t);
      }
      const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
      console.log(
        `      network create median ${median(createMs).toFixed(0)} ms, delete median ${median(deleteMs).toFixed(0)} ms`,
      );
      assert.ok(median(createMs) < 5000 && median(deleteMs) < 5000);
    });
  });
});
