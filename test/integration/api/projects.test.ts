// /1.0/projects over a real one-member cluster database: create (with its default profile),
// list, get with ETag, PATCH/PUT with If-Match, delete; bad names, unknown keys, deleting
// `default` or a non-empty project get LXD errors and change nothing; restricted callers.
import { strict as assert } from 'node:assert';
import { dbApp, type DbApp } from '../../support/api/db-app.js';
import { identities } from '../../support/api/fake-ports.js';

describe('src/api/routes/projects', () => {
  let t: DbApp;
  before(async () => {
    t = await dbApp();
  });
  after(async () => {
    await t.close();
  });
  const revision = async (): Promise<number> => (await t.db.store.view()).revision;

  it('creates a project with its own default profile and lists it', async () => {
    const res = await t.inject({ method: 'POST', url: '/1.0/projects', payload: { name: 'p1', description: 'one' } });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual((await t.inject({ method: 'GET', url: '/1.0/projects' })).json().metadata, ['/1.0/projects/default', '/1.0/projects/p1']);
    const p1 = (await t.inject({ method: 'GET', url: '/1.0/projects/p1' })).json().metadata;
    assert.deepEqual(p1, { name: 'p1', description: 'one', config: {}, used_by: ['/1.0/profiles/default?project=p1'] });
    assert.equal((await t.inject({ method: 'GET', url: '/1.0/profiles/default?project=p1' })).statusCode, 200);
  });

  it('refuses bad names, unknown config keys and duplicates, writing nothing', async () => {
    const before = await revision();
    for (const [payload, status] of [[{ name: 'a b' }, 400], [{ name: 'p2', config: { 'features.bogus': 'x' } }, 400], [{ name: 'p1' }, 409]] as const) {
      const res = await t.inject({ method: 'POST', url: '/1.0/projects', payload });
      assert.equal(res.statusCode, status, res.body);
      assert.equal(res.json().type, 'error');
    }
    assert.equal(await revision(), before);
  });

  it('PATCH merges with If-Match; a stale ETag gets 412', async () => {
    const etag = (await t.inject({ method: 'GET', url: '/1.0/projects/p1' })).headers['etag'] as string;
    const ok = await t.inject({ method: 'PATCH', url: '/1.0/projects/p1', headers: { 'if-match': etag }, payload: { description: 'uno' } });
    assert.equal(ok.statusCode, 200, ok.body);
    const stale = await t.inject({ method: 'PUT', url: '/1.0/projects/p1', headers: { 'if-match': etag }, payload: { description: 'x' } });
    assert.equal(stale.statusCode, 412);
    assert.equal((await t.inject({ method: 'GET', url: '/1.0/projects/p1' })).json().metadata.description, 'uno');
  });

  it('shows a restricted caller only its projects and refuses it writes', async () => {
    const who = identities.restricted(['p1']);
    assert.deepEqual((await t.inject({ method: 'GET', url: '/1.0/projects', as: who })).json().metadata, ['/1.0/projects/p1']);
    assert.equal((await t.inject({ method: 'GET', url: '/1.0/projects/default', as: who })).statusCode, 404);
    assert.equal((await t.inject({ method: 'DELETE', url: '/1.0/projects/p1', as: who })).statusCode, 403);
  });

  it('refuses to delete default or a non-empty project, and deletes an empty one', async () => {
    await t.inject({ method: 'POST', url: '/1.0/profiles?project=p1', payload: { name: 'extra' } });
    const before = await revision();
    assert.equal((await t.inject({ method: 'DELETE', url: '/1.0/projects/default' })).statusCode, 400);
    const busy = await t.inject({ method: 'DELETE', url: '/1.0/projects/p1' });
    assert.equal(busy.statusCode, 400, busy.body);
    assert.match(busy.json().error, /not empty/);
    assert.equal(await revision(), before);
    assert.equal((await t.inject({ method: 'DELETE', url: '/1.0/profiles/extra?project=p1' })).statusCode, 200);
    assert.equal((await t.inject({ method: 'DELETE', url: '/1.0/projects/p1' })).statusCode, 200);
    assert.equal((await t.inject({ method: 'GET', url: '/1.0/projects/p1' })).statusCode, 404);
  });
});
