// Custom volumes of /1.0/storage-pools/<pool>/volumes over a real one-node database with three
// members and fake node agents: create on ?target= (and on this member by default), list, get,
// PATCH, snapshots (operations), restore, delete; unsupported requests (rename, copy, block,
// other types, unknown keys) refused with 400 and writing nothing.
import { strict as assert } from 'node:assert';
import { netstoreApp, type NetstoreApp } from '../../../support/api/netstore-app.js';

describe('src/api/routes/storage/volumes', () => {
  let t: NetstoreApp;
  before(async () => {
    t = await netstoreApp();
    for (const m of ['m1', 'm2', 'm3']) await t.inject({ method: 'POST', url: `/1.0/storage-pools?target=${m}`, payload: { name: 'data', driver: 'btrfs' } });
    const res = await t.inject({ method: 'POST', url: '/1.0/storage-pools', payload: { name: 'data', driver: 'btrfs' } });
    assert.equal(res.statusCode, 201, res.body);
  });
  after(async () => {
    await t.close();
  });
  const url = '/1.0/storage-pools/data/volumes';
  const waitOp = async (res: { json(): { operation: string } }): Promise<{ status: string; err: string }> =>
    (await t.inject({ method: 'GET', url: `${res.json().operation}/wait?timeout=10` })).json().metadata;

  it('creates a custom volume on the target member and on this member by default', async () => {
    const a = await t.inject({ method: 'POST', url: `${url}/custom?target=m2`, payload: { name: 'vol1', config: { size: '1GiB' } } });
    assert.equal(a.statusCode, 201, a.body);
    assert.equal(a.headers['location'], '/1.0/storage-pools/data/volumes/custom/vol1');
    assert.deepEqual(t.agents.agent('m2').volumes.get('data/vol1'), { config: { size: '1GiB' }, snapshots: [] });
    const b = await t.inject({ method: 'POST', url, payload: { name: 'vol1', type: 'custom' } });
    assert.equal(b.statusCode, 201, b.body);
    assert.ok(t.agents.agent('m1').volumes.has('data/vol1'));
    const list = await t.inject({ method: 'GET', url: `${url}?recursion=1` });
    assert.deepEqual(list.json().metadata.map((v: { location: string }) => v.location).sort(), ['m1', 'm2']);
    const ambiguous = await t.inject({ method: 'GET', url: `${url}/custom/vol1` });
    assert.equal(ambiguous.statusCode, 400);
    assert.match(ambiguous.json().error, /use --target/);
    const one = await t.inject({ method: 'GET', url: `${url}/custom/vol1?target=m2` });
    const v = one.json().metadata;
    assert.deepEqual({ ...v, created_at: 'x' }, { name: 'vol1', type: 'custom', description: '', config: { size: '1GiB' }, used_by: [], location: 'm2', content_type: 'filesystem', project: 'default', created_at: 'x' });
    assert.ok(one.headers['etag']);
  });

  it('patches description and user keys, refuses size changes', async () => {
    const ok = await t.inject({ method: 'PATCH', url: `${url}/custom/vol1?target=m2`, payload: { description: 'd', config: { 'user.k': 'v' } } });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual((await t.inject({ method: 'GET', url: `${url}/custom/vol1?target=m2` })).json().metadata.config, { size: '1GiB', 'user.k': 'v' });
    const size = await t.inject({ method: 'PATCH', url: `${url}/custom/vol1?target=m2`, payload: { config: { size: '2GiB' } } });
    assert.equal(size.statusCode, 400);
  });

  it('snapshots, lists, restores and deletes snapshots through operations', async () => {
    const s = await t.inject({ method: 'POST', url: `${url}/custom/vol1/snapshots?target=m2`, payload: { name: 'snap0' } });
    assert.equal(s.statusCode, 202, s.body);
    assert.equal((await waitOp(s)).status, 'Success');
    const auto = await t.inject({ method: 'POST', url: `${url}/custom/vol1/snapshots?target=m2`, payload: {} });
    assert.equal((await waitOp(auto)).status, 'Success');
    assert.deepEqual(t.agents.agent('m2').volumes.get('data/vol1')?.snapshots, ['snap0', 'snap1']);
    const names = await t.inject({ method: 'GET', url: `${url}/custom/vol1/snapshots?target=m2` });
    assert.deepEqual(names.json().metadata, ['/1.0/storage-pools/data/volumes/custom/vol1/snapshots/snap0', '/1.0/storage-pools/data/volumes/custom/vol1/snapshots/snap1']);
    assert.equal((await t.inject({ method: 'GET', url: `${url}/custom/vol1/snapshots/snap0?target=m2` })).json().metadata.name, 'snap0');
    assert.equal((await t.inject({ method: 'GET', url: `${url}/custom/vol1/snapshots/nope?target=m2` })).statusCode, 404);
    const restore = await t.inject({ method: 'PUT', url: `${url}/custom/vol1?target=m2`, payload: { restore: 'snap0' } });
    assert.equal(restore.statusCode, 200, restore.body);
    assert.equal((await t.inject({ method: 'PUT', url: `${url}/custom/vol1?target=m2`, payload: { restore: 'nope' } })).statusCode, 404);
    const del = await t.inject({ method: 'DELETE', url: `${url}/custom/vol1/snapshots/snap1?target=m2` });
    assert.equal((await waitOp(del)).status, 'Success');
    assert.deepEqual(t.agents.agent('m2').volumes.get('data/vol1')?.snapshots, ['snap0']);
  });

  it('refuses what the agents do not implement, writing nothing', async () => {
    const before = await t.revision();
    for (const [method, path, payload, status, re] of [
      ['POST', `${url}/custom`, { name: 'x', config: { 'block.filesystem': 'ext4' } }, 400, /Invalid storage volume config key/],
      ['POST', `${url}/custom`, { name: 'x', content_type: 'block' }, 400, /Content type "block"/],
      ['POST', `${url}/custom`, { name: 'x', source: { type: 'copy', name: 'vol1' } }, 400, /Copying or migrating/],
      ['POST', `${url}/container`, { name: 'x' }, 400, /Only custom storage volumes/],
      ['POST', `${url}/custom`, { name: 'bad/name' }, 400, /Invalid storage volume name/],
      ['POST', `${url}/custom?target=m1`, { name: 'vol1' }, 409, /already exists/],
      ['POST', '/1.0/storage-pools/nope/volumes/custom', { name: 'x' }, 404, /Storage pool "nope"/],
      ['POST', `${url}/custom/vol1?target=m2`, { name: 'renamed' }, 400, /not supported/],
    ] as const) {
      const res = await t.inject({ method, url: path, payload });
      assert.equal(res.statusCode, status, `${path} ${res.body}`);
      assert.match(res.json().error, re);
    }
    assert.equal(await t.revision(), before);
  });

  it('deletes a volume from its member', async () => {
    const res = await t.inject({ method: 'DELETE', url: `${url}/custom/vol1?target=m2` });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(t.agents.agent('m2').volumes.has('data/vol1'), false);
    assert.equal((await t.inject({ method: 'GET', url: `${url}/custom/vol1?target=m2` })).statusCode, 404);
    assert.deepEqual((await t.inject({ method: 'GET', url: `${url}/custom` })).json().metadata, ['/1.0/storage-pools/data/volumes/custom/vol1']);
  });
});
