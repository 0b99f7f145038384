// Fleet-wide images against a real one-member database and three real agents (harness.ts):
// ImageLocator.resolve and ensureOn (agent-to-agent copy, idempotent, concurrent calls share one
// transfer, a lost copy is copied again), DELETE removing the files from every member, and a
// member that cannot be reached: the delete says what remains and a later sweep removes it.
import { strict as assert } from 'node:assert';
import type { AgentImageLocator } from '../../../../src/api/images/locator.js';
import { ErrorCode, isShoalError } from '../../../../src/shared/index.js';
import { imageMembers, images } from '../../../../src/state/index.js';
import { openImagesEnv, splitImage, multipartBody, unifiedImage, upload, waitOp, type ImagesEnv } from './harness.js';

describe('src/api/images (distribution)', function () {
  this.timeout(120_000);
  let env: ImagesEnv;
  let locator: AgentImageLocator;
  before(async () => {
    env = await openImagesEnv(['m1', 'm2', 'm3']);
    locator = env.t.deps.images as AgentImageLocator;
  });
  after(async () => {
    await env?.close();
  });

  const has = async (member: string, fp: string): Promise<boolean> =>
    (await env.agents[member]!.client.unary('listImages', {})).images.some((i) => i.fingerprint === fp);
  const rows = async (fp: string) => (await env.t.db.store.view()).list(imageMembers, fp).map((c) => c.record);
  const uploaded = async (img: { tarball: Buffer }, headers: Record<string, string> = {}): Promise<void> => {
    const op = await waitOp(env.t, (await upload(env.t, img.tarball, headers)).json().operation);
    assert.equal(op.status, 'Success', op.err);
  };

  describe('ImageLocator.resolve', () => {
    it('finds an image by alias, fingerprint and unique prefix, else NOT_FOUND', async () => {
      const img = unifiedImage('d0');
      await uploaded(img, { 'x-lxd-aliases': 'alias=d0' });
      assert.equal((await locator.resolve('default', { alias: 'd0' })).fingerprint, img.fingerprint);
      assert.equal((await locator.resolve('default', { fingerprint: img.fingerprint })).fingerprint, img.fingerprint);
      assert.equal((await locator.resolve('default', { fingerprint: img.fingerprint.slice(0, 8) })).fingerprint, img.fingerprint);
      await assert.rejects(locator.resolve('default', { alias: 'nope' }), (e) => isShoalError(e, ErrorCode.NotFound) && e.message === 'Image "nope" not found');
      await assert.rejects(locator.resolve('default', { fingerprint: 'zz' }), (e) => isShoalError(e, ErrorCode.NotFound));
    });
  });

  describe('ImageLocator.ensureOn', () => {
    it('copies a unified image to another member once; concurrent calls share the transfer', async () => {
      const img = unifiedImage('d1');
      await uploaded(img);
      assert.equal(await has('m2', img.fingerprint), false);
      const before = locator.transfers;
      await Promise.all([8, 16, 64, 64].map((n) => locator.ensureOn('default', img.fingerprint.slice(0, n), 'm2')));
      assert.equal(locator.transfers - before, 1);
      assert.equal(await has('m2', img.fingerprint), true);
      assert.deepEqual((await rows(img.fingerprint)).map((r) => `${r.member}:${r.ready}`).sort(), ['m1:true', 'm2:true']);
      // Idempotent: nothing is copied again.
      await locator.ensureOn('default', img.fingerprint, 'm2');
      await locator.ensureOn('default', img.fingerprint, 'm1');
      assert.equal(locator.transfers - before, 1);
    });

    it('copies a split image and can use any holder as the source', async () => {
      const img = splitImage('d2');
      const { body, contentType } = multipartBody(img.meta, img.rootfs);
      const r = await env.t.inject({ method: 'POST', url: '/1.0/images', headers: { 'content-type': contentType }, payload: body });
      assert.equal((await waitOp(env.t, r.json().operation)).status, 'Success');
      await locator.ensureOn('default', img.fingerprint, 'm2');
      env.downed.add('m1');
      try {
        await locator.ensureOn('default', img.fingerprint, 'm3');
      } finally {
        env.downed.delete('m1');
      }
      assert.equal(await has('m3', img.fingerprint), true);
    });

    it('copies again when the recorded copy was lost', async () => {
      const img = unifiedImage('d3');
      await uploaded(img);
      await locator.ensureOn('default', img.fingerprint, 'm3');
      await env.agents['m3']!.client.unary('deleteImage', { operationId: `lost-${Date.now()}`, fingerprint: img.fingerprint });
      const before = locator.transfers;
      await locator.ensureOn('default', img.fingerprint, 'm3');
      assert.equal(locator.transfers - before, 1);
      assert.equal(await has('m3', img.fingerprint), true);
    });

    it('fails clearly for an unknown image or when no holder answers', async () => {
      await assert.rejects(locator.ensureOn('default', 'f'.repeat(64), 'm2'), (e) => isShoalError(e, ErrorCode.NotFound));
      const img = unifiedImage('d4');
      await uploaded(img);
      env.downed.add('m1');
      try {
        await assert.rejects(locator.ensureOn('default', img.fingerprint, 'm2'), (e) => isShoalError(e, ErrorCode.Unavailable) && /Failed copying image .* to member "m2": "m1": Member "m1" is unreachable/.test(e.message));
      } finally {
        env.downed.delete('m1');
      }
      assert.equal(await has('m2', img.fingerprint), false);
    });
  });

  describe('cluster.images_minimal_replica', () => {
    it('copies a new upload to that many members before the operation completes (-1 = all)', async () => {
      const set = (v: string) => env.t.deps.serverConfig.update({ 'cluster.images_minimal_replica': v }, 'merge');
      try {
        await set('2');
        const two = unifiedImage('rep2');
        await uploaded(two);
        assert.deepEqual((await rows(two.fingerprint)).map((r) => r.member), ['m1', 'm2']);
        await set('-1');
        env.downed.add('m3');
        const all = unifiedImage('repall');
        try {
          // An unreachable member is skipped (logged); the upload still succeeds.
          await uploaded(all);
        } finally {
          env.downed.delete('m3');
        }
        assert.deepEqual((await rows(all.fingerprint)).map((r) => r.member), ['m1', 'm2']);
        const again = unifiedImage('repall2');
        await uploaded(again);
        assert.deepEqual((await rows(again.fingerprint)).map((r) => r.member), ['m1', 'm2', 'm3']);
        assert.equal(await has('m3', again.fingerprint), true);
      } finally {
        await set('1');
      }
    });
  });

  describe('DELETE /1.0/images/<fp>', () => {
    it('removes the image from every member that holds it and from the database', async () => {
      const img = unifiedImage('d5');
      await uploaded(img, { 'x-lxd-aliases': 'alias=d5' });
      await locator.ensureOn('default', img.fingerprint, 'm2');
      await locator.ensureOn('default', img.fingerprint, 'm3');
      const r = await env.t.inject({ method: 'DELETE', url: `/1.0/images/${img.fingerprint}` });
      assert.equal(r.statusCode, 202);
      assert.equal((await waitOp(env.t, r.json().operation)).status, 'Success');
      for (const m of ['m1', 'm2', 'm3']) assert.equal(await has(m, img.fingerprint), false, m);
      assert.deepEqual(await rows(img.fingerprint), []);
      assert.equal((await env.t.inject({ method: 'GET', url: `/1.0/images/${img.fingerprint}` })).statusCode, 404);
      assert.equal((await env.t.inject({ method: 'DELETE', url: `/1.0/images/${img.fingerprint}` })).statusCode, 404);
    });

    it('says what remains on an unreachable member and removes it once the member answers', async () => {
      const img = unifiedImage('d6');
      await uploaded(img);
      await locator.ensureOn('default', img.fingerprint, 'm2');
      env.downed.add('m2');
      try {
        const op = await waitOp(env.t, (await env.t.inject({ method: 'DELETE', url: `/1.0/images/${img.fingerprint}` })).json().operation);
        assert.equal(op.status, 'Failure');
        assert.equal(op.err, `Image "${img.fingerprint}" was deleted, but its files remain on member "m2" (Member "m2" is unreachable); they are removed once the member answers again`);
        // Checked while m2 is still down: a sweep can only remove the files once it answers (a
        // fixed wait here raced with a sweep still in flight when m2 came back, on a loaded machine).
        assert.equal(await has('m1', img.fingerprint), false);
        assert.equal(await has('m2', img.fingerprint), true);
        assert.deepEqual(await rows(img.fingerprint), [{ fingerprint: img.fingerprint, member: 'm2', ready: false }]);
        assert.equal((await env.t.db.store.view()).list(images).some((i) => i.record.fingerprint === img.fingerprint), false);
      } finally {
        env.downed.delete('m2');
      }
      // The next delete or upload sweeps; here, another upload.
      await uploaded(unifiedImage('d7'));
      // The sweep removes the files, then the row: wait for both (bounded).
      for (let i = 0; i < 300 && ((await has('m2', img.fingerprint)) || (await rows(img.fingerprint)).length > 0); i++) {
        await new Promise((res) => setTimeout(res, 50));
      }
      assert.equal(await has('m2', img.fingerprint), false);
      assert.deepEqual(await rows(img.fingerprint), []);
    });

    it('keeps the files while another project still has the image', async () => {
      const img = unifiedImage('d8');
      await uploaded(img, { 'x-lxd-aliases': 'alias=d8' });
      await env.t.inject({ method: 'POST', url: '/1.0/projects', payload: { name: 'dp' } });
      const c = await env.t.inject({ method: 'POST', url: '/1.0/images?project=dp', payload: { source: { type: 'image', alias: 'd8', project: 'default' } } });
      assert.equal((await waitOp(env.t, c.json().operation)).status, 'Success');
      assert.equal((await waitOp(env.t, (await env.t.inject({ method: 'DELETE', url: `/1.0/images/${img.fingerprint}` })).json().operation)).status, 'Success');
      assert.equal(await has('m1', img.fingerprint), true);
      assert.equal((await env.t.inject({ method: 'GET', url: `/1.0/images/${img.fingerprint}?project=dp` })).statusCode, 200);
    });
  });
});
