// /1.0/networks over a real one-node database listing three members, with fake node agents: the
// ?target= pending step, the final create (the first member resolves `auto`, the others get its
// subnet), a member failure reverting the others (Errored), unmanaged host interfaces, state,
// leases of every member, PATCH, delete, and refusals that write nothing.
import { strict as assert } from 'node:assert';
import { netstoreApp, type NetstoreApp } from '../../../support/api/netstore-app.js';
import { errors } from '../../../../src/shared/index.js';
import { profiles } from '../../../../src/state/index.js';

describe('src/api/routes/networks', () => {
  let t: NetstoreApp;
  beforeEach(async () => {
    t = await netstoreApp();
  });
  afterEach(async () => {
    await t.close();
  });
  const post = (payload: unknown, target?: string) => t.inject({ method: 'POST', url: `/1.0/networks${target ? `?target=${target}` : ''}`, payload: payload as object });
  const get = (url: string) => t.inject({ method: 'GET', url });
  const pendingEverywhere = async (name: string): Promise<void> => {
    for (const m of ['m1', 'm2', 'm3']) assert.equal((await post({ name }, m)).statusCode, 201);
  };

  it('creates on every member with the subnet the first member chose', async () => {
    await pendingEverywhere('anbr0');
    assert.equal((await get('/1.0/networks/anbr0')).json().metadata.status, 'Pending');
    const res = await post({ name: 'anbr0', config: { 'ipv4.address': 'auto', 'ipv4.nat': 'true' } });
    assert.equal(res.statusCode, 201, res.body);
    for (const m of ['m1', 'm2', 'm3']) assert.equal(t.agents.agent(m).networks.get('anbr0')?.config['ipv4.address'], '10.64.7.1/24', m);
    assert.deepEqual((await get('/1.0/networks/anbr0')).json().metadata, {
      name: 'anbr0',
      type: 'bridge',
      description: '',
      config: { 'ipv4.address': '10.64.7.1/24', 'ipv4.nat': 'true' },
      managed: true,
      status: 'Created',
      used_by: [],
      locations: ['m1', 'm2', 'm3'],
    });
  });

  it('reverts and marks the network Errored when a member fails', async () => {
    await pendingEverywhere('anbr1');
    t.agents.agent('m2').failOn('createNetwork', errors.exists('Network "anbr1" already exists'));
    const res = await post({ name: 'anbr1', config: { 'ipv4.address': '10.64.9.1/24' } });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().error, 'Failed creating network "anbr1" on member "m2": Network "anbr1" already exists');
    for (const m of ['m1', 'm2', 'm3']) assert.equal(t.agents.agent(m).networks.has('anbr1'), false, m);
    assert.equal((await get('/1.0/networks/anbr1')).json().metadata.status, 'Errored');
    assert.equal((await t.inject({ method: 'DELETE', url: '/1.0/networks/anbr1' })).statusCode, 200);
    assert.equal((await get('/1.0/networks/anbr1')).statusCode, 404);
  });

  it('lists host interfaces as unmanaged, with their state', async () => {
    const list = (await get('/1.0/networks?recursion=1')).json().metadata as Array<{ name: string; managed: boolean; type: string }>;
    const lo = list.find((n) => n.name === 'lo');
    assert.deepEqual(lo, { name: 'lo', type: 'loopback', description: '', config: {}, managed: false, status: '', used_by: [], locations: [] });
    assert.ok((await get('/1.0/networks')).json().metadata.includes('/1.0/networks/lo'));
    const st = (await get('/1.0/networks/lo/state')).json().metadata;
    assert.equal(st.state, 'up');
    assert.ok(st.addresses.some((a: { address: string }) => a.address === '127.0.0.1'));
    assert.equal((await get('/1.0/networks/nonesuch0')).statusCode, 404);
  });

  it('shows state of a member and leases of every member', async () => {
    await pendingEverywhere('anbr2');
    await post({ name: 'anbr2', config: { 'ipv4.address': '10.64.8.1/24' } });
    t.agents.agent('m1').leases.set('anbr2', [{ hostname: 'c1', hwaddr: '00:16:3e:00:00:11', address: '10.64.8.11', type: 'dynamic' }]);
    t.agents.agent('m3').leases.set('anbr2', [{ hostname: 'c3', hwaddr: '00:16:3e:00:00:13', address: '10.64.8.13', type: 'static' }]);
    assert.deepEqual((await get('/1.0/networks/anbr2/leases')).json().metadata, [
      { hostname: 'c1', hwaddr: '00:16:3e:00:00:11', address: '10.64.8.11', type: 'dynamic', location: 'm1' },
      { hostname: 'c3', hwaddr: '00:16:3e:00:00:13', address: '10.64.8.13', type: 'static', location: 'm3' },
    ]);
    assert.equal((await get('/1.0/networks/anbr2/leases?target=m3')).json().metadata.length, 1);
    const st = (await get('/1.0/networks/anbr2/state?target=m2')).json().metadata;
    assert.deepEqual(st.counters, { bytes_received: 10, bytes_sent: 20, packets_received: 1, packets_sent: 2 });
    assert.equal(t.agents.agent('m2').calls.at(-1), 'getNetworkState');
  });

  it('patches config on every member and refuses deleting a network in use', async () => {
    await pendingEverywhere('anbr3');
    await post({ name: 'anbr3', config: { 'ipv4.address': '10.64.10.1/24' } });
    const ok = await t.inject({ method: 'PATCH', url: '/1.0/networks/anbr3', payload: { config: { 'ipv4.dhcp.expiry': '2h' } } });
    assert.equal(ok.statusCode, 200, ok.body);
    for (const m of ['m1', 'm2', 'm3']) assert.equal(t.agents.agent(m).networks.get('anbr3')?.config['ipv4.dhcp.expiry'], '2h');
    t.agents.agent('m3').failOn('updateNetwork', errors.invalid('bad'));
    const bad = await t.inject({ method: 'PATCH', url: '/1.0/networks/anbr3', payload: { config: { 'ipv4.nat': 'true' } } });
    assert.equal(bad.statusCode, 400);
    assert.equal(t.agents.agent('m1').networks.get('anbr3')?.config['ipv4.nat'], undefined);
    await t.db.store.update((tx) => {
      const p = tx.require(profiles, 'default', 'default').record;
      tx.put(profiles, { ...p, devices: { ...p.devices, eth0: { type: 'nic', name: 'eth0', network: 'anbr3' } } });
    });
    assert.deepEqual((await get('/1.0/networks/anbr3')).json().metadata.used_by, ['/1.0/profiles/default']);
    const inUse = await t.inject({ method: 'DELETE', url: '/1.0/networks/anbr3' });
    assert.equal(inUse.statusCode, 400);
    assert.equal(t.agents.agent('m1').networks.has('anbr3'), true);
  });

  it('refuses bad requests with LXD statuses and writes nothing', async () => {
    await post({ name: 'half' }, 'm1');
    const before = await t.revision();
    const cases: Array<[unknown, string | undefined, number, RegExp]> = [
      [{ name: 'way-too-long-name0' }, 'm1', 400, /Invalid network name/],
      [{ name: 'n1', type: 'macvlan' }, undefined, 400, /type "macvlan" is not supported/],
      [{ name: 'n1', config: { 'ipv4.nat': 'true' } }, 'm1', 400, /may not be used as member-specific key/],
      [{ name: 'n1', config: { 'ipv4.address': 'banana' } }, undefined, 400, /ipv4.address/],
      [{ name: 'n1', config: { 'ipv6.address': 'auto' } }, undefined, 400, /IPv6 is not implemented/],
      [{ name: 'n1', config: { 'tunnel.x.protocol': 'vxlan' } }, undefined, 400, /Unknown configuration key/],
      [{ name: 'n1' }, 'nope', 404, /Cluster member "nope" not found/],
      [{ name: 'n1' }, undefined, 400, /not pending on any member/],
      [{ name: 'half' }, undefined, 400, /not defined on members "m2", "m3"/],
      [{ name: 'lo' }, undefined, 409, /unmanaged interface/],
      [{ name: 'half' }, 'm1', 409, /already defined on member "m1"/],
    ];
    for (const [payload, target, status, re] of cases) {
      const res = await post(payload, target);
      assert.equal(res.statusCode, status, `${JSON.stringify(payload)}: ${res.body}`);
      assert.match(res.json().error, re);
    }
    assert.equal((await t.inject({ method: 'POST', url: '/1.0/networks/half', payload: { name: 'x' } })).statusCode, 400);
    assert.equal(await t.revision(), before);
  });
});
