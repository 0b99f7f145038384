// The /1.0/cluster API beyond joins, against two real shoald members on loopback: events relayed
// between members (src/daemon/event-relay.ts: an event raised on the leader reaches `/1.0/events`
// listeners on every member exactly once), cluster groups, and member PUT/PATCH (failure domain,
// manual roles, groups), member evacuate/restore. One 2-member cluster, closed in `after`; requests over the unix sockets.
import { strict as assert } from 'node:assert';
import { WebSocket } from 'ws';
import { ShoalCluster, until, type ShoalMember } from '../../support/shoald-cluster.js';

interface SeenEvent {
  type: string;
  location?: string;
  metadata: { action?: string; source?: string };
}

/** Opens `/1.0/events?type=lifecycle` on a member; resolves once connected. */
function listen(m: ShoalMember): Promise<{ seen: SeenEvent[]; close: () => void }> {
  const seen: SeenEvent[] = [];
  const ws = new WebSocket(`ws+unix://${m.unixSocket}:/1.0/events?type=lifecycle`);
  ws.on('message', (data) => seen.push(JSON.parse(String(data)) as SeenEvent));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ seen, close: () => ws.terminate() }));
    ws.once('error', reject);
  });
}

describe('src/api/routes/cluster (real members)', () => {
  let c: ShoalCluster;
  before(async function () {
    this.timeout(300_000);
    c = await ShoalCluster.start({ members: 2, tag: 'cl' });
  });
  after(async function () {
    this.timeout(60_000);
    await c?.close();
  });

  it('relays an event raised on the leader to listeners on every member, once', async function () {
    this.timeout(60_000);
    const leader = await c.leader(c.member(0));
    const follower = c.members.find((m) => m !== leader)!;
    const listeners = await Promise.all(c.members.map((m) => listen(m)));
    try {
      const res = await c.request(follower, 'POST', '/1.0/profiles', { name: 'relayed', config: {}, devices: {} });
      assert.equal(res.status, 201, res.body.error);
      const created = (l: { seen: SeenEvent[] }): SeenEvent[] => l.seen.filter((e) => e.metadata.action === 'profile-created');
      await until('the event on every member', 10_000, async () => (listeners.every((l) => created(l).length > 0) ? true : undefined));
      await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive within a relay round
      for (const l of listeners) {
        assert.deepEqual(
          created(l).map((e) => [e.type, e.location, e.metadata.source]),
          [['lifecycle', leader.name, '/1.0/profiles/relayed']],
        );
      }
    } finally {
      for (const l of listeners) l.close();
    }
  });

  describe('groups', () => {
    it('creates, lists, renames, updates and deletes a group, and keeps "default"', async function () {
      this.timeout(60_000);
      const [m1, m2] = [c.member(0), c.member(1)];
      const post = await c.request(m2, 'POST', '/1.0/cluster/groups', { name: 'gpu', description: 'GPUs', members: [m2.name] });
      assert.equal(post.status, 201, post.body.error);
      const list = await c.request(m1, 'GET', '/1.0/cluster/groups?recursion=1');
      assert.deepEqual(list.body.metadata, [
        { name: 'default', description: 'Default cluster group', members: [m1.name, m2.name] },
        { name: 'gpu', description: 'GPUs', members: [m2.name] },
      ]);
      const ren = await c.request(m1, 'POST', '/1.0/cluster/groups/gpu', { name: 'fast' });
      assert.equal(ren.status, 201, ren.body.error);
      const patch = await c.request(m1, 'PATCH', '/1.0/cluster/groups/fast', { members: [m1.name, m2.name] });
      assert.equal(patch.status, 200, patch.body.error);
      const got = await c.request(m1, 'GET', '/1.0/cluster/groups/fast');
      assert.deepEqual(got.body.metadata, { name: 'fast', description: 'GPUs', members: [m1.name, m2.name] });
      assert.match(String(got.headers['etag']), /^"[0-9a-f]+"$/);
      const unknown = await c.request(m1, 'POST', '/1.0/cluster/groups', { name: 'x', members: ['nobody'] });
      assert.equal(unknown.status, 404);
      const delDefault = await c.request(m1, 'DELETE', '/1.0/cluster/groups/default');
      assert.deepEqual([delDefault.status, delDefault.body.error], [400, 'Cluster group "default" cannot be deleted']);
      const del = await c.request(m1, 'DELETE', '/1.0/cluster/groups/fast');
      assert.equal(del.status, 200, del.body.error);
      assert.deepEqual((await c.request(m1, 'GET', '/1.0/cluster/groups')).body.metadata, ['/1.0/cluster/groups/default']);
    });
  });

  describe('member PUT/PATCH', () => {
    it('sets the failure domain, description and manual roles, and keeps the automatic ones', async function () {
      this.timeout(60_000);
      const m2 = c.member(1);
      const res = await c.request(c.member(0), 'PATCH', `/1.0/cluster/members/${m2.name}`, { failure_domain: 'rack2', description: 'second', roles: ['event-hub'] });
      assert.equal(res.status, 200, res.body.error);
      const got = (await c.request(m2, 'GET', `/1.0/cluster/members/${m2.name}`)).body.metadata as { failure_domain: string; description: string; roles: string[] };
      assert.deepEqual([got.failure_domain, got.description, got.roles.filter((r) => r !== 'database-leader')], ['rack2', 'second', ['database', 'event-hub']]);
      const bad = await c.request(m2, 'PATCH', `/1.0/cluster/members/${m2.name}`, { roles: ['bogus'] });
      assert.deepEqual([bad.status, bad.body.error], [400, 'Invalid cluster role "bogus"']);
      const missing = await c.request(m2, 'PUT', '/1.0/cluster/members/nobody', {});
      assert.deepEqual([missing.status, missing.body.error], [404, 'Member "nobody" not found']);
    });
  });

  describe('member state', () => {
    /** POSTs the action and waits for its operation; returns the operation's status and error. */
    async function act(via: ShoalMember, name: string, action: string): Promise<[string, string]> {
      const res = await c.request(via, 'POST', `/1.0/cluster/members/${name}/state`, { action });
      assert.equal(res.status, 202, res.body.error);
      const wait = await c.request(via, 'GET', `${res.body.operation}/wait?timeout=20`);
      const op = wait.body.metadata as { status: string; err: string };
      return [op.status, op.err];
    }

    it('evacuates a member without instances and restores it', async function () {
      this.timeout(60_000);
      const [m1, m2] = [c.member(0), c.member(1)];
      assert.deepEqual(await act(m1, m2.name, 'evacuate'), ['Success', '']);
      const st = (await c.list(m1)).find((m) => m.server_name === m2.name);
      assert.deepEqual([st?.status, st?.message], ['Evacuated', 'Unavailable due to maintenance']);
      assert.deepEqual(await act(m1, m2.name, 'evacuate'), ['Failure', `Member "${m2.name}" is already evacuated`]);
      assert.deepEqual(await act(m2, m2.name, 'restore'), ['Success', '']);
      assert.equal((await c.list(m1)).find((m) => m.server_name === m2.name)?.status, 'Online');
    });
  });
});
