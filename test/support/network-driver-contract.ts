// The NetworkDriver contract as a shared mocha suite (CONVENTIONS "Drivers"): what every network
// driver must do, independent of how. Integration runs it against the real BridgeNetworkDriver;
// a future fake for unit tests of the service must pass it too. Each test deletes the networks it
// made in afterEach (even when it failed), then the harness's own check runs.
import { strict as assert } from 'node:assert';
import type { NetworkDriver } from '../../src/node-agent/drivers/network-driver.js';
import type { ConfigMap, NetworkSpec } from '../../src/node-agent/types.js';
import { ErrorCode, ShoalError } from '../../src/shared/index.js';

/** What the contract suite needs from the driver under test. */
export interface NetworkDriverHarness {
  readonly driver: NetworkDriver;
  /** A network name not used before in this run (≤ 15 characters). */
  newName(): string;
  /** A gateway address in CIDR form on a subnet nobody uses, e.g. `10.172.41.1/24`. */
  newGateway(): string;
  /** Asserts that nothing of network `name` is left on the host. */
  assertGone(name: string): Promise<void>;
  /** Final cleanup after each test, once the suite has deleted its networks. */
  cleanup(): Promise<void>;
}

const signal = new AbortController().signal;

function spec(name: string, config: ConfigMap): NetworkSpec {
  return { name, type: 'bridge', config };
}

function hostOf(gateway: string, last: number): string {
  return gateway.split('/')[0]!.split('.').slice(0, 3).concat(String(last)).join('.');
}

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(
    async () => (typeof p === 'function' ? p() : p),
    (err: unknown) => {
      assert.ok(err instanceof ShoalError, `expected a ShoalError, got ${String(err)}`);
      assert.equal(err.code, code, err.message);
      if (message) assert.match(err.message, message);
      return true;
    },
  );
}

/** Registers the contract suite for the driver made by `makeHarness` (called once per test). */
export function describeNetworkDriverContract(title: string, makeHarness: () => Promise<NetworkDriverHarness>): void {
  describe(`NetworkDriver contract: ${title}`, function () {
    let h: NetworkDriverHarness;
    let created: string[] = [];
    const create = async (config: ConfigMap, name = h.newName()): Promise<{ name: string; effective: ConfigMap }> => {
      created.push(name);
      return { name, effective: await h.driver.create(spec(name, config), signal) };
    };

    beforeEach(async () => {
      h = await makeHarness();
      created = [];
    });
    afterEach(async () => {
      const errors: unknown[] = [];
      for (const name of created) await h.driver.delete(name, signal).catch((e: unknown) => errors.push(e));
      await h.cleanup();
      if (errors.length > 0) throw errors[0];
    });

    it('creates a network that is up with its gateway address', async () => {
      const gw = h.newGateway();
      const { name, effective } = await create({ 'ipv4.address': gw, 'ipv4.nat': 'true' });
      assert.deepEqual(effective, { 'ipv4.address': gw, 'ipv4.nat': 'true', 'ipv6.address': 'none' });
      const st = await h.driver.state(name, signal);
      assert.equal(st.state, 'up');
      assert.equal(st.mtu, 1500);
      assert.deepEqual(
        st.addresses.filter((a) => a.family === 'inet'),
        [{ family: 'inet', address: gw.split('/')[0], netmask: gw.split('/')[1], scope: 'global' }],
      );
    });

    it('resolves ipv4.address=auto to a free /24 and fills in LXD defaults', async () => {
      const { name, effective } = await create({});
      assert.match(effective['ipv4.address'] ?? '', /^\d+\.\d+\.\d+\.1\/24$/);
      assert.equal(effective['ipv4.nat'], 'true');
      assert.equal(effective['ipv6.address'], 'none');
      const again = await create({}, h.newName());
      assert.notEqual(again.effective['ipv4.address'], effective['ipv4.address']);
      const st = await h.driver.state(name, signal);
      assert.ok(st.addresses.some((a) => `${a.address}/${a.netmask}` === effective['ipv4.address']));
    });

    it('is idempotent: creating the same spec twice returns the same config', async () => {
      const first = await create({});
      const second = await h.driver.create(spec(first.name, {}), signal);
      assert.deepEqual(second, first.effective);
    });

    it('refuses to create an existing network with another config', async () => {
      const { name } = await create({ 'ipv4.address': h.newGateway() });
      await rejectsWith(
        h.driver.create(spec(name, { 'ipv4.address': h.newGateway() }), signal),
        ErrorCode.AlreadyExists,
        /already exists/,
      );
    });

    it('refuses unknown keys, bad values and bad names, naming the culprit', async () => {
      const name = h.newName();
      await rejectsWith(
        () => h.driver.validate(spec(name, { 'bridge.mode': 'fan' })),
        ErrorCode.InvalidArgument,
        /"bridge\.mode"/,
      );
      await rejectsWith(
        () => h.driver.validate(spec(name, { 'ipv4.address': 'nope' })),
        ErrorCode.InvalidArgument,
        /"ipv4\.address"/,
      );
      await rejectsWith(() => h.driver.validate(spec('0bad', {})), ErrorCode.InvalidArgument, /"0bad"/);
      await rejectsWith(() => h.driver.validate(spec('x'.repeat(16), {})), ErrorCode.InvalidArgument, /name/);
      await rejectsWith(
        h.driver.create(spec(name, { 'ipv4.nat': 'sometimes' }), signal),
        ErrorCode.InvalidArgument,
        /"ipv4\.nat"/,
      );
      await h.assertGone(name);
      h.driver.validate(spec(name, { 'user.anything': 'goes', 'ipv6.address': 'none' }));
    });

    it('deletes idempotently and leaves nothing behind', async () => {
      const { name } = await create({ 'ipv4.address': h.newGateway() });
      await h.driver.delete(name, signal);
      await h.driver.delete(name, signal);
      await h.driver.delete(h.newName(), signal);
      await h.assertGone(name);
      await rejectsWith(h.driver.state(name, signal), ErrorCode.NotFound, /not found/);
      await rejectsWith(h.driver.leases(name, signal), ErrorCode.NotFound, /not found/);
      await rejectsWith(h.driver.stop(name, signal), ErrorCode.NotFound, /not found/);
    });

    it('stops (down, config kept) and starts again with the same config', async () => {
      const gw = h.newGateway();
      const { name, effective } = await create({ 'ipv4.address': gw });
      await h.driver.stop(name, signal);
      assert.equal((await h.driver.state(name, signal)).state, 'down');
      await h.driver.stop(name, signal);
      await h.driver.start(spec(name, effective), signal);
      await h.driver.start(spec(name, effective), signal);
      const st = await h.driver.state(name, signal);
      assert.equal(st.state, 'up');
      assert.ok(st.addresses.some((a) => `${a.address}/${a.netmask}` === gw));
    });

    it('updates the gateway address and MTU in place', async () => {
      const { name } = await create({ 'ipv4.address': h.newGateway() });
      const gw2 = h.newGateway();
      await h.driver.update(spec(name, { 'ipv4.address': gw2, 'bridge.mtu': '1400' }), signal);
      const st = await h.driver.state(name, signal);
      assert.equal(st.mtu, 1400);
      assert.deepEqual(
        st.addresses.filter((a) => a.family === 'inet').map((a) => `${a.address}/${a.netmask}`),
        [gw2],
      );
      await rejectsWith(h.driver.update(spec(h.newName(), {}), signal), ErrorCode.NotFound);
    });

    it('pins static addresses and refuses conflicts', async () => {
      const gw = h.newGateway();
      const { name } = await create({ 'ipv4.address': gw });
      const a = { instance: 'c1', device: 'eth0', hwaddr: '00:16:3e:00:00:a1', ipv4: hostOf(gw, 50) };
      await h.driver.addHost(name, a, signal);
      await h.driver.addHost(name, a, signal);
      await h.driver.addHost(name, { instance: 'c2', device: 'eth0', hwaddr: '00:16:3e:00:00:a2' }, signal);
      assert.deepEqual(await h.driver.leases(name, signal), [
        { hostname: 'c1', hwaddr: a.hwaddr, address: a.ipv4, type: 'static', expiresAt: 0 },
      ]);
      const other = { instance: 'c3', device: 'eth0', hwaddr: '00:16:3e:00:00:a3' };
      await rejectsWith(
        h.driver.addHost(name, { ...other, ipv4: a.ipv4 }, signal),
        ErrorCode.AlreadyExists,
        /already used/,
      );
      await rejectsWith(
        h.driver.addHost(name, { ...other, hwaddr: a.hwaddr }, signal),
        ErrorCode.AlreadyExists,
        /already used/,
      );
      await rejectsWith(
        h.driver.addHost(name, { ...other, ipv4: '192.0.2.10' }, signal),
        ErrorCode.InvalidArgument,
        /outside/,
      );
      await rejectsWith(
        h.driver.addHost(name, { ...other, ipv4: hostOf(gw, 1) }, signal),
        ErrorCode.InvalidArgument,
        /gateway/,
      );
      await rejectsWith(h.driver.addHost(name, { ...other, hwaddr: 'nope' }, signal), ErrorCode.InvalidArgument, /MAC/);
      await rejectsWith(h.driver.addHost(h.newName(), other, signal), ErrorCode.NotFound);
      await h.driver.removeHost(name, 'c1', signal);
      await h.driver.removeHost(name, 'c1', signal);
      await h.driver.removeHost(h.newName(), 'c1', signal);
      assert.deepEqual(await h.driver.leases(name, signal), []);
      await h.driver.addHost(name, { ...other, ipv4: a.ipv4 }, signal);
      assert.equal((await h.driver.leases(name, signal))[0]?.hostname, 'c3');
    });
  });
}
