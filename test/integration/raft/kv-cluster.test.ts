/*
 * Real processes: 3 (or 4) Raft KV members (src/daemon/kv-member.ts) as separate OS processes over
 * gRPC with mutual TLS on loopback, each with its own LevelDB. Covers election and reads on every
 * member, kill -9 of the leader under write load (no acknowledged write lost, none applied twice),
 * membership changes, exact recovery from disk, and refusal to start on a corrupted log.
 */
import { strict as assert } from 'node:assert';
import { ClassicLevel } from 'classic-level';
import { join } from 'node:path';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';
import { sleep, type KvCluster } from '../../support/kv-cluster.js';
import { WriteLoad, converge, newCluster } from './kv-cluster-support.js';

describe('src/daemon/kv-member', function () {
  this.timeout(120_000);
  let c: KvCluster | undefined;
  afterEach(async () => {
    await c?.destroy();
    c = undefined;
  });

  describe('a 3-member cluster', () => {
    it('elects a leader, replicates a write and serves it from every member', async () => {
      c = await newCluster(3);
      c.startAll();
      const leader = await c.waitLeader([1, 2, 3]);
      const put = await c.put(leader, 'greeting', 'hello');
      assert.equal(put.version, 1);
      for (const id of [1, 2, 3]) {
        const got = await c.get(id, 'greeting'); // linearizable, through ReadIndex on followers too
        assert.equal(got.kv?.value.toString(), 'hello', `member ${id}`);
      }
      const follower = [1, 2, 3].find((id) => id !== leader)!;
      await assert.rejects(c.put(follower, 'x', 'y'), (err: unknown) => {
        assert.ok(isShoalError(err, ErrorCode.NotLeader));
        assert.equal(err.details?.['leaderHint'], leader);
        return true;
      });
    });

    it('survives kill -9 of the leader under load: every acknowledged write is on every member, once', async () => {
      c = await newCluster(3);
      c.startAll();
      const old = await c.waitLeader([1, 2, 3]);
      const cluster = c;
      const load = new WriteLoad(cluster, () => cluster.running(), 16);
      await sleep(2000);
      await c.kill(old);
      const survivors = [1, 2, 3].filter((id) => id !== old);
      const next = await c.waitLeader(survivors);
      assert.notEqual(next, old);
      const before = load.acked.size;
      for (let i = 0; i < 150 && load.acked.size <= before + 20; i++) await sleep(100);
      assert.ok(load.acked.size > before + 20, 'the new leader accepts writes');
      c.start(old);
      await sleep(1500);
      await load.stop();
      assert.ok(load.acked.size > 50, `only ${load.acked.size} writes acknowledged`);
      await converge(c, [1, 2, 3]);
      for (const id of [1, 2, 3]) {
        const kvs = await c.list(id, 'w');
        const byKey = new Map(kvs.map((kv) => [kv.key, kv]));
        for (const key of load.acked) assert.ok(byKey.has(key), `member ${id} lacks acknowledged ${key}`);
        for (const kv of kvs) assert.equal(kv.version, 1, `member ${id}: ${kv.key} applied ${kv.version} times`);
      }
    });

    it('adds a learner, promotes it, and removes the old leader', async () => {
      c = await newCluster(3);
      c.startAll();
      const old = await c.waitLeader([1, 2, 3]);
      await c.put(old, 'before', '1');
      await c.addSlot(4);
      c.start(4, { join: true, peers: [1, 2, 3, 4] });
      await c.admin(old, 'addLearner', { id: 4, address: c.address(4) });
      await converge(c, [1, 2, 3, 4]);
      let promoted = false;
      for (let i = 0; i < 50 && !promoted; i++) {
        promoted = await c.admin(old, 'promoteMember', { id: 4 }).then(
          () => true,
          async (err: unknown) => {
            assert.ok(isShoalError(err, ErrorCode.FailedPrecondition), String(err));
            await sleep(200);
            return false;
          },
        );
      }
      assert.ok(promoted, 'the learner was promoted');
      assert.deepEqual((await c.status(old)).voters, [1, 2, 3, 4]);
      await c.admin(old, 'removeMember', { id: old });
      const rest = [1, 2, 3, 4].filter((id) => id !== old);
      const next = await c.waitLeader(rest);
      assert.notEqual(next, old);
      assert.deepEqual((await c.status(next)).voters, rest);
      await c.put(next, 'after', '2');
      await converge(c, rest);
      assert.equal((await c.get(4, 'before')).kv?.value.toString(), '1');
      const exit = await c.member(old).proc!.exited; // a removed member leaves on its own
      assert.equal(exit.code, 0);
    });

    it('catches a new learner up through a snapshot streamed over gRPC once the log is compacted', async () => {
      c = await newCluster(3, { snapshotEntries: 20, snapshotTrailing: 5 });
      c.startAll();
      const leader = await c.waitLeader([1, 2, 3]);
      for (let i = 0; i < 60; i++) await c.put(leader, `s${i}`, `v${i}`);
      await c.addSlot(4);
      c.start(4, { join: true, peers: [1, 2, 3, 4] });
      await c.admin(leader, 'addLearner', { id: 4, address: c.address(4) });
      await converge(c, [1, 2, 3, 4]);
      const { readFileSync } = await import('node:fs');
      assert.match(readFileSync(c.member(4).logFile, 'utf8'), /installed snapshot/);
      assert.equal((await c.list(4, 's')).length, 60);
    });

    it('restarts a member from disk with exactly its applied state, re-applying nothing', async () => {
      c = await newCluster(3);
      c.startAll();
      const leader = await c.waitLeader([1, 2, 3]);
      for (let i = 0; i < 50; i++) await c.put(leader, `k${i}`, `v${i}`);
      const digest = await converge(c, [1, 2, 3]);
      const follower = [1, 2, 3].find((id) => id !== leader)!;
      const before = await c.status(follower, true);
      await c.stop(follower);
      c.start(follower);
      await c.waitLeader([1, 2, 3]);
      const after = await c.status(follower, true);
      assert.equal(after.digest, digest);
      assert.equal(after.header?.revision, before.header?.revision, 'no entry was applied a second time');
      assert.ok(after.applied >= before.applied);
      for (let i = 0; i < 50; i++) assert.equal((await c.get(follower, `k${i}`, true)).kv?.version, 1);
    });

    it('refuses to start a member whose log is corrupted on disk, with DATA_LOSS', async () => {
      c = await newCluster(3);
      c.startAll();
      const leader = await c.waitLeader([1, 2, 3]);
      for (let i = 0; i < 10; i++) await c.put(leader, `k${i}`, `v${i}`);
      await converge(c, [1, 2, 3]);
      const victim = [1, 2, 3].find((id) => id !== leader)!;
      await c.stop(victim);
      // Flip one byte in the value of a stored raft log entry, behind the member's back.
      const db = new ClassicLevel<Buffer, Buffer>(join(c.member(victim).dataDir, 'db'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
      await db.open();
      let damaged = '';
      for await (const [key, value] of db.iterator({ gte: Buffer.from('!raft!'), lt: Buffer.from('!raft"') })) {
        if (value.length > 40) {
          value[value.length - 5] = (value[value.length - 5] ?? 0) ^ 0xff;
          await db.put(key, value, { sync: true });
          damaged = key.toString('hex');
          break;
        }
      }
      await db.close();
      assert.ok(damaged, 'found an entry to damage');
      const proc = c.start(victim);
      const exit = await proc.exited;
      assert.equal(exit.code, 3);
      const { readFileSync } = await import('node:fs');
      assert.match(readFileSync(`${c.member(victim).logFile}.stderr`, 'utf8'), /DATA_LOSS/);
    });
  });
});
