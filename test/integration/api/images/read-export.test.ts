// GET/PUT/PATCH /1.0/images[/<fp>], export, secrets and refresh against a real one-member database
// and real agents (harness.ts): recursion, filter, projects, ETag/If-Match, untrusted callers
// (public images, single-use secrets), the export round trip (unified and split: the bytes hash
// to the fingerprint), and the errors of each endpoint.
import { strict as assert } from 'node:assert';
import { multipartBody, openImagesEnv, sha256, splitImage, unifiedImage, upload, waitOp, type ImagesEnv } from './harness.js';
import { readMultipart } from '../../../../src/api/images/multipart.js';

describe('src/api/routes/images (read, edit, export)', function () {
  this.timeout(120_000);
  let env: ImagesEnv;
  const u = unifiedImage('r1');
  const pub = unifiedImage('r2');
  const sp = splitImage('r3');
  before(async () => {
    env = await openImagesEnv(['m1']);
    for (const [tar, headers] of [
      [u.tarball, { 'x-lxd-aliases': 'alias=r1', 'x-lxd-filename': 'r1.tar' }],
      [pub.tarball, { 'x-lxd-public': '1' }],
    ] as const) {
      const r = await upload(env.t, tar, headers);
      assert.equal((await waitOp(env.t, r.json().operation)).status, 'Success');
    }
    const { body, contentType } = multipartBody(sp.meta, sp.rootfs);
    const r = await env.t.inject({ method: 'POST', url: '/1.0/images', headers: { 'content-type': contentType }, payload: body });
    assert.equal((await waitOp(env.t, r.json().operation)).status, 'Success');
  });
  after(async () => {
    await env?.close();
  });

  describe('GET /1.0/images', () => {
    it('lists URLs, then objects with recursion=1, filtered by ?filter=', async () => {
      const urls = (await env.t.inject({ method: 'GET', url: '/1.0/images' })).json().metadata as string[];
      assert.deepEqual([...urls].sort(), [u, pub, sp].map((i) => `/1.0/images/${i.fingerprint}`).sort());
      const full = (await env.t.inject({ method: 'GET', url: '/1.0/images?recursion=1' })).json().metadata as Array<{ fingerprint: string }>;
      assert.equal(full.length, 3);
      const f = await env.t.inject({ method: 'GET', url: `/1.0/images?recursion=1&filter=${encodeURIComponent('properties.name eq r2')}` });
      assert.deepEqual(f.json().metadata.map((i: { fingerprint: string }) => i.fingerprint), [pub.fingerprint]);
    });

    it('shows untrusted callers only public images', async () => {
      const r = await env.t.inject({ method: 'GET', url: '/1.0/images', as: 'untrusted' });
      assert.deepEqual(r.json().metadata, [`/1.0/images/${pub.fingerprint}`]);
    });

    it('lists another project separately and refuses a bad filter', async () => {
      await env.t.inject({ method: 'POST', url: '/1.0/projects', payload: { name: 'rp' } });
      assert.deepEqual((await env.t.inject({ method: 'GET', url: '/1.0/images?project=rp' })).json().metadata, []);
      const all = await env.t.inject({ method: 'GET', url: '/1.0/images?all-projects=true' });
      assert.equal(all.json().metadata.length, 3);
      assert.equal((await env.t.inject({ method: 'GET', url: '/1.0/images?filter=name%20lt' })).statusCode, 400);
    });
  });

  describe('GET /1.0/images/<fp>', () => {
    it('accepts a unique prefix and sends an ETag', async () => {
      const r = await env.t.inject({ method: 'GET', url: `/1.0/images/${u.fingerprint.slice(0, 12)}` });
      assert.equal(r.statusCode, 200);
      assert.equal(r.json().metadata.fingerprint, u.fingerprint);
      assert.match(String(r.headers['etag']), /^"[0-9a-f]{64}"$/);
      assert.equal(r.json().metadata.last_used_at, '0001-01-01T00:00:00Z');
    });

    it('answers 404 for an unknown image and hides private images from untrusted callers', async () => {
      const missing = await env.t.inject({ method: 'GET', url: `/1.0/images/${'0'.repeat(64)}` });
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().error, `Image "${'0'.repeat(64)}" not found`);
      assert.equal((await env.t.inject({ method: 'GET', url: `/1.0/images/${u.fingerprint}`, as: 'untrusted' })).statusCode, 404);
      assert.equal((await env.t.inject({ method: 'GET', url: `/1.0/images/${pub.fingerprint}`, as: 'untrusted' })).statusCode, 200);
    });
  });

  describe('PUT|PATCH /1.0/images/<fp>', () => {
    it('patches fields, replaces with PUT, and checks If-Match', async () => {
      const url = `/1.0/images/${u.fingerprint}`;
      const etag = String((await env.t.inject({ method: 'GET', url })).headers['etag']);
      const p = await env.t.inject({ method: 'PATCH', url, headers: { 'if-match': etag }, payload: { properties: { extra: 'x' }, public: true } });
      assert.equal(p.statusCode, 200, p.body);
      let m = (await env.t.inject({ method: 'GET', url })).json().metadata;
      assert.equal(m.public, true);
      assert.equal(m.properties.extra, 'x');
      assert.equal(m.properties.os, 'test');
      const stale = await env.t.inject({ method: 'PUT', url, headers: { 'if-match': etag }, payload: { properties: {} } });
      assert.equal(stale.statusCode, 412);
      const put = await env.t.inject({ method: 'PUT', url, payload: { properties: { only: 'this' }, auto_update: false, public: false, profiles: ['default'] } });
      assert.equal(put.statusCode, 200);
      m = (await env.t.inject({ method: 'GET', url })).json().metadata;
      assert.deepEqual(m.properties, { only: 'this' });
      assert.equal(m.public, false);
    });

    it('refuses unknown fields, bad expiry and missing images', async () => {
      const url = `/1.0/images/${u.fingerprint}`;
      assert.equal((await env.t.inject({ method: 'PATCH', url, payload: { size: 3 } })).statusCode, 400);
      const exp = await env.t.inject({ method: 'PATCH', url, payload: { expires_at: 'soon' } });
      assert.equal(exp.statusCode, 400);
      assert.equal(exp.json().error, 'Invalid expires_at "soon"');
      assert.equal((await env.t.inject({ method: 'PATCH', url: `/1.0/images/${'0'.repeat(64)}`, payload: {} })).statusCode, 404);
    });
  });

  describe('GET /1.0/images/<fp>/export', () => {
    it('streams a unified image back with its file name (the bytes hash to the fingerprint)', async () => {
      const r = await env.t.inject({ method: 'GET', url: `/1.0/images/${u.fingerprint}/export` });
      assert.equal(r.statusCode, 200);
      assert.equal(r.headers['content-type'], 'application/octet-stream');
      assert.equal(r.headers['content-disposition'], 'attachment; filename="r1.tar"');
      assert.equal(sha256(r.rawPayload), u.fingerprint);
    });

    it('streams a split image as LXD multipart (metadata, rootfs)', async () => {
      const r = await env.t.inject({ method: 'GET', url: `/1.0/images/${sp.fingerprint}/export` });
      assert.equal(r.statusCode, 200);
      const boundary = /boundary=(\S+)/.exec(String(r.headers['content-type']))?.[1];
      assert.ok(boundary);
      const parts: Record<string, Buffer[]> = {};
      let cur = '';
      async function* one(): AsyncGenerator<Buffer> {
        yield r.rawPayload;
      }
      for await (const e of readMultipart(one(), boundary)) {
        if (e.type === 'part') parts[(cur = e.name)] = [];
        else parts[cur]!.push(e.data);
      }
      assert.deepEqual(Object.keys(parts), ['metadata', 'rootfs']);
      assert.equal(sha256(Buffer.concat([...parts['metadata']!, ...parts['rootfs']!])), sp.fingerprint);
    });

    it('lets untrusted callers export public images, and private ones once with a secret', async () => {
      assert.equal((await env.t.inject({ method: 'GET', url: `/1.0/images/${pub.fingerprint}/export`, as: 'untrusted' })).statusCode, 200);
      assert.equal((await env.t.inject({ method: 'GET', url: `/1.0/images/${sp.fingerprint}/export`, as: 'untrusted' })).statusCode, 404);
      const s = await env.t.inject({ method: 'POST', url: `/1.0/images/${sp.fingerprint}/secret` });
      assert.equal(s.statusCode, 202);
      const op = s.json().metadata;
      assert.equal(op.class, 'token');
      const secret = op.metadata.secret as string;
      assert.match(secret, /^[0-9a-f]{64}$/);
      assert.equal((await env.t.inject({ method: 'GET', url: `/1.0/images/${sp.fingerprint}?secret=${secret}`, as: 'untrusted' })).statusCode, 200);
      assert.equal((await env.t.inject({ method: 'GET', url: `/1.0/images/${u.fingerprint}?secret=${secret}`, as: 'untrusted' })).statusCode, 404);
      const ex = await env.t.inject({ method: 'GET', url: `/1.0/images/${sp.fingerprint}/export?secret=${secret}`, as: 'untrusted' });
      assert.equal(ex.statusCode, 200);
      assert.equal((await env.t.inject({ method: 'GET', url: `/1.0/images/${sp.fingerprint}/export?secret=${secret}`, as: 'untrusted' })).statusCode, 404);
      const after = await env.t.inject({ method: 'GET', url: `/1.0/operations/${op.id}` });
      assert.equal(after.json().metadata.status, 'Cancelled');
    });

    it('answers 404 for an unknown image and for a secret of a missing image', async () => {
      assert.equal((await env.t.inject({ method: 'GET', url: `/1.0/images/${'0'.repeat(64)}/export` })).statusCode, 404);
      assert.equal((await env.t.inject({ method: 'POST', url: `/1.0/images/${'0'.repeat(64)}/secret` })).statusCode, 404);
    });
  });

  describe('POST /1.0/images/<fp>/refresh', () => {
    it('says refresh is not supported', async () => {
      const r = await env.t.inject({ method: 'POST', url: `/1.0/images/${u.fingerprint}/refresh` });
      assert.equal(r.statusCode, 400);
      assert.match(r.json().error, /refresh is not supported/);
    });
  });
});
