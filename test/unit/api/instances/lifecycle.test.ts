// Lifecycle routes of /1.0/instances/<name> over a real one-member database and a real agent
// service (fake drivers): state changes (and LXD's refusals), status written to the database,
// PUT/PATCH with If-Match and validation, revert when the agent refuses, delete of a running
// instance, rename, snapshots (create, list, get, PATCH, rename, delete) and restore, and the
// lifecycle events they emit. One instance is walked through the whole life, in order.
import { strict as assert } from 'node:assert';
import { ShoalError, ErrorCode } from '../../../../src/shared/index.js';
import { instances } from '../../../../src/state/index.js';
import type { Event } from '../../../../src/api/types/index.js';
import { openInstanceHarness, removeHarnessPki, type InstanceHarness } from './harness.js';

describe('src/api/routes/instances/instance', function () {
  // A real database and gRPC agent on a shared 2-core machine: allow for load.
  this.timeout(20_000);
  let h: InstanceHarness;
  const events: Event[] = [];
  let unsubscribe: (() => void) | undefined;
  before(async function () {
    this.timeout(30_000);
    h = await openInstanceHarness();
    const sub = h.t.deps.events.subscribe({ types: ['lifecycle'], project: 'default', allProjects: true }, (e) => events.push(e));
    unsubscribe = () => sub.dispose();
    const { op } = await h.run('POST', '/1.0/instances', { name: 'web1', source: { type: 'image', alias: 'busybox' } });
    assert.equal(op['status'], 'Success', String(op['err']));
  });
  after(async () => {
    unsubscribe?.();
    await h.close();
    await removeHarnessPki();
  });
  const status = async (name = 'web1'): Promise<string | undefined> => (await h.t.db.store.view()).get(instances, 'default', name)?.record.status;
  const actions = (): string[] => events.map((e) => (e.metadata as { action: string }).action);
  const revision = async (): Promise<number> => (await h.t.db.store.view()).revision;

  describe('instanceStatePut', () => {
    it('starts, freezes, unfreezes, restarts and stops, writing the observed status each time', async () => {
      for (const [action, want] of [['start', 'Running'], ['freeze', 'Frozen'], ['unfreeze', 'Running'], ['restart', 'Running'], ['stop', 'Stopped']] as const) {
        const { op } = await h.run('PUT', '/1.0/instances/web1/state', { action, timeout: 30 });
        assert.equal(op['status'], 'Success', `${action}: ${String(op['err'])}`);
        assert.equal(await status(), want, action);
      }
      for (const a of ['instance-created', 'instance-started', 'instance-paused', 'instance-resumed', 'instance-restarted', 'instance-shutdown']) assert.ok(actions().includes(a), `${a} in ${actions().join(',')}`);
    });

    it('fails the operation as LXD does for a pointless transition and refuses stateful at once', async () => {
      const { op } = await h.run('PUT', '/1.0/instances/web1/state', { action: 'stop' });
      assert.equal(op['status'], 'Failure');
      assert.equal(op['err'], 'The instance is already stopped');
      const stateful = await h.run('PUT', '/1.0/instances/web1/state', { action: 'start', stateful: true });
      assert.equal(stateful.status, 400);
      const bad = await h.run('PUT', '/1.0/instances/web1/state', { action: 'explode' });
      assert.equal(bad.status, 400);
      assert.equal((await h.run('PUT', '/1.0/instances/nope/state', { action: 'start' })).status, 404);
    });

    it('records what the agent reports when a start fails', async () => {
      h.agent.instance.failures.fail('start', new ShoalError(ErrorCode.Internal, 'no init'));
      const { op } = await h.run('PUT', '/1.0/instances/web1/state', { action: 'start' });
      assert.equal(op['status'], 'Failure');
      assert.match(String(op['err']), /no init/);
      assert.equal(await status(), 'Stopped');
    });

    it('GET state comes from the agent', async () => {
      const st = (await h.get('/1.0/instances/web1/state')) as { status: string; status_code: number };
      assert.equal(st.status, 'Stopped');
      assert.equal(st.status_code, 102);
    });
  });

  describe('instancePut / instancePatch', () => {
    it('PATCH merges config, PUT replaces and keeps volatile keys; the agent gets the new spec', async () => {
      const p = await h.run('PATCH', '/1.0/instances/web1', { config: { 'user.role': 'web' } });
      assert.equal(p.op['status'], 'Success', String(p.op['err']));
      const after = (await h.get('/1.0/instances/web1')) as { config: Record<string, string> };
      assert.equal(after.config['user.role'], 'web');
      const put = await h.run('PUT', '/1.0/instances/web1', { config: { 'limits.cpu': '1' }, devices: {}, profiles: ['default'], description: 'web server' });
      assert.equal(put.op['status'], 'Success', String(put.op['err']));
      const i = (await h.get('/1.0/instances/web1')) as { config: Record<string, string>; description: string };
      assert.equal(i.config['user.role'], undefined);
      assert.equal(i.config['limits.cpu'], '1');
      assert.equal(i.description, 'web server');
      assert.ok(Object.keys(i.config).some((k) => k.startsWith('volatile.')));
      const agentInst = [...h.agent.instance.instances.values()].find((x) => x.runtime.spec.name === 'web1');
      assert.equal(agentInst?.runtime.spec.config['limits.cpu'], '1');
    });

    it('refuses a stale If-Match (412), unknown keys and bad devices (400) and changes nothing', async () => {
      const etag = (await h.t.inject({ method: 'GET', url: '/1.0/instances/web1' })).headers['etag'] as string;
      await h.run('PATCH', '/1.0/instances/web1', { config: { 'user.x': '1' } });
      const before = await revision();
      const stale = await h.t.inject({ method: 'PATCH', url: '/1.0/instances/web1', headers: { 'if-match': etag }, payload: { config: { 'user.y': '1' } } });
      assert.equal(stale.statusCode, 412);
      for (const payload of [{ config: { 'limits.bogus': '1' } }, { devices: { d: { type: 'warpdrive' } } }, { profiles: ['nope'] }]) {
        const res = await h.t.inject({ method: 'PATCH', url: '/1.0/instances/web1', payload });
        assert.ok(res.statusCode === 400 || res.statusCode === 404, `${JSON.stringify(payload)} → ${res.body}`);
      }
      assert.equal(await revision(), before);
    });

    it('puts the previous record back when the agent refuses the update', async () => {
      const before = ((await h.get('/1.0/instances/web1')) as { config: Record<string, string> }).config;
      h.agent.instance.failures.fail('update', new ShoalError(ErrorCode.InvalidArgument, 'cgroup says no'));
      const { op } = await h.run('PATCH', '/1.0/instances/web1', { config: { 'limits.processes': '100' } });
      assert.equal(op['status'], 'Failure');
      assert.match(String(op['err']), /cgroup says no/);
      assert.deepEqual(((await h.get('/1.0/instances/web1')) as { config: Record<string, string> }).config, before);
    });
  });

  describe('snapshots', () => {
    it('creates snap0 and a named one, lists, gets with ETag, patches expires_at, renames and deletes', async () => {
      assert.equal((await h.run('POST', '/1.0/instances/web1/snapshots', {})).op['status'], 'Success');
      assert.equal((await h.run('POST', '/1.0/instances/web1/snapshots', { name: 'before-upgrade' })).op['status'], 'Success');
      assert.deepEqual(await h.get('/1.0/instances/web1/snapshots'), ['/1.0/instances/web1/snapshots/before-upgrade', '/1.0/instances/web1/snapshots/snap0']);
      const got = await h.t.inject({ method: 'GET', url: '/1.0/instances/web1/snapshots/snap0' });
      assert.equal(got.statusCode, 200);
      assert.ok(got.headers['etag']);
      assert.equal(got.json().metadata.name, 'snap0');
      const patch = await h.t.inject({ method: 'PATCH', url: '/1.0/instances/web1/snapshots/snap0', payload: { expires_at: '2030-01-01T00:00:00Z' } });
      assert.equal(patch.statusCode, 200, patch.body);
      assert.equal(((await h.get('/1.0/instances/web1/snapshots/snap0')) as { expires_at: string }).expires_at, '2030-01-01T00:00:00.000Z');
      assert.equal((await h.run('POST', '/1.0/instances/web1/snapshots/snap0', { name: 'snap-renamed' })).op['status'], 'Success');
      assert.equal((await h.run('DELETE', '/1.0/instances/web1/snapshots/snap-renamed')).op['status'], 'Success');
      assert.deepEqual(await h.get('/1.0/instances/web1/snapshots'), ['/1.0/instances/web1/snapshots/before-upgrade']);
      assert.equal((await h.run('POST', '/1.0/instances/web1/snapshots', { name: 'before-upgrade' })).status, 409);
      assert.equal((await h.run('POST', '/1.0/instances/web1/snapshots', { name: 'a/b' })).status, 400);
      assert.equal((await h.t.inject({ method: 'GET', url: '/1.0/instances/web1/snapshots/nope' })).statusCode, 404);
      for (const a of ['instance-snapshot-created', 'instance-snapshot-updated', 'instance-snapshot-renamed', 'instance-snapshot-deleted']) assert.ok(actions().includes(a), a);
    });

    it('restores a snapshot: config back to what it was, instance-restored emitted', async () => {
      await h.run('PATCH', '/1.0/instances/web1', { config: { 'user.after': 'yes' } });
      const { op } = await h.run('PUT', '/1.0/instances/web1', { restore: 'before-upgrade' });
      assert.equal(op['status'], 'Success', String(op['err']));
      const i = (await h.get('/1.0/instances/web1')) as { config: Record<string, string> };
      assert.equal(i.config['user.after'], undefined);
      assert.ok(actions().includes('instance-restored'));
      assert.equal((await h.run('PUT', '/1.0/instances/web1', { restore: 'nope' })).status, 404);
    });
  });

  describe('instancePost / instanceDelete', () => {
    it('refuses to rename or delete a running instance, and moves between members', async () => {
      await h.run('PUT', '/1.0/instances/web1/state', { action: 'start' });
      const del = await h.run('DELETE', '/1.0/instances/web1');
      assert.equal(del.status, 400);
      assert.equal(del.body['error'], 'Instance is running');
      assert.equal((await h.run('POST', '/1.0/instances/web1', { name: 'web2' })).status, 400);
      const move = await h.run('POST', '/1.0/instances/web1?target=m2', { name: 'web1', migration: true });
      assert.equal(move.status, 400);
      assert.match(String(move.body['error']), /not supported/);
      await h.run('PUT', '/1.0/instances/web1/state', { action: 'stop', force: true });
      assert.equal(await status(), 'Stopped');
    });

    it('renames a stopped instance with its snapshots', async () => {
      const { op } = await h.run('POST', '/1.0/instances/web1', { name: 'web2' });
      assert.equal(op['status'], 'Success', String(op['err']));
      assert.equal(await status('web1'), undefined);
      assert.equal(await status('web2'), 'Stopped');
      assert.deepEqual(await h.get('/1.0/instances/web2/snapshots'), ['/1.0/instances/web2/snapshots/before-upgrade']);
      assert.ok(actions().includes('instance-renamed'));
      assert.equal((await h.run('POST', '/1.0/instances/web2', { name: 'bad_name' })).status, 400);
    });

    it('deletes a stopped instance with its snapshots, on the agent and in the database', async () => {
      const { op } = await h.run('DELETE', '/1.0/instances/web2');
      assert.equal(op['status'], 'Success', String(op['err']));
      assert.equal(await status('web2'), undefined);
      assert.equal([...h.agent.instance.instances.values()].filter((x) => x.runtime.spec.name.startsWith('web')).length, 0);
      assert.ok(actions().includes('instance-deleted'));
      assert.equal((await h.run('DELETE', '/1.0/instances/web2')).status, 404);
    });
  });
});
