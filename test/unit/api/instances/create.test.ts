// POST /1.0/instances and GET /1.0/instances[/<name>] over a real one-member database and a real
// agent service (fake drivers): create from an image alias/fingerprint and from none, placement
// and target errors, validation refusals that change nothing, agent failures that revert the
// record, listing at recursion 0/1/2 with filters and projects.
import { strict as assert } from 'node:assert';
import { ShoalError, ErrorCode } from '../../../../src/shared/index.js';
import { instances } from '../../../../src/state/index.js';
import { FAKE_FP, openInstanceHarness, removeHarnessPki, type InstanceHarness } from './harness.js';

describe('src/api/routes/instances', function () {
  // A real database and gRPC agent on a shared 2-core machine: allow for load.
  this.timeout(20_000);
  let h: InstanceHarness;
  before(async function () {
    this.timeout(30_000);
    h = await openInstanceHarness();
  });
  after(async () => {
    await h.close();
    await removeHarnessPki();
  });
  const revision = async (): Promise<number> => (await h.t.db.store.view()).revision;

  describe('instancesPost', () => {
    it('creates an instance from an alias: 202 operation with resources, then Stopped with volatile keys and image.* config', async () => {
      const { status, op, body } = await h.run('POST', '/1.0/instances', { name: 'c1', source: { type: 'image', alias: 'busybox' } });
      assert.equal(status, 202, JSON.stringify(body));
      assert.equal(body['type'], 'async');
      assert.deepEqual((body['metadata'] as { resources: unknown }).resources, { instances: ['/1.0/instances/c1'] });
      assert.equal(op['status'], 'Success', String(op['err']));
      const inst = (await h.get('/1.0/instances/c1')) as Record<string, unknown> & { config: Record<string, string>; expanded_devices: Record<string, unknown> };
      assert.equal(inst['status'], 'Stopped');
      assert.equal(inst['status_code'], 102);
      assert.equal(inst['location'], 'm1');
      assert.equal(inst.config['volatile.base_image'], FAKE_FP);
      assert.equal(inst.config['image.os'], 'busybox');
      assert.ok(Object.keys(inst.config).some((k) => k.startsWith('volatile.eth0.')), JSON.stringify(inst.config));
      assert.deepEqual(Object.keys(inst.expanded_devices).sort(), ['eth0', 'root']);
      assert.deepEqual(inst['profiles'], ['default']);
      assert.ok(h.agent.instance.instances.size >= 1);
    });

    it('creates from a fingerprint prefix and from source none', async () => {
      const a = await h.run('POST', '/1.0/instances', { name: 'c2', source: { type: 'image', fingerprint: FAKE_FP.slice(0, 12) } });
      assert.equal(a.op['status'], 'Success', String(a.op['err']));
      const b = await h.run('POST', '/1.0/instances?target=m1', { name: 'empty1', source: { type: 'none' } });
      assert.equal(b.op['status'], 'Success', String(b.op['err']));
      assert.equal(((await h.get('/1.0/instances/empty1')) as { status: string }).status, 'Stopped');
    });

    it('answers ?dry-run=1 with the chosen member and the reasons, writing nothing', async () => {
      const before = await revision();
      const ok = await h.t.inject({ method: 'POST', url: '/1.0/instances?dry-run=1', payload: { name: 'dry1', source: { type: 'image', alias: 'busybox' } } });
      assert.equal(ok.statusCode, 200, ok.body);
      const md = ok.json().metadata as { placed: boolean; member: string; explanation: string; rejections: unknown[] };
      assert.equal(md.placed, true);
      assert.equal(md.member, 'm1');
      assert.ok(md.explanation.length > 0);
      const none = await h.t.inject({ method: 'POST', url: '/1.0/instances?dry-run=1', payload: { name: 'dry2', config: { 'limits.memory': '100000GiB' }, source: { type: 'none' } } });
      assert.equal(none.statusCode, 200, none.body);
      const nmd = none.json().metadata as { placed: boolean; member: string; rejections: Array<{ member: string; reason: string }> };
      assert.equal(nmd.placed, false);
      assert.equal(nmd.member, '');
      assert.match(nmd.rejections.map((r) => `${r.member}: ${r.reason}`).join('; '), /m1: .*memory/i);
      assert.equal((await h.t.inject({ method: 'POST', url: '/1.0/instances?dry-run=1&target=nosuch', payload: { name: 'dry3', source: { type: 'none' } } })).statusCode, 404);
      assert.equal(await revision(), before);
      assert.equal((await h.t.db.store.view()).get(instances, 'default', 'dry1'), undefined);
    });

    it('refuses bad requests synchronously with LXD errors and writes nothing', async () => {
      const before = await revision();
      for (const [payload, url, code, re] of [
        [{ name: '1bad', source: { type: 'none' } }, '/1.0/instances', 400, /Invalid instance name/],
        [{ name: 'bad_name', source: { type: 'none' } }, '/1.0/instances', 400, /Invalid instance name/],
        [{ name: 'vm1', type: 'virtual-machine', source: { type: 'none' } }, '/1.0/instances', 400, /Virtual machines/],
        [{ name: 'k1', config: { 'limits.bogus': '1' }, source: { type: 'none' } }, '/1.0/instances', 400, /limits\.bogus/],
        [{ name: 'k2', devices: { d: { type: 'warpdrive' } }, source: { type: 'none' } }, '/1.0/instances', 400, /warpdrive|type/],
        [{ name: 'k3', profiles: ['nope'], source: { type: 'none' } }, '/1.0/instances', 404, /nope/],
        [{ name: 'k4', source: { type: 'image', alias: 'nope' } }, '/1.0/instances', 404, /Image "nope" not found/],
        [{ name: 'k5', source: { type: 'migration' } }, '/1.0/instances', 400, /Migration/],
        [{ name: 'k6', source: {} }, '/1.0/instances', 400, /source type/],
        [{ name: 'c1', source: { type: 'none' } }, '/1.0/instances', 409, /already exists/],
        [{ name: 'k7', source: { type: 'none' } }, '/1.0/instances?target=m9', 404, /m9/],
        [{ name: 'k8', source: { type: 'none' } }, '/1.0/instances?project=nope', 404, /Project "nope"/],
        [{ name: 'k9', source: { type: 'none' }, bogus: 1 }, '/1.0/instances', 400, /bogus|additional/i],
        [{ name: 'k10', config: { 'limits.memory': '64GiB' }, source: { type: 'none' } }, '/1.0/instances', 400, /memory/],
      ] as const) {
        const res = await h.t.inject({ method: 'POST', url, payload });
        assert.equal(res.statusCode, code, `${JSON.stringify(payload)} ${url} → ${res.body}`);
        assert.equal(res.json().type, 'error');
        assert.match(res.json().error, re);
      }
      assert.equal(await revision(), before);
    });

    it('starts the instance after creating it when asked (start: true)', async () => {
      const { op } = await h.run('POST', '/1.0/instances', { name: 'quick', start: true, source: { type: 'none' } });
      assert.equal(op['status'], 'Success', String(op['err']));
      assert.equal(((await h.get('/1.0/instances/quick')) as { status: string }).status, 'Running');
      assert.equal((await h.run('PUT', '/1.0/instances/quick/state', { action: 'stop', force: true })).op['status'], 'Success');
      assert.equal((await h.run('DELETE', '/1.0/instances/quick')).op['status'], 'Success');
    });

    it('names an unnamed instance with a petname', async () => {
      const { op, body } = await h.run('POST', '/1.0/instances', { source: { type: 'none' } });
      assert.equal(op['status'], 'Success', String(op['err']));
      const url = ((body['metadata'] as { resources: { instances: string[] } }).resources.instances[0])!;
      assert.match(url, /^\/1\.0\/instances\/[a-z]+-[a-z]+$/);
      assert.equal((await h.run('DELETE', url)).op['status'], 'Success');
    });

    it('reverts the record when the agent fails to create, and the operation carries the error', async () => {
      h.agent.instance.failures.fail('create', new ShoalError(ErrorCode.Internal, 'disk on fire'));
      const { op } = await h.run('POST', '/1.0/instances', { name: 'doomed', source: { type: 'none' } });
      assert.equal(op['status'], 'Failure');
      assert.match(String(op['err']), /disk on fire/);
      assert.equal((await h.t.db.store.view()).get(instances, 'default', 'doomed'), undefined);
      assert.equal((await h.t.inject({ method: 'GET', url: '/1.0/instances/doomed' })).statusCode, 404);
    });
  });

  describe('instancesGet', () => {
    it('lists URLs at recursion 0, objects at 1 (from the database), full objects with state at 2', async () => {
      const urls = (await h.get('/1.0/instances')) as string[];
      assert.deepEqual(urls, ['/1.0/instances/c1', '/1.0/instances/c2', '/1.0/instances/empty1']);
      const objs = (await h.get('/1.0/instances?recursion=1')) as Array<{ name: string; status: string }>;
      assert.deepEqual(objs.map((o) => [o.name, o.status]), [['c1', 'Stopped'], ['c2', 'Stopped'], ['empty1', 'Stopped']]);
      const fulls = (await h.get('/1.0/instances?recursion=2')) as Array<{ name: string; state: { status: string; disk: unknown }; snapshots: unknown[]; backups: unknown[] }>;
      assert.equal(fulls.length, 3);
      assert.equal(fulls[0]!.state.status, 'Stopped');
      assert.deepEqual(fulls[0]!.snapshots, []);
      assert.deepEqual(fulls[0]!.backups, []);
    });

    it('does not call the agent at recursion 1', async () => {
      const before = h.agentLookups();
      await h.get('/1.0/instances?recursion=1');
      await h.get('/1.0/instances/c1');
      assert.equal(h.agentLookups(), before);
    });

    it('does not call the agent for stopped instances at recursion 2', async () => {
      const before = h.agentLookups();
      const fulls = (await h.get('/1.0/instances?recursion=2')) as Array<{ state: { status: string } }>;
      assert.ok(fulls.length > 0 && fulls.every((f) => f.state.status === 'Stopped'));
      assert.equal(h.agentLookups(), before);
    });

    it('filters, lists all projects with ?project= URLs, and refuses project with all-projects', async () => {
      assert.deepEqual(await h.get('/1.0/instances?filter=name+eq+c2'), ['/1.0/instances/c2']);
      assert.deepEqual(await h.get('/1.0/instances?recursion=1&filter=status+eq+running'), []);
      assert.equal(((await h.get('/1.0/instances?all-projects=true')) as string[]).length, 3);
      const res = await h.t.inject({ method: 'GET', url: '/1.0/instances?all-projects=true&project=default' });
      assert.equal(res.statusCode, 400);
      assert.equal((await h.t.inject({ method: 'GET', url: '/1.0/instances?project=nope' })).statusCode, 404);
    });

    it('answers 404 for a missing instance and gives an ETag', async () => {
      const res = await h.t.inject({ method: 'GET', url: '/1.0/instances/nope' });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().error, 'Instance "nope" not found');
      assert.ok((await h.t.inject({ method: 'GET', url: '/1.0/instances/c1' })).headers['etag']);
    });
  });
});
