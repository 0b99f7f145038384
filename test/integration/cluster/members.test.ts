// Member removal and rejoin with real shoald members on loopback (3 voters + 1 standby,
// cluster.offline_threshold 10 s): removing an online voter promotes the standby, which then
// fetches the cluster CA key; the removed daemon resets itself and rejoins under its old name with
// a new token and a Raft id never used before; an offline member is removed only with force (its
// record, trust entry and placement key go); removing the leader hands the leadership off first.
// One cluster for the file, closed in `after`.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ShoalCluster, until, type ShoalMember } from '../../support/shoald-cluster.js';

describe('src/cluster/member-removal (real members)', () => {
  let c: ShoalCluster;
  before(async function () {
    this.timeout(600_000);
    c = await ShoalCluster.start({ members: 4, tag: 'cl', config: { 'cluster.offline_threshold': '10' } });
  });
  after(async function () {
    this.timeout(60_000);
    await c?.close();
  });

  const roles = async (via: ShoalMember): Promise<Record<string, string>> =>
    Object.fromEntries((await c.list(via)).map((m) => [m.server_name, `${m.status} ${m.roles.join(',')}`]));
  const raftIds = async (via: ShoalMember): Promise<Record<string, number>> =>
    Object.fromEntries([...(await c.dump(via, 'members/')).values()].map((r) => [r['server_name'] as string, r['raft_id'] as number]));

  let removed: ShoalMember;

  it('answers 404 for an unknown member', async () => {
    const res = await c.request(c.member(0), 'DELETE', '/1.0/cluster/members/nobody');
    assert.deepEqual([res.status, res.body.error], [404, 'Member "nobody" not found']);
  });

  it('removes an online voter, promotes the standby in its place, and the removed daemon resets itself', async function () {
    this.timeout(120_000);
    const leader = await c.leader(c.member(0));
    removed = c.members.find((m) => m !== leader && m.name !== 'cl4')!;
    const via = c.members.find((m) => m !== leader && m !== removed)!;
    const res = await c.request(via, 'DELETE', `/1.0/cluster/members/${removed.name}`);
    assert.equal(res.status, 200, res.body.error);
    const st = await until('the standby promoted', 30_000, async () => {
      const r = await roles(leader);
      return r['cl4'] === 'Online database' ? r : undefined;
    });
    assert.equal(st[removed.name], undefined);
    await until('the removed daemon uninitialized', 30_000, async () => (existsSync(join(removed.dir, 'member.json')) ? undefined : true));
    assert.equal(existsSync(join(removed.dir, 'certs', 'server.crt')), false);
  });

  it('gives the promoted standby the cluster CA key', async function () {
    this.timeout(60_000);
    await until('the CA key on cl4', 30_000, async () => (existsSync(join(c.member('cl4').dir, 'certs', 'cluster-ca.key')) ? true : undefined));
  });

  it('rejoins the removed member under its name with a new token and a Raft id never used before', async function () {
    this.timeout(180_000);
    const before = await raftIds(c.member('cl4'));
    await c.join(removed, c.member('cl4'));
    const after = await raftIds(c.member('cl4'));
    const maxBefore = Math.max(...Object.values(before), 4);
    assert.ok((after[removed.name] ?? 0) > maxBefore, `new raft id ${after[removed.name]} after ${JSON.stringify(before)}`);
    assert.equal((await roles(removed))[removed.name], 'Online database-standby');
  });

  it('refuses to remove an offline member without force, and removes it with force', async function () {
    this.timeout(120_000);
    await c.kill(removed);
    const via = c.member('cl4');
    await until('the member offline', 40_000, async () => ((await roles(via))[removed.name]?.startsWith('Offline') ? true : undefined));
    const refused = await c.request(via, 'DELETE', `/1.0/cluster/members/${removed.name}`);
    assert.deepEqual([refused.status, refused.body.error], [400, `Member "${removed.name}" is offline: remove it with force (it must then be wiped before it rejoins)`]);
    const res = await c.request(via, 'DELETE', `/1.0/cluster/members/${removed.name}?force=1`);
    assert.equal(res.status, 200, res.body.error);
    const db = await c.dump(via);
    const left = [...db.entries()].filter(([k, r]) => k === `members/${removed.name}` || k === `placement/${removed.name}` || (k.startsWith('certificates/') && r['name'] === removed.name));
    assert.deepEqual(left, []);
    assert.equal((await roles(via))[removed.name], undefined);
  });

  it('removes the leader by handing the leadership off first', async function () {
    this.timeout(120_000);
    const leader = await c.leader(c.member('cl4'));
    const via = c.members.find((m) => m !== leader && m !== removed && m.proc?.running)!;
    const res = await c.request(via, 'DELETE', `/1.0/cluster/members/${leader.name}`);
    assert.equal(res.status, 200, res.body.error);
    const next = await c.leader(via);
    assert.notEqual(next.name, leader.name);
    await until('the old leader gone from the list', 30_000, async () => ((await roles(via))[leader.name] === undefined ? true : undefined));
    const write = await c.request(via, 'PATCH', '/1.0', { config: { 'cluster.offline_threshold': '11' } });
    assert.equal(write.status, 200, write.body.error);
  });
});
