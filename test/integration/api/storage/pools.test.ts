// /1.0/storage-pools over a real one-node database listing three members, with fake node agents:
// the ?target= pending step per member, the final create on every member, a member failure that
// reverts the others and leaves the pool Errored, GET ?target=, PUT/PATCH, resources, delete from
// every member, used_by, and every refusal (400/404/409) leaving the database unchanged.
import { strict as assert } from 'node:assert';
import { netstoreApp, type NetstoreApp } from '../../../support/api/netstore-app.js';
import { errors } from '../../../../src/shared/index.js';
import { profiles } from '../../../../src/state/index.js';

describe('src/api/routes/storage/pools', () => {
  let t: NetstoreApp;
  beforeEach(async () => {
    t = await netstoreApp();
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (payload: unknown, target?: string) => t.inject({ method: 'POST', url: `/1.0/storage-pools${target ? `?target=${target}` : ''}`, payload: payload as object });
  const get = (url: string) => t.inject({ method: 'GET', url });
  const pending = async (name: string, driver = 'dir'): Promise<void> => {
    for (const m of ['m1', 'm2', 'm3']) {
      const res = await post({ name, driver, config: { source: `/srv/${m}` } }, m);
      assert.equal(res.statusCode, 201, res.body);
    }
  };

  it('records a pending part per member, then creates the pool on every member', async () => {
    const first = await post({ name: 'data', driver: 'dir', config: { source: '/srv/m1' } }, 'm1');
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.headers['location'], '/1.0/storage-pools/data');
    assert.deepEqual(
      (await get('/1.0/storage-pools/data')).json().metadata,
      { name: 'data', driver: 'dir', description: '', config: {}, status: 'Pending', used_by: [], locations: [] },
    );
    await post({ name: 'data', driver: 'dir', config: { source: '/srv/m2' } }, 'm2');
    await post({ name: 'data', driver: 'dir', config: { source: '/srv/m3' } }, 'm3');
    const res = await post({ name: 'data', driver: 'dir', description: 'bulk', config: { 'user.tier': 'gold' } });
    assert.equal(res.statusCode, 201, res.body);
    for (const m of ['m1', 'm2', 'm3']) assert.deepEqual(t.agents.agent(m).pools.get('data'), { driver: 'dir', config: { 'user.tier': 'gold', source: `/srv/${m}` }, description: 'bulk' });
    const pool = (await get('/1.0/storage-pools/data')).json().metadata;
    assert.deepEqual(pool, { name: 'data', driver: 'dir', description: 'bulk', config: { 'user.tier': 'gold' }, status: 'Created', used_by: [], locations: ['m1', 'm2', 'm3'] });
    const onM2 = await get('/1.0/storage-pools/data?target=m2');
    assert.deepEqual(onM2.json().metadata.config, { 'user.tier': 'gold', source: '/srv/m2' });
    assert.equal(onM2.json().metadata.status, 'Created');
    assert.deepEqual((await get('/1.0/storage-pools')).json().metadata, ['/1.0/storage-pools/data']);
    const listed = (await get('/1.0/storage-pools?recursion=1&target=m3')).json().metadata;
    assert.deepEqual(listed.map((p: { config: Record<string, string> }) => p.config), [{ 'user.tier': 'gold', source: '/srv/m3' }]);
  });

  it('creates at once on a cluster of one member without a ?target= step', async () => {
    await t.close();
    t = await netstoreApp(['m1']);
    const res = await post({ name: 'solo', driver: 'btrfs', config: { size: '2GiB' } });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(t.agents.agent('m1').pools.get('solo')?.config, { size: '2GiB', source: '/fake/m1/solo' });
    const onM1 = (await get('/1.0/storage-pools/solo?target=m1')).json().metadata;
    assert.deepEqual(onM1.config, { size: '2GiB', source: '/fake/m1/solo' });
  });

  it('reverts the members that succeeded when one member fails, and marks the pool Errored', async () => {
    await pending('data');
    t.agents.agent('m3').failOn('createStoragePool', errors.invalid('Invalid value for "source": "/srv/m3" is not an existing directory'));
    const res = await post({ name: 'data', driver: 'dir' });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().error, 'Failed creating storage pool "data" on member "m3": Invalid value for "source": "/srv/m3" is not an existing directory');
    for (const m of ['m1', 'm2', 'm3']) assert.equal(t.agents.agent(m).pools.has('data'), false, m);
    const pool = (await get('/1.0/storage-pools/data')).json().metadata;
    assert.equal(pool.status, 'Errored');
    assert.deepEqual(pool.locations, []);
    assert.equal((await get('/1.0/storage-pools/data?target=m3')).json().metadata.status, 'Errored');
    const again = await post({ name: 'data', driver: 'dir' });
    assert.equal(again.statusCode, 400);
    assert.match(again.json().error, /Errored state: delete it/);
    const del = await t.inject({ method: 'DELETE', url: '/1.0/storage-pools/data' });
    assert.equal(del.statusCode, 200, del.body);
    assert.equal((await get('/1.0/storage-pools/data')).statusCode, 404);
  });

  it('says what remains when the revert fails too', async () => {
    await pending('data');
    t.agents.agent('m3').failOn('createStoragePool', errors.invalid('no such directory'));
    t.agents.agent('m1').failOn('deleteStoragePool', errors.unavailable('agent gone'));
    const res = await post({ name: 'data', driver: 'dir' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'Failed creating storage pool "data" on member "m3": no such directory; revert failed, still present on "m1" (agent gone)');
    assert.deepEqual((await get('/1.0/storage-pools/data')).json().metadata.locations, ['m1']);
  });

  it('refuses bad requests with LXD statuses and writes nothing', async () => {
    await post({ name: 'half', driver: 'dir' }, 'm1');
    const before = await t.revision();
    const cases: Array<[unknown, string | undefined, number, RegExp]> = [
      [{ name: 'bad/name', driver: 'dir' }, 'm1', 400, /Invalid storage pool name/],
      [{ name: 'p', driver: 'zfs' }, 'm1', 400, /driver "zfs" is not supported/],
      [{ name: 'p', driver: 'dir', config: { 'user.x': 'y' } }, 'm1', 400, /may not be used as member-specific key/],
      [{ name: 'p', driver: 'dir', config: { bogus: '1' } }, 'm1', 400, /Unknown configuration key "bogus"/],
      [{ name: 'p', driver: 'dir', config: { size: '1GiB' } }, 'm1', 400, /Invalid pool config key "size" for the "dir" driver/],
      [{ name: 'p', driver: 'dir' }, 'nope', 404, /Cluster member "nope" not found/],
      [{ name: 'p', driver: 'dir' }, undefined, 400, /not pending on any member \(use --target <member> first\)/],
      [{ name: 'half', driver: 'dir' }, undefined, 400, /not defined on members "m2", "m3"/],
      [{ name: 'half', driver: 'btrfs' }, 'm2', 400, /pending with driver "dir"/],
      [{ name: 'half', driver: 'dir' }, 'm1', 409, /already defined on member "m1"/],
      [{ name: 'half', driver: 'dir', config: { source: '/x' } }, undefined, 400, /member-specific: set it per member/],
      [{ name: 'p', driver: 'dir', extra: 1 }, 'm1', 400, /Unknown field "extra"/],
    ];
    for (const [payload, target, status, re] of cases) {
      const res = await post(payload, target);
      assert.equal(res.statusCode, status, `${JSON.stringify(payload)} ${String(target)}: ${res.body}`);
      assert.equal(res.json().type, 'error');
      assert.match(res.json().error, re);
    }
    const bad = await t.inject({ method: 'POST', url: '/1.0/storage-pools', headers: { 'content-type': 'application/json' }, payload: '{"name":' });
    assert.equal(bad.statusCode, 400);
    assert.equal(await t.revision(), before);
    for (const m of ['m1', 'm2', 'm3']) assert.equal(t.agents.agent(m).pools.size, 0);
  });

  it('updates cluster keys on every member and member keys on one (PUT/PATCH with If-Match)', async () => {
    await pending('data');
    await post({ name: 'data', driver: 'dir' });
    const got = await get('/1.0/storage-pools/data');
    const etag = got.headers['etag'] as string;
    const stale = await t.inject({ method: 'PATCH', url: '/1.0/storage-pools/data', headers: { 'if-match': '"nope"' }, payload: { config: { 'user.a': '1' } } });
    assert.equal(stale.statusCode, 412);
    const ok = await t.inject({ method: 'PATCH', url: '/1.0/storage-pools/data', headers: { 'if-match': etag }, payload: { config: { 'user.a': '1' } } });
    assert.equal(ok.statusCode, 200, ok.body);
    for (const m of ['m1', 'm2', 'm3']) assert.deepEqual(t.agents.agent(m).pools.get('data')?.config, { 'user.a': '1', source: `/srv/${m}` });
    const put = await t.inject({ method: 'PUT', url: '/1.0/storage-pools/data?target=m2', payload: { config: { source: '/srv/m2' } } });
    assert.equal(put.statusCode, 200, put.body);
    assert.deepEqual((await get('/1.0/storage-pools/data')).json().metadata.config, { 'user.a': '1' });
    const refused = await t.inject({ method: 'PATCH', url: '/1.0/storage-pools/data?target=m2', payload: { config: { 'user.b': '2' } } });
    assert.equal(refused.statusCode, 400);
    t.agents.agent('m2').failOn('updateStoragePool', errors.invalid('The "source" cannot be changed'));
    const failed = await t.inject({ method: 'PATCH', url: '/1.0/storage-pools/data', payload: { config: { 'user.a': '2' } } });
    assert.equal(failed.statusCode, 400);
    assert.equal(t.agents.agent('m1').pools.get('data')?.config['user.a'], '1');
    assert.deepEqual((await get('/1.0/storage-pools/data')).json().metadata.config, { 'user.a': '1' });
  });

  it('reports resources of one member and deletes from every member unless in use', async () => {
    await pending('data');
    await post({ name: 'data', driver: 'dir' });
    const r = await get('/1.0/storage-pools/data/resources?target=m2');
    assert.deepEqual(r.json().metadata, { space: { used: 250, total: 1000 }, inodes: { used: 0, total: 0 } });
    assert.equal(t.agents.agent('m2').calls.at(-1), 'getStoragePoolResources');
    assert.equal((await get('/1.0/storage-pools/data/resources?target=nope')).statusCode, 404);
    await t.db.store.update((tx) => {
      const p = tx.require(profiles, 'default', 'default').record;
      tx.put(profiles, { ...p, devices: { ...p.devices, data: { type: 'disk', path: '/data', pool: 'data' } } });
    });
    assert.deepEqual((await get('/1.0/storage-pools/data')).json().metadata.used_by, ['/1.0/profiles/default']);
    const inUse = await t.inject({ method: 'DELETE', url: '/1.0/storage-pools/data' });
    assert.equal(inUse.statusCode, 400);
    assert.match(inUse.json().error, /in use by \/1.0\/profiles\/default/);
    await t.db.store.update((tx) => {
      const p = tx.require(profiles, 'default', 'default').record;
      const { data: _gone, ...rest } = p.devices;
      tx.put(profiles, { ...p, devices: rest });
    });
    const del = await t.inject({ method: 'DELETE', url: '/1.0/storage-pools/data' });
    assert.equal(del.statusCode, 200, del.body);
    for (const m of ['m1', 'm2', 'm3']) assert.equal(t.agents.agent(m).pools.has('data'), false);
    assert.equal((await get('/1.0/storage-pools/data')).statusCode, 404);
    assert.equal((await t.inject({ method: 'DELETE', url: '/1.0/storage-pools/data' })).statusCode, 404);
  });
});
