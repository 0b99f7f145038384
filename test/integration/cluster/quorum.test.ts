// Quorum loss and `shoald cluster recover` with real shoald members on loopback: with two of three
// voters killed, writes through the survivor fail at once with a 503 that says quorum is lost and
// how to recover; `shoald cluster recover` on the survivor (online, through its daemon) makes it
// the sole voter and it serves writes again; the lost members are then removed with force and one
// of them rejoins, under its old name, with a new token from a wiped state dir. One cluster, in order.
import { strict as assert } from 'node:assert';
import { ShoalCluster, until } from '../../support/shoald-cluster.js';

describe('src/daemon/recover (real members)', () => {
  let c: ShoalCluster;
  before(async function () {
    this.timeout(400_000);
    c = await ShoalCluster.start({ members: 3, tag: 'cl', config: { 'cluster.offline_threshold': '10' } });
  });
  after(async function () {
    this.timeout(60_000);
    await c?.close();
  });

  it('answers writes with 503 "quorum lost" at once after two of three voters die', async function () {
    this.timeout(120_000);
    const [m1, m2, m3] = [c.member(0), c.member(1), c.member(2)];
    await c.kill(m1);
    await c.kill(m2);
    const res = await until('the quorum-loss answer', 30_000, async () => {
      const r = await c.request(m3, 'PATCH', '/1.0', { config: { 'cluster.offline_threshold': '12' } }, 15_000);
      return r.status === 503 && /quorum lost/.test(r.body.error) ? r : undefined;
    });
    assert.equal(res.body.error_code, 503);
    assert.match(res.body.error, /^No cluster leader \(quorum lost: no leader for \d+s; a majority \(2 of 3\) of the database members must be up\. .*shoald cluster recover/);
    // No hang: each further attempt answers within a second.
    const t0 = Date.now();
    const again = await c.request(m3, 'PATCH', '/1.0', { config: { 'cluster.offline_threshold': '12' } }, 15_000);
    assert.equal(again.status, 503);
    assert.ok(Date.now() - t0 < 1000, `answered in ${Date.now() - t0} ms`);
  });

  it('rejects an unknown `shoald cluster` verb as a usage error', async function () {
    this.timeout(30_000);
    const res = await c.shoald(c.member(2), ['cluster', 'bogus']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /^Error: Unknown command "cluster bogus"/);
  });

  it('makes the survivor the sole voter with `shoald cluster recover`, and it serves writes again', async function () {
    this.timeout(120_000);
    const m3 = c.member(2);
    const out = await c.shoald(m3, ['cluster', 'recover'], { check: true });
    assert.match(out.stdout, /^Member "cl3" is now the only voter of the cluster \(removed from Raft: cl1@127\.0\.0\.1:\d+, cl2@127\.0\.0\.1:\d+\)\.\n/);
    await c.shoald(m3, ['waitready', '--timeout', '30'], { check: true });
    const patch = await until('a write after recovery', 30_000, async () => {
      const r = await c.request(m3, 'PATCH', '/1.0', { config: { 'cluster.offline_threshold': '12' } });
      return r.status === 200 ? r : undefined;
    });
    assert.equal(patch.body.status_code, 200);
    const list = await until('roles in line with Raft', 30_000, async () => {
      const l = await c.list(m3);
      return l.find((m) => m.server_name === 'cl1')?.roles.length === 0 ? l : undefined;
    });
    assert.deepEqual(
      list.map((m) => [m.server_name, m.roles]),
      [['cl1', []], ['cl2', []], ['cl3', ['database', 'database-leader']]],
    );
    // A second recovery has nothing to do: the member leads alone.
    const again = await c.shoald(m3, ['cluster', 'recover']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^Error: The cluster has a leader \(raft id 3\)/);
  });

  it('removes the lost members with force and lets one rejoin from a wiped state dir', async function () {
    this.timeout(180_000);
    const [m1, m2, m3] = [c.member(0), c.member(1), c.member(2)];
    for (const m of [m1, m2]) {
      const res = await c.request(m3, 'DELETE', `/1.0/cluster/members/${m.name}?force=1`);
      assert.equal(res.status, 200, res.body.error);
    }
    await c.wipe(m1);
    await c.join(m1, m3);
    const list = await until('cl1 a voter again', 30_000, async () => {
      const l = await c.list(m3);
      return l.find((m) => m.server_name === 'cl1')?.roles.includes('database') ? l : undefined;
    });
    assert.deepEqual(
      list.map((m) => [m.server_name, m.status]),
      [['cl1', 'Online'], ['cl3', 'Online']],
    );
    const write = await c.request(m1, 'PATCH', '/1.0', { config: { 'cluster.offline_threshold': '13' } });
    assert.equal(write.status, 200, write.body.error);
  });
});
