// Managed networks through the node agent's gRPC API with real LXC instances: two instances on a
// bridge get DHCP leases (one static) and reach each other by name (dnsmasq DNS), a network create
// repeated has the effect of one, and a network in use cannot be deleted.
import { strict as assert } from 'node:assert';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';
import { AgentFixture, op } from '../../support/agent-fixture.js';

const code = (c: ErrorCode, includes?: string) => (err: unknown) =>
  isShoalError(err, c) && (includes === undefined || err.message.includes(includes));

/** Polls `fn` until it returns a value or `ms` pass. */
async function eventually<T>(fn: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('src/node-agent/service.ts (integration: networks over gRPC)', function () {
  this.timeout(180_000);
  let fx: AgentFixture;
  before(async () => {
    fx = await AgentFixture.start();
  });
  after(async () => {
    await fx?.close();
  });
  afterEach(async () => {
    await fx.cleanObjects();
    assert.deepEqual(await fx.leftovers(), []);
  });

  it('gives two instances DHCP leases and lets them reach each other by name', async () => {
    const net = await fx.network();
    const gw = (await fx.client.unary('listNetworks', {})).networks.find((n) => n.spec?.name === net)!.spec!.config['ipv4.address']!;
    const prefix = gw.split('.').slice(0, 3).join('.');
    const a = fx.name('a');
    const b = fx.name('b');
    await fx.create(a, { devices: { eth0: { type: 'nic', network: net, name: 'eth0' } } });
    await fx.create(b, { devices: { eth0: { type: 'nic', network: net, name: 'eth0', 'ipv4.address': `${prefix}.77` } } });
    await Promise.all([a, b].map((name) => fx.client.unary('startInstance', { operationId: op(), project: 'default', name })));

    const leases = await eventually(async () => {
      const l = (await fx.client.unary('listNetworkLeases', { name: net })).leases.filter((x) => x.type === 'dynamic' || x.address);
      const names = new Set(l.filter((x) => x.address).map((x) => x.hostname));
      return names.has(a) && names.has(b) ? l : undefined;
    }, 30_000, 'leases of both instances');
    assert.equal(leases.find((l) => l.hostname === b)?.address, `${prefix}.77`);
    const aAddr = leases.find((l) => l.hostname === a)!.address;
    assert.ok(aAddr.startsWith(`${prefix}.`));

    const st = (await fx.client.unary('getInstanceState', { project: 'default', name: b })).state!;
    await eventually(async () => {
      const s = (await fx.client.unary('getInstanceState', { project: 'default', name: b })).state!;
      return s.network['eth0']?.addresses.some((x) => x.address === `${prefix}.77`) ? true : undefined;
    }, 30_000, 'address of b in its state');
    assert.equal(st.network['eth0']?.hwaddr, (await fx.client.unary('getInstance', { project: 'default', name: b })).instance?.status?.volatile['volatile.eth0.hwaddr']);

    // By name, both ways (names come from dnsmasq, which the instances use as resolver).
    const ping = async (from: string, to: string) =>
      eventually(async () => {
        const r = await fx.exec(from, ['ping', '-c', '1', '-W', '2', to]);
        return r.exitCode === 0 ? r.stdout : undefined;
      }, 30_000, `${from} → ${to}`);
    assert.match(await ping(a, b), new RegExp(`${prefix.replace(/\./g, '\\.')}\\.77`));
    assert.match(await ping(b, a), new RegExp(aAddr.replace(/\./g, '\\.')));

    const state = (await fx.client.unary('getNetworkState', { name: net })).state!;
    assert.deepEqual([state.state, state.addresses.some((x) => x.address === gw.split('/')[0])], ['up', true]);
  });

  it('gives the same network create twice the effect of one, and refuses to delete a network in use', async () => {
    const name = fx.networkName();
    const req = { operationId: op(), network: { name, type: 'bridge', config: { 'ipv4.address': fx.gateway(), 'ipv4.nat': 'false' } } };
    const first = await fx.client.unary('createNetwork', req);
    const again = await fx.client.unary('createNetwork', req);
    assert.deepEqual(again, first);
    const other = await fx.client.unary('createNetwork', { ...req, operationId: op() });
    assert.deepEqual(other.network?.spec, first.network?.spec);

    const inst = fx.name('user');
    await fx.create(inst, { devices: { eth0: { type: 'nic', network: name } } });
    await assert.rejects(
      fx.client.unary('deleteNetwork', { operationId: op(), name }),
      code(ErrorCode.FailedPrecondition, `Network "${name}" is in use by instances "${inst}"`),
    );
    await fx.client.unary('deleteInstance', { operationId: op(), project: 'default', name: inst });
    await fx.client.unary('deleteNetwork', { operationId: op(), name });
    assert.deepEqual((await fx.client.unary('listNetworks', {})).networks, []);
  });
});
