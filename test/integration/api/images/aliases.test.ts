// /1.0/images/aliases against a real one-member database and real agents (harness.ts): create,
// list (recursion, filter), get (ETag; untrusted only for public images), PUT/PATCH with
// If-Match, rename, delete, and each endpoint's refusals; aliases go with their image.
import { strict as assert } from 'node:assert';
import { openImagesEnv, unifiedImage, upload, waitOp, type ImagesEnv } from './harness.js';

describe('src/api/routes/images/aliases.ts', function () {
  this.timeout(120_000);
  let env: ImagesEnv;
  const a = unifiedImage('al1');
  const b = unifiedImage('al2');
  before(async () => {
    env = await openImagesEnv(['m1']);
    for (const img of [a, b]) assert.equal((await waitOp(env.t, (await upload(env.t, img.tarball)).json().operation)).status, 'Success');
  });
  after(async () => {
    await env?.close();
  });
  const inject = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers?: Record<string, string>) =>
    env.t.inject({ method, url, ...(payload !== undefined ? { payload: payload as object } : {}), ...(headers ? { headers } : {}) });

  it('creates an alias (201 + Location) by fingerprint prefix and lists it', async () => {
    const r = await inject('POST', '/1.0/images/aliases', { name: 'web', target: a.fingerprint.slice(0, 10), description: 'the web image' });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.headers['location'], '/1.0/images/aliases/web');
    assert.deepEqual((await inject('GET', '/1.0/images/aliases')).json().metadata, ['/1.0/images/aliases/web']);
    assert.deepEqual((await inject('GET', '/1.0/images/aliases?recursion=1')).json().metadata, [
      { name: 'web', description: 'the web image', target: a.fingerprint, type: 'container' },
    ]);
    assert.deepEqual((await inject('GET', '/1.0/images/aliases?recursion=1&filter=name%20eq%20nothing')).json().metadata, []);
  });

  it('refuses duplicates, bad names and unknown targets', async () => {
    const dup = await inject('POST', '/1.0/images/aliases', { name: 'web', target: b.fingerprint });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().error, 'Alias "web" already exists');
    assert.equal((await inject('POST', '/1.0/images/aliases', { name: 'a/b', target: b.fingerprint })).statusCode, 400);
    const missing = await inject('POST', '/1.0/images/aliases', { name: 'x', target: 'f'.repeat(64) });
    assert.equal(missing.statusCode, 404);
    assert.equal((await inject('POST', '/1.0/images/aliases', { name: 'x' })).statusCode, 400);
  });

  it('gets with an ETag, hides aliases of private images from untrusted callers', async () => {
    const r = await inject('GET', '/1.0/images/aliases/web');
    assert.equal(r.statusCode, 200);
    assert.ok(r.headers['etag']);
    assert.equal((await env.t.inject({ method: 'GET', url: '/1.0/images/aliases/web', as: 'untrusted' })).statusCode, 404);
    assert.equal((await inject('GET', '/1.0/images/aliases/nope')).json().error, 'Image alias "nope" not found');
  });

  it('retargets with PUT/PATCH and checks If-Match', async () => {
    const etag = String((await inject('GET', '/1.0/images/aliases/web')).headers['etag']);
    assert.equal((await inject('PATCH', '/1.0/images/aliases/web', { target: b.fingerprint }, { 'if-match': etag })).statusCode, 200);
    let m = (await inject('GET', '/1.0/images/aliases/web')).json().metadata;
    assert.equal(m.target, b.fingerprint);
    assert.equal(m.description, 'the web image');
    assert.equal((await inject('PUT', '/1.0/images/aliases/web', { target: a.fingerprint }, { 'if-match': etag })).statusCode, 412);
    assert.equal((await inject('PUT', '/1.0/images/aliases/web', { description: 'no target' })).statusCode, 400);
    assert.equal((await inject('PUT', '/1.0/images/aliases/web', { target: a.fingerprint })).statusCode, 200);
    m = (await inject('GET', '/1.0/images/aliases/web')).json().metadata;
    assert.deepEqual(m, { name: 'web', description: '', target: a.fingerprint, type: 'container' });
    assert.equal((await inject('PATCH', '/1.0/images/aliases/web', { target: '0'.repeat(64) })).statusCode, 404);
    assert.equal((await inject('PATCH', '/1.0/images/aliases/nope', {})).statusCode, 404);
  });

  it('renames (201 + Location), refusing a taken name', async () => {
    assert.equal((await inject('POST', '/1.0/images/aliases', { name: 'other', target: b.fingerprint })).statusCode, 201);
    assert.equal((await inject('POST', '/1.0/images/aliases/web', { name: 'other' })).statusCode, 409);
    const r = await inject('POST', '/1.0/images/aliases/web', { name: 'site' });
    assert.equal(r.statusCode, 201);
    assert.equal(r.headers['location'], '/1.0/images/aliases/site');
    assert.equal((await inject('GET', '/1.0/images/aliases/web')).statusCode, 404);
    assert.equal((await inject('GET', '/1.0/images/aliases/site')).json().metadata.target, a.fingerprint);
    assert.equal((await inject('POST', '/1.0/images/aliases/nope', { name: 'z' })).statusCode, 404);
  });

  it('shows aliases inside the image, deletes them, and drops them with their image', async () => {
    assert.deepEqual((await inject('GET', `/1.0/images/${a.fingerprint}`)).json().metadata.aliases, [{ name: 'site', description: '' }]);
    assert.equal((await inject('DELETE', '/1.0/images/aliases/site')).statusCode, 200);
    assert.equal((await inject('DELETE', '/1.0/images/aliases/site')).statusCode, 404);
    const del = await inject('DELETE', `/1.0/images/${b.fingerprint}`);
    assert.equal(del.statusCode, 202);
    assert.equal((await waitOp(env.t, del.json().operation)).status, 'Success');
    assert.equal((await inject('GET', '/1.0/images/aliases/other')).statusCode, 404);
  });
});
