// /1.0/instances against a REAL 3-member ShoalCluster (shoald processes, Raft, LXC containers,
// dir pools): launches pinned with ?target= on each member and one placed by the scheduler, the
// lifecycle (start, freeze, unfreeze, restart, stop), a poweroff inside a container reflected in
// the database by the status reconciler, rename, snapshot + restore, delete, an unknown target.
// One cluster for the whole file (the machine is small); `after` removes everything even on failure.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ShoalCluster, type RestResponse, type ShoalMember } from '../../../support/shoald-cluster.js';

describe('src/api/routes/instances (3-member cluster)', function () {
  this.timeout(600_000);
  let c: ShoalCluster;
  let m1: ShoalMember;
  let fingerprint = '';

  /** A REST call; a 503 "No cluster leader" (refused by routing, before any handler ran) is retried for 30 s. */
  const req = async (method: string, path: string, body?: unknown, via?: ShoalMember): Promise<RestResponse> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await c.request(via ?? m1, method, path, body, 120_000);
      if (res.status !== 503 || !res.body.error.startsWith('No cluster leader') || Date.now() > deadline) return res;
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  /** An async request and its final operation. */
  const op = async (method: string, path: string, body?: unknown, via?: ShoalMember): Promise<{ status: string; err: string; metadata: Record<string, unknown> | null }> => {
    const res = await req(method, path, body, via);
    assert.equal(res.status, 202, `${method} ${path}: ${res.status} ${res.body.error}`);
    const waited = await req('GET', `${res.body.operation}/wait?timeout=300`);
    return waited.body.metadata as { status: string; err: string; metadata: Record<string, unknown> | null };
  };
  const ok = async (method: string, path: string, body?: unknown, via?: ShoalMember): Promise<void> => {
    const o = await op(method, path, body, via);
    assert.equal(o.status, 'Success', `${method} ${path}: ${o.err}`);
  };
  const instance = async (name: string): Promise<{ status: string; location: string }> => {
    const res = await req('GET', `/1.0/instances/${name}`);
    assert.equal(res.status, 200, res.body.error);
    return res.body.metadata as { status: string; location: string };
  };

  before(async () => {
    c = await ShoalCluster.start({ members: 3, tag: 'ai', storageBackend: 'none', config: { 'cluster.offline_threshold': '10' } });
    m1 = c.member(0);
    // Unprivileged containers must traverse the cluster's temp root (mkdtemp makes it 0700).
    await chmod(c.root, 0o711);
    // Pool "local" (dir) on every member, the LXD two-phase way, and the default profile's root disk on it.
    for (const m of c.members) {
      const r = await req('POST', `/1.0/storage-pools?target=${m.name}`, { name: 'local', driver: 'dir' });
      assert.ok(r.status < 300, r.body.error);
    }
    const pool = await req('POST', '/1.0/storage-pools', { name: 'local', driver: 'dir' });
    assert.ok(pool.status < 300 || pool.status === 202, pool.body.error);
    if (pool.status === 202) await req('GET', `${pool.body.operation}/wait?timeout=120`);
    const prof = await req('PATCH', '/1.0/profiles/default', { devices: { root: { type: 'disk', path: '/', pool: 'local' } } });
    assert.equal(prof.status, 200, prof.body.error);
    const img = await op('POST', '/1.0/images', { source: { type: 'busybox' } });
    assert.equal(img.status, 'Success', img.err);
    fingerprint = String(img.metadata?.['fingerprint']);
    assert.match(fingerprint, /^[0-9a-f]{64}$/);
    // Wait for a heartbeat to record the new pool's size on every member (the scheduler's input).
    await new Promise((r) => setTimeout(r, 6_000));
  });
  after(async function () {
    // Keep the members' logs of a failed run for diagnosis (the cluster's dir goes with close()).
    if (c && this.test?.parent?.tests.some((t) => t.state === 'failed')) {
      await rm('/tmp/shoal-ai-failed-logs', { recursive: true, force: true });
      await mkdir('/tmp/shoal-ai-failed-logs', { recursive: true });
      for (const m of c.members) await cp(m.logFile, join('/tmp/shoal-ai-failed-logs', `${m.name}.log`)).catch(() => undefined); // a member that never started has no log
    }
    await c?.close();
  });

  it('launches with ?target= on each member and one placed by the scheduler; an unknown target is 404', async () => {
    const names = c.members.map((m, i) => ({ name: `ai-t${i + 1}`, target: m.name }));
    const results = await Promise.all(names.map((n) => op('POST', `/1.0/instances?target=${n.target}`, { name: n.name, source: { type: 'image', fingerprint } })));
    for (const [i, r] of results.entries()) assert.equal(r.status, 'Success', `${names[i]!.name}: ${r.err}`);
    for (const n of names) assert.deepEqual([(await instance(n.name)).location, (await instance(n.name)).status], [n.target, 'Stopped']);
    await ok('POST', '/1.0/instances', { name: 'ai-free', source: { type: 'image', fingerprint } }, c.member(2));
    assert.ok(c.members.map((m) => m.name).includes((await instance('ai-free')).location));
    const bad = await req('POST', '/1.0/instances?target=nosuch', { name: 'ai-bad', source: { type: 'none' } });
    assert.equal(bad.status, 404, bad.body.error);
    assert.equal((await req('GET', '/1.0/instances/ai-bad')).status, 404);
    const list = (await req('GET', '/1.0/instances')).body.metadata as string[];
    assert.deepEqual(list, ['/1.0/instances/ai-free', '/1.0/instances/ai-t1', '/1.0/instances/ai-t2', '/1.0/instances/ai-t3']);
  });

  it('starts, freezes, unfreezes, restarts and stops an instance on another member; recursion=1 shows the database status', async () => {
    for (const [action, want] of [['start', 'Running'], ['freeze', 'Frozen'], ['unfreeze', 'Running'], ['restart', 'Running']] as const) {
      await ok('PUT', '/1.0/instances/ai-t2/state', { action, timeout: 30 });
      assert.equal((await instance('ai-t2')).status, want, action);
    }
    const state = (await req('GET', '/1.0/instances/ai-t2/state')).body.metadata as { status: string; pid: number };
    assert.equal(state.status, 'Running');
    assert.ok(state.pid > 0);
    const listed = (await req('GET', '/1.0/instances?recursion=1&filter=name+eq+ai-t2')).body.metadata as Array<{ status: string }>;
    assert.equal(listed[0]?.status, 'Running');
    const del = await req('DELETE', '/1.0/instances/ai-t2');
    assert.equal(del.status, 400);
    assert.equal(del.body.error, 'Instance is running');
    await ok('PUT', '/1.0/instances/ai-t2/state', { action: 'stop', force: true });
    assert.equal((await instance('ai-t2')).status, 'Stopped');
  });

  it('records a poweroff done behind the API (the status reconciler of the member)', async () => {
    await ok('PUT', '/1.0/instances/ai-t3/state', { action: 'start' });
    const m3 = c.member((await instance('ai-t3')).location);
    await new Promise<void>((resolve, reject) =>
      execFile('lxc-stop', ['-P', join(m3.dir, 'containers'), '-n', 'ai-t3', '-k'], (err) => (err ? reject(err) : resolve())),
    );
    const deadline = Date.now() + 30_000;
    while ((await instance('ai-t3')).status !== 'Stopped') {
      assert.ok(Date.now() < deadline, 'the poweroff never reached the database');
      await new Promise((r) => setTimeout(r, 500));
    }
  });

  it('renames, snapshots and restores, then deletes everything', async () => {
    await ok('POST', '/1.0/instances/ai-t1', { name: 'ai-r1' });
    assert.equal((await req('GET', '/1.0/instances/ai-t1')).status, 404);
    await ok('POST', '/1.0/instances/ai-r1/snapshots', { name: 's0' });
    await ok('PATCH', '/1.0/instances/ai-r1', { config: { 'user.after': '1' } });
    await ok('PUT', '/1.0/instances/ai-r1', { restore: 's0' });
    const r1 = (await req('GET', '/1.0/instances/ai-r1')).body.metadata as { config: Record<string, string> };
    assert.equal(r1.config['user.after'], undefined);
    for (const n of ['ai-r1', 'ai-t2', 'ai-t3', 'ai-free']) await ok('DELETE', `/1.0/instances/${n}`);
    assert.deepEqual((await req('GET', '/1.0/instances')).body.metadata, []);
  });
});
