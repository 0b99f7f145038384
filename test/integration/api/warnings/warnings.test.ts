// /1.0/warnings over a real one-node database: raiseWarning deduplicates by kind (count, last
// message, a resolved warning reopens), list/get with ?project=, PUT/PATCH status (acknowledged,
// new; resolved refused), delete, 404s; a failed storage pool create raises a warning for the
// member that failed, and deleting the pool resolves it.
import { strict as assert } from 'node:assert';
import { netstoreApp, type NetstoreApp } from '../../../support/api/netstore-app.js';
import { raiseWarning, resolveWarnings } from '../../../../src/api/warnings/index.js';
import { errors, systemClock } from '../../../../src/shared/index.js';

describe('src/api/routes/warnings', () => {
  let t: NetstoreApp;
  before(async () => {
    t = await netstoreApp();
  });
  after(async () => {
    await t.close();
  });
  const get = (url: string) => t.inject({ method: 'GET', url });

  it('raises, deduplicates, lists and shows warnings', async () => {
    const a = await raiseWarning(t.db.store, systemClock, { type: 'Offline cluster member', location: 'm2', message: 'no heartbeat for 21s', severity: 'high' });
    const again = await raiseWarning(t.db.store, systemClock, { type: 'Offline cluster member', location: 'm2', message: 'no heartbeat for 40s' });
    assert.equal(again, a);
    const b = await raiseWarning(t.db.store, systemClock, { type: 'Quota', location: 'm1', project: 'default', message: 'near limit', severity: 'low' });
    assert.deepEqual((await get('/1.0/warnings')).json().metadata, [`/1.0/warnings/${a}`, `/1.0/warnings/${b}`]);
    assert.deepEqual((await get('/1.0/warnings?project=default')).json().metadata, [`/1.0/warnings/${b}`]);
    const w = (await get(`/1.0/warnings/${a}`)).json().metadata;
    assert.deepEqual(
      { ...w, first_seen_at: 't', last_seen_at: 't' },
      { uuid: a, type: 'Offline cluster member', location: 'm2', project: '', entity_url: '', count: 2, first_seen_at: 't', last_seen_at: 't', last_message: 'no heartbeat for 40s', severity: 'high', status: 'new' },
    );
    const filtered = (await get('/1.0/warnings?recursion=1&filter=severity+eq+low')).json().metadata;
    assert.deepEqual(filtered.map((x: { uuid: string }) => x.uuid), [b]);
  });

  it('acknowledges, resets and deletes; refuses setting resolved', async () => {
    const uuid = (await get('/1.0/warnings')).json().metadata[0].split('/').at(-1) as string;
    assert.equal((await t.inject({ method: 'PUT', url: `/1.0/warnings/${uuid}`, payload: { status: 'acknowledged' } })).statusCode, 200);
    assert.equal((await get(`/1.0/warnings/${uuid}`)).json().metadata.status, 'acknowledged');
    await raiseWarning(t.db.store, systemClock, { type: 'Offline cluster member', location: 'm2', message: 'still gone' });
    assert.equal((await get(`/1.0/warnings/${uuid}`)).json().metadata.status, 'acknowledged');
    const resolved = await t.inject({ method: 'PATCH', url: `/1.0/warnings/${uuid}`, payload: { status: 'resolved' } });
    assert.equal(resolved.statusCode, 400);
    assert.equal((await t.inject({ method: 'PATCH', url: `/1.0/warnings/${uuid}`, payload: { status: 'bogus' } })).statusCode, 400);
    assert.equal((await t.inject({ method: 'PATCH', url: `/1.0/warnings/${uuid}`, payload: { status: 'new' } })).statusCode, 200);
    assert.equal(await resolveWarnings(t.db.store, { type: 'Offline cluster member' }), 1);
    assert.equal((await get(`/1.0/warnings/${uuid}`)).json().metadata.status, 'resolved');
    await raiseWarning(t.db.store, systemClock, { type: 'Offline cluster member', location: 'm2', message: 'gone again' });
    assert.equal((await get(`/1.0/warnings/${uuid}`)).json().metadata.status, 'new');
    assert.equal((await t.inject({ method: 'DELETE', url: `/1.0/warnings/${uuid}` })).statusCode, 200);
    assert.equal((await get(`/1.0/warnings/${uuid}`)).statusCode, 404);
    assert.equal((await t.inject({ method: 'DELETE', url: `/1.0/warnings/${uuid}` })).statusCode, 404);
    assert.equal((await t.inject({ method: 'PUT', url: '/1.0/warnings/00000000-0000-4000-8000-000000000000', payload: { status: 'new' } })).statusCode, 404);
  });

  it('raises a warning for the member where a pool creation failed and resolves it with the pool', async () => {
    for (const m of ['m1', 'm2', 'm3']) await t.inject({ method: 'POST', url: `/1.0/storage-pools?target=${m}`, payload: { name: 'wp', driver: 'dir' } });
    t.agents.agent('m3').failOn('createStoragePool', errors.invalid('disk on fire'));
    assert.equal((await t.inject({ method: 'POST', url: '/1.0/storage-pools', payload: { name: 'wp', driver: 'dir' } })).statusCode, 400);
    const list = (await get('/1.0/warnings?recursion=1&filter=type+eq+"Storage pool creation failed"')).json().metadata;
    assert.equal(list.length, 1);
    assert.deepEqual([list[0].location, list[0].entity_url, list[0].last_message, list[0].status], ['m3', '/1.0/storage-pools/wp', 'disk on fire', 'new']);
    assert.equal((await t.inject({ method: 'DELETE', url: '/1.0/storage-pools/wp' })).statusCode, 200);
    assert.equal((await get(`/1.0/warnings/${list[0].uuid as string}`)).json().metadata.status, 'resolved');
  });
});
