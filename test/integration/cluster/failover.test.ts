// Heartbeats and failover with real shoald members on loopback (test/support/shoald-cluster.ts):
// the leader records every member's resources and heartbeat (the scheduler's input); kill -9 of
// a voter makes it Offline and an online standby takes its vote; kill -9 of the leader elects a
// new one and the API keeps answering (reads and writes) through a survivor. One 4-member cluster
// (3 voters + 1 standby) with cluster.offline_threshold 10 s, closed in `after`.
import { strict as assert } from 'node:assert';
import { ShoalCluster, until, type ShoalMember } from '../../support/shoald-cluster.js';

describe('src/cluster/duties (real members)', () => {
  let c: ShoalCluster;
  before(async function () {
    this.timeout(600_000);
    c = await ShoalCluster.start({ members: 4, config: { 'cluster.offline_threshold': '10' } });
  });
  after(async function () {
    this.timeout(60_000);
    await c?.close();
  });

  const statusOf = async (via: ShoalMember): Promise<Record<string, { status: string; roles: string[] }>> =>
    Object.fromEntries((await c.list(via)).map((m) => [m.server_name, { status: m.status, roles: m.roles }]));

  it('records heartbeats and each member resources (CPUs, memory, free bytes of pool default)', async function () {
    this.timeout(60_000);
    const m = c.member(0);
    const rec = await until('resources of every member', 30_000, async () => {
      const dump = JSON.parse((await c.shoald(m, ['db', 'dump', 'members/'], { check: true })).stdout) as Array<{ value: { record: { server_name: string; last_heartbeat: string; resources: { cpu: number; memory_bytes: number; storage_pools: Record<string, number> } } } }>;
      const all = dump.map((d) => d.value.record);
      return all.length === 4 && all.every((r) => r.resources.cpu > 0) ? all : undefined;
    });
    for (const r of rec) {
      assert.ok(r.resources.memory_bytes > 0, r.server_name);
      assert.ok(Date.now() - Date.parse(r.last_heartbeat) < 20_000, r.server_name);
    }
    // Pool `default` of the bootstrap member (joiners create it too when they join).
    assert.ok((rec.find((r) => r.server_name === 'scl1')?.resources.storage_pools['default'] ?? 0) > 0);
  });

  it('shows a killed voter Offline and promotes the standby in its place', async function () {
    this.timeout(120_000);
    const leader = await c.leader(c.member(0));
    const victim = c.members.find((m) => m !== leader && m.name !== 'scl4')!;
    await c.kill(victim);
    // The standby is promoted first, then the offline voter is demoted (two membership changes):
    // wait for both, or a loaded machine sees the state in between.
    const st = await until('the victim offline and demoted, the standby promoted', 60_000, async () => {
      const s = await statusOf(leader);
      return s[victim.name]?.status === 'Offline' && s['scl4']?.roles.includes('database') && !s[victim.name]?.roles.includes('database') ? s : undefined;
    });
    assert.deepEqual(st[victim.name]?.roles, ['database-standby']);
    await c.restart(victim);
    await until('the victim back online', 60_000, async () => ((await statusOf(leader))[victim.name]?.status === 'Online' ? true : undefined));
  });

  it('elects a new leader after kill -9 of the leader and keeps the API answering through a survivor', async function () {
    this.timeout(120_000);
    const leader = await c.leader(c.member(0));
    const survivor = c.members.find((m) => m !== leader && m.proc?.running)!;
    await c.kill(leader);
    const t0 = Date.now();
    await until('a write through a survivor', 30_000, async () => {
      const res = await c.request(survivor, 'PATCH', '/1.0', { config: { 'cluster.offline_threshold': '11' } }, 5000);
      return res.status === 200 ? true : undefined;
    });
    const failoverMs = Date.now() - t0;
    // The database-leader role follows the Raft leader within a role round.
    const next = await until('the new leader in the member list', 10_000, async () => {
      const l = await c.leader(survivor);
      return l.name === leader.name ? undefined : l;
    });
    assert.notEqual(next.name, leader.name);
    const list = await c.list(survivor);
    assert.equal(list.length, 4);
    process.stdout.write(`      (write acknowledged ${failoverMs} ms after kill -9 of the leader)\n`);
    await c.restart(leader);
  });
});
