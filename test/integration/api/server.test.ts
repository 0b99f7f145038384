// /1.0 and /1.0/certificates over createApiDeps and a real one-member cluster database: config
// PATCH/PUT reach the replicated config (scope-routed), bad keys change nothing, trust tokens are
// stored in the database and consumed once.
import { strict as assert } from 'node:assert';
import { clusterConfig, memberConfig } from '../../../src/state/index.js';
import { dbApp, type DbApp } from '../../support/api/db-app.js';

describe('src/api/create-deps', () => {
  let t: DbApp;
  before(async () => {
    t = await dbApp();
  });
  after(async () => {
    await t.close();
  });

  describe('GET/PATCH /1.0', () => {
    it('stores cluster keys cluster-wide and member keys per member, and shows both', async () => {
      const res = await t.inject({ method: 'PATCH', url: '/1.0', payload: { config: { 'core.https_address': '127.0.0.1:8443', 'images.auto_update_interval': '0' } } });
      assert.equal(res.statusCode, 200, res.body);
      const view = await t.db.store.view();
      assert.deepEqual(view.get(clusterConfig)?.record.config, { 'images.auto_update_interval': '0' });
      assert.deepEqual(view.get(memberConfig, 'm1')?.record.config, { 'core.https_address': '127.0.0.1:8443' });
      const get = await t.inject({ method: 'GET', url: '/1.0' });
      assert.equal(get.json().metadata.config['core.https_address'], '127.0.0.1:8443');
      assert.ok(get.headers['etag']);
    });

    it('refuses an unknown key with 400 and changes nothing', async () => {
      const before = (await t.db.store.view()).revision;
      const res = await t.inject({ method: 'PATCH', url: '/1.0', payload: { config: { 'core.bogus': '1', 'images.auto_update_interval': '5' } } });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().type, 'error');
      assert.match(res.json().error, /core\.bogus/);
      assert.equal((await t.db.store.view()).revision, before);
    });

    it('answers 412 to PUT with a stale If-Match and changes nothing', async () => {
      const res = await t.inject({ method: 'PUT', url: '/1.0', headers: { 'if-match': '"stale"' }, payload: { config: {} } });
      assert.equal(res.statusCode, 412);
      assert.equal((await t.inject({ method: 'GET', url: '/1.0' })).json().metadata.config['images.auto_update_interval'], '0');
    });
  });

  describe('trust tokens', () => {
    it('issues a token kept in the database and lists it, then revokes it', async () => {
      const res = await t.inject({ method: 'POST', url: '/1.0/certificates', payload: { name: 'laptop', type: 'client', token: true } });
      assert.equal(res.statusCode, 202, res.body);
      const op = res.json().metadata as { id: string; class: string };
      assert.equal(op.class, 'token');
      assert.equal((await t.deps.trustTokens.list()).length, 1);
      const del = await t.inject({ method: 'DELETE', url: `/1.0/operations/${op.id}` });
      assert.equal(del.statusCode, 200, del.body);
      assert.deepEqual(await t.deps.trustTokens.list(), []);
    });
  });
});
