// /1.0/profiles over a real one-member cluster database: create, list (recursion, filter),
// get with ETag, PUT/PATCH with If-Match, rename, delete; bad names, unknown config keys, bad
// devices, duplicates and deleting `default` get LXD errors and change nothing.
import { strict as assert } from 'node:assert';
import { dbApp, type DbApp } from '../../support/api/db-app.js';

describe('src/api/routes/profiles', () => {
  let t: DbApp;
  before(async () => {
    t = await dbApp();
  });
  after(async () => {
    await t.close();
  });
  const revision = async (): Promise<number> => (await t.db.store.view()).revision;

  it('creates a profile (201 + Location) and lists it at recursion 0 and 1, with filter', async () => {
    const res = await t.inject({ method: 'POST', url: '/1.0/profiles', payload: { name: 'small', config: { 'limits.cpu': '1' }, description: 'tiny' } });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.headers['location'], '/1.0/profiles/small');
    assert.deepEqual((await t.inject({ method: 'GET', url: '/1.0/profiles' })).json().metadata, ['/1.0/profiles/default', '/1.0/profiles/small']);
    const full = (await t.inject({ method: 'GET', url: '/1.0/profiles?recursion=1&filter=name+eq+small' })).json().metadata;
    assert.deepEqual(full, [{ name: 'small', description: 'tiny', config: { 'limits.cpu': '1' }, devices: {}, used_by: [] }]);
  });

  it('refuses bad names, unknown keys, bad devices and duplicates with 400/409 and writes nothing', async () => {
    const before = await revision();
    for (const [payload, status, re] of [
      [{ name: 'bad/name' }, 400, /Invalid profile name/],
      [{ name: 'x'.repeat(64) }, 400, /Invalid profile name/],
      [{ name: 'p1', config: { 'limits.bogus': '1' } }, 400, /limits\.bogus/],
      [{ name: 'p1', devices: { eth0: { type: 'warpdrive' } } }, 400, /eth0|warpdrive|type/],
      [{ name: 'p1', unknown_field: 1 }, 400, /unknown_field|additional/i],
      [{ name: 'small' }, 409, /already exists/],
    ] as const) {
      const res = await t.inject({ method: 'POST', url: '/1.0/profiles', payload });
      assert.equal(res.statusCode, status, `${JSON.stringify(payload)} → ${res.body}`);
      assert.equal(res.json().type, 'error');
      assert.match(res.json().error, re);
    }
    assert.equal(await revision(), before);
  });

  it('answers 404 for a missing profile and for a missing project', async () => {
    assert.equal((await t.inject({ method: 'GET', url: '/1.0/profiles/nope' })).statusCode, 404);
    assert.equal((await t.inject({ method: 'GET', url: '/1.0/profiles/default?project=nope' })).statusCode, 404);
  });

  it('PATCH merges, PUT replaces, a stale If-Match gets 412 and changes nothing', async () => {
    const get = await t.inject({ method: 'GET', url: '/1.0/profiles/small' });
    const etag = get.headers['etag'] as string;
    assert.ok(etag);
    const patch = await t.inject({ method: 'PATCH', url: '/1.0/profiles/small', headers: { 'if-match': etag }, payload: { config: { 'limits.memory': '64MiB' } } });
    assert.equal(patch.statusCode, 200, patch.body);
    assert.deepEqual((await t.inject({ method: 'GET', url: '/1.0/profiles/small' })).json().metadata.config, { 'limits.cpu': '1', 'limits.memory': '64MiB' });
    const before = await revision();
    const stale = await t.inject({ method: 'PUT', url: '/1.0/profiles/small', headers: { 'if-match': etag }, payload: { config: {} } });
    assert.equal(stale.statusCode, 412);
    assert.equal(await revision(), before);
    const put = await t.inject({ method: 'PUT', url: '/1.0/profiles/small', payload: { config: { 'limits.cpu': '2' }, description: '' } });
    assert.equal(put.statusCode, 200, put.body);
    assert.deepEqual((await t.inject({ method: 'GET', url: '/1.0/profiles/small' })).json().metadata.config, { 'limits.cpu': '2' });
  });

  it('renames and deletes; refuses to delete or rename default', async () => {
    const ren = await t.inject({ method: 'POST', url: '/1.0/profiles/small', payload: { name: 'smaller' } });
    assert.equal(ren.statusCode, 201, ren.body);
    assert.equal((await t.inject({ method: 'GET', url: '/1.0/profiles/small' })).statusCode, 404);
    const before = await revision();
    assert.equal((await t.inject({ method: 'DELETE', url: '/1.0/profiles/default' })).statusCode, 400);
    assert.equal((await t.inject({ method: 'POST', url: '/1.0/profiles/default', payload: { name: 'x' } })).statusCode, 400);
    assert.equal(await revision(), before);
    assert.equal((await t.inject({ method: 'DELETE', url: '/1.0/profiles/smaller' })).statusCode, 200);
    assert.equal((await t.inject({ method: 'DELETE', url: '/1.0/profiles/smaller' })).statusCode, 404);
  });

  it('refuses untrusted callers with 403', async () => {
    assert.equal((await t.inject({ method: 'GET', url: '/1.0/profiles', as: 'untrusted' })).statusCode, 403);
  });
});
