// POST /1.0/images against a real one-member database and real agents (harness.ts): unified and
// split uploads with X-LXD-* headers, fingerprint verification (a mismatch is a 400 and leaves
// nothing), bad tarballs, duplicates, the server-side busybox build, copying from another
// project, and refused JSON sources. Each test uses its own images.
import { strict as assert } from 'node:assert';
import { imageAliases, imageMembers, images } from '../../../../src/state/index.js';
import { multipartBody, openImagesEnv, splitImage, unifiedImage, upload, waitOp, type ImagesEnv } from './harness.js';

describe('src/api/routes/images/images-post.ts', function () {
  this.timeout(120_000);
  let env: ImagesEnv;
  before(async () => {
    env = await openImagesEnv(['m1', 'm2']);
  });
  after(async () => {
    await env?.close();
  });

  const agentHas = async (member: string, fp: string): Promise<boolean> =>
    (await env.agents[member]!.client.unary('listImages', {})).images.some((i) => i.fingerprint === fp);

  describe('POST /1.0/images (unified upload)', () => {
    it('stores the tarball on the serving member and records it with its headers', async () => {
      const { t } = env;
      const img = unifiedImage('u1');
      const r = await upload(t, img.tarball, {
        'x-lxd-fingerprint': img.fingerprint,
        'x-lxd-filename': 'u1.tar',
        'x-lxd-public': 'true',
        'x-lxd-properties': 'os=custom&release=1',
        'x-lxd-aliases': 'alias=u1&alias=u1-bis',
      });
      assert.equal(r.statusCode, 202, r.body);
      const op = await waitOp(t, r.json().operation);
      assert.equal(op.status, 'Success', op.err);
      assert.deepEqual(op.metadata, { fingerprint: img.fingerprint, size: img.tarball.length });
      const g = await t.inject({ method: 'GET', url: `/1.0/images/${img.fingerprint}` });
      assert.equal(g.statusCode, 200);
      const m = g.json().metadata;
      assert.equal(m.filename, 'u1.tar');
      assert.equal(m.public, true);
      assert.equal(m.size, img.tarball.length);
      assert.equal(m.architecture, process.arch === 'arm64' ? 'aarch64' : 'x86_64');
      assert.deepEqual(m.properties, { os: 'custom', name: 'u1', description: 'test image u1', release: '1' });
      assert.deepEqual(m.aliases, [{ name: 'u1', description: '' }, { name: 'u1-bis', description: '' }]);
      assert.deepEqual(m.profiles, ['default']);
      assert.equal(m.created_at, '2024-01-01T00:00:00.000Z');
      assert.equal(await agentHas('m1', img.fingerprint), true);
      assert.equal(await agentHas('m2', img.fingerprint), false);
      const view = await t.db.store.view();
      assert.deepEqual(view.get(imageMembers, img.fingerprint, 'm1')?.record, { fingerprint: img.fingerprint, member: 'm1', ready: true });
    });

    it('computes the fingerprint when no X-LXD-fingerprint is given', async () => {
      const img = unifiedImage('u2');
      const r = await upload(env.t, img.tarball);
      assert.equal(r.statusCode, 202, r.body);
      assert.equal((await waitOp(env.t, r.json().operation)).metadata?.['fingerprint'], img.fingerprint);
    });

    it('answers 400 to a fingerprint mismatch and leaves nothing', async () => {
      const img = unifiedImage('u3');
      const wrong = 'f'.repeat(64);
      const r = await upload(env.t, img.tarball, { 'x-lxd-fingerprint': wrong, 'x-lxd-aliases': 'alias=u3' });
      assert.equal(r.statusCode, 400);
      assert.match(r.json().error, /fingerprint/i);
      assert.equal(await agentHas('m1', img.fingerprint), false);
      assert.equal(await agentHas('m1', wrong), false);
      const view = await env.t.db.store.view();
      assert.equal(view.list(images).some((i) => [img.fingerprint, wrong].includes(i.record.fingerprint)), false);
      assert.equal(view.get(imageAliases, 'default', 'u3'), undefined);
    });

    it('answers 400 with the reason to a body that is not an image', async () => {
      const r = await upload(env.t, Buffer.from('this is not a tarball at all'.repeat(100)));
      assert.equal(r.statusCode, 400);
      assert.equal(r.json().type, 'error');
      assert.match(r.json().error, /tarball|Unsupported|image/i);
    });

    it('answers 400 to a tarball without metadata.yaml', async () => {
      const { writeTar } = await import('../../../../src/node-agent/images/tar-writer.js');
      const tar = writeTar([{ type: 'directory', path: 'rootfs', mode: 0o755 }], 0);
      const r = await upload(env.t, tar);
      assert.equal(r.statusCode, 400);
      assert.match(r.json().error, /metadata\.yaml/);
    });

    it('answers 409 to the same image uploaded again, keeping the first', async () => {
      const img = unifiedImage('u4');
      assert.equal((await upload(env.t, img.tarball)).statusCode, 202);
      const again = await upload(env.t, img.tarball);
      assert.equal(again.statusCode, 409);
      assert.equal(again.json().error, 'Image with same fingerprint already exists');
      assert.equal(await agentHas('m1', img.fingerprint), true);
    });

    it('answers 409 at once when X-LXD-fingerprint names a stored image', async () => {
      const img = unifiedImage('u4b');
      assert.equal((await upload(env.t, img.tarball)).statusCode, 202);
      const again = await upload(env.t, img.tarball, { 'x-lxd-fingerprint': img.fingerprint });
      assert.equal(again.statusCode, 409);
      assert.equal(await agentHas('m1', img.fingerprint), true);
    });

    it('takes an upload without a Content-Type (pylxd) and JSON without one', async () => {
      const img = unifiedImage('u4c');
      const r = await env.t.inject({ method: 'POST', url: '/1.0/images', payload: img.tarball });
      assert.equal(r.statusCode, 202, r.body);
      assert.equal((await waitOp(env.t, r.json().operation)).metadata?.['fingerprint'], img.fingerprint);
      const j = await env.t.inject({ method: 'POST', url: '/1.0/images', payload: Buffer.from(' {"source":{"type":"none"}}') });
      assert.equal(j.statusCode, 400);
      assert.match(j.json().error, /^Image source type "none" is not supported/);
    });

    it('answers 409 when an alias is taken and removes the new copy again', async () => {
      const a = unifiedImage('u5a');
      const b = unifiedImage('u5b');
      assert.equal((await upload(env.t, a.tarball, { 'x-lxd-aliases': 'alias=u5' })).statusCode, 202);
      const r = await upload(env.t, b.tarball, { 'x-lxd-aliases': 'alias=u5' });
      assert.equal(r.statusCode, 409);
      assert.equal(r.json().error, 'Alias "u5" already exists');
      assert.equal(await agentHas('m1', b.fingerprint), false);
      assert.equal((await env.t.db.store.view()).get(images, 'default', b.fingerprint), undefined);
    });

    it('refuses a malformed X-LXD-fingerprint', async () => {
      const r = await upload(env.t, unifiedImage('u6').tarball, { 'x-lxd-fingerprint': 'xyz' });
      assert.equal(r.statusCode, 400);
      assert.equal(r.json().error, 'Invalid X-LXD-fingerprint "xyz"');
    });

    it('uploads into another project', async () => {
      assert.equal((await env.t.inject({ method: 'POST', url: '/1.0/projects', payload: { name: 'p1' } })).statusCode, 201);
      const img = unifiedImage('u7');
      const r = await upload(env.t, img.tarball, {}, 'p1');
      assert.equal(r.statusCode, 202, r.body);
      assert.equal((await waitOp(env.t, r.json().operation)).status, 'Success');
      assert.equal((await env.t.inject({ method: 'GET', url: `/1.0/images/${img.fingerprint}?project=p1` })).statusCode, 200);
      assert.equal((await env.t.inject({ method: 'GET', url: `/1.0/images/${img.fingerprint}` })).statusCode, 404);
    });
  });

  describe('POST /1.0/images (split upload)', () => {
    it('stores metadata + rootfs sent as multipart and verifies the combined fingerprint', async () => {
      const img = splitImage('s1');
      const { body, contentType } = multipartBody(img.meta, img.rootfs);
      const r = await env.t.inject({ method: 'POST', url: '/1.0/images', headers: { 'content-type': contentType, 'x-lxd-fingerprint': img.fingerprint }, payload: body });
      assert.equal(r.statusCode, 202, r.body);
      const op = await waitOp(env.t, r.json().operation);
      assert.deepEqual(op.metadata, { fingerprint: img.fingerprint, size: img.meta.length + img.rootfs.length });
      assert.equal(await agentHas('m1', img.fingerprint), true);
    });

    it('answers 400 to a multipart body without a rootfs part', async () => {
      const img = splitImage('s2');
      const b = 'bnd';
      const body = Buffer.concat([Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="metadata"; filename="m"\r\n\r\n`), img.meta, Buffer.from(`\r\n--${b}--\r\n`)]);
      const r = await env.t.inject({ method: 'POST', url: '/1.0/images', headers: { 'content-type': `multipart/form-data; boundary=${b}` }, payload: body });
      assert.equal(r.statusCode, 400);
      assert.match(r.json().error, /rootfs/);
    });
  });

  describe('POST /1.0/images (JSON)', () => {
    it('builds the busybox image on the serving member (shoal_image_build_busybox)', async () => {
      const r = await env.t.inject({ method: 'POST', url: '/1.0/images', payload: { source: { type: 'busybox' }, aliases: [{ name: 'busybox' }] } });
      assert.equal(r.statusCode, 202, r.body);
      const op = await waitOp(env.t, r.json().operation);
      assert.equal(op.status, 'Success', op.err);
      const fp = op.metadata?.['fingerprint'] as string;
      assert.equal(fp, env.agents['m1']!.fingerprint);
      const alias = await env.t.inject({ method: 'GET', url: '/1.0/images/aliases/busybox' });
      assert.equal(alias.json().metadata.target, fp);
      // Building again is idempotent: same fingerprint, alias kept.
      const again = await waitOp(env.t, (await env.t.inject({ method: 'POST', url: '/1.0/images', payload: { source: { type: 'busybox' }, aliases: [{ name: 'busybox' }] } })).json().operation);
      assert.equal(again.status, 'Success', again.err);
      assert.equal(again.metadata?.['fingerprint'], fp);
    });

    it('copies an image record from another project (source type image)', async () => {
      const img = unifiedImage('j1');
      assert.equal((await upload(env.t, img.tarball, { 'x-lxd-aliases': 'alias=j1' })).statusCode, 202);
      if ((await env.t.inject({ method: 'GET', url: '/1.0/projects/p2' })).statusCode !== 200) {
        await env.t.inject({ method: 'POST', url: '/1.0/projects', payload: { name: 'p2' } });
      }
      const r = await env.t.inject({ method: 'POST', url: '/1.0/images?project=p2', payload: { source: { type: 'image', alias: 'j1', project: 'default' }, aliases: [{ name: 'copied' }] } });
      assert.equal(r.statusCode, 202, r.body);
      assert.equal((await waitOp(env.t, r.json().operation)).metadata?.['fingerprint'], img.fingerprint);
      const a = await env.t.inject({ method: 'GET', url: '/1.0/images/aliases/copied?project=p2' });
      assert.equal(a.json().metadata.target, img.fingerprint);
    });

    it('refuses unsupported sources and bad JSON', async () => {
      const url = await env.t.inject({ method: 'POST', url: '/1.0/images', payload: { source: { type: 'url', url: 'https://example.com/x' } } });
      assert.equal(url.statusCode, 400);
      assert.match(url.json().error, /^Image source type "url" is not supported/);
      const bad = await env.t.inject({ method: 'POST', url: '/1.0/images', headers: { 'content-type': 'application/json' }, payload: '{"source":' });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json().error, /^Invalid JSON in request body/);
      const shape = await env.t.inject({ method: 'POST', url: '/1.0/images', payload: { source: { type: 'busybox' }, bogus: 1 } });
      assert.equal(shape.statusCode, 400);
      assert.match(shape.json().error, /^Invalid image request/);
      const alias = await env.t.inject({ method: 'POST', url: '/1.0/images', payload: { source: { type: 'busybox' }, aliases: [{ name: 'a b' }] } });
      assert.equal(alias.statusCode, 400);
      assert.equal(alias.json().error, 'Invalid alias name "a b"');
    });

    it('refuses untrusted callers', async () => {
      const r = await env.t.inject({ method: 'POST', url: '/1.0/images', payload: { source: { type: 'busybox' } }, as: 'untrusted' });
      assert.equal(r.statusCode, 403);
    });
  });
});
