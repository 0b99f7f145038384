/*
 * Unit tests of the runtime loop (src/raft/runtime/raft-node.ts) over fakes: bootstrap and
 * election, proposals resolved with the state machine's result, NOT_LEADER with a hint, the
 * Ready ordering rules (a leader's appends leave before its own fsync, acks and votes only after),
 * group commit, ReadIndex, membership changes, snapshots and restart without re-apply.
 */
import { strict as assert } from 'node:assert';
import { ErrorCode, isShoalError } from '../../../../src/shared/index.js';
import { Harness } from './harness.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('src/raft/runtime/raft-node', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });
  afterEach(async () => {
    await h.closeAll();
  });

  describe('RaftNode', () => {
    it('bootstraps a single node that elects itself and applies a proposal', async () => {
      const [n1] = await h.startCluster(1);
      const leader = await h.leader();
      assert.equal(leader.id, 1);
      assert.equal(await n1!.node.propose(b('x')), `${n1!.node.appliedIndex}:x`);
      assert.deepEqual(n1!.sm.log, ['x']);
      // The bootstrap entry, the election and the proposal were all synced.
      assert.ok(n1!.storage.persists.filter((p) => p.entries > 0).every((p) => p.sync));
    });

    it('resolves a proposal on the leader and refuses one on a follower with a leader hint', async () => {
      await h.startCluster(3);
      const leader = await h.leader();
      const follower = [...h.nodes.values()].find((t) => t.id !== leader.id)!;
      const r = await leader.node.propose(b('hello'));
      assert.match(String(r), /^\d+:hello$/);
      await assert.rejects(follower.node.propose(b('nope')), (err: unknown) => {
        assert.ok(isShoalError(err, ErrorCode.NotLeader));
        assert.equal(err.details?.['leaderHint'], leader.id);
        assert.equal(err.details?.['leaderAddress'], `m${leader.id}@127.0.0.1:${7000 + leader.id}`);
        return true;
      });
      await h.until(() => [...h.nodes.values()].every((t) => t.sm.log.includes('hello')));
    });

    it('sends a leader\'s appends before its own fsync completes, and a follower\'s acks only after its fsync', async () => {
      await h.startCluster(3);
      const leader = await h.leader();
      const follower = [...h.nodes.values()].find((t) => t.id !== leader.id)!;
      h.events.length = 0;
      leader.storage.hold = true;
      follower.storage.hold = true;
      const p = leader.node.propose(b('ordered'));
      await h.flush();
      const app = h.events.findIndex((e) => e.kind === 'send' && e.node === leader.id && e.type === 'App');
      const leaderDone = h.events.findIndex((e) => e.kind === 'persist-done' && e.node === leader.id);
      assert.ok(app >= 0, 'the leader sent App while its persist was held');
      assert.equal(leaderDone, -1);
      assert.equal(
        h.events.some((e) => e.kind === 'send' && e.node === follower.id && e.type === 'AppResp'),
        false,
        'the follower must not ack before its persist completes',
      );
      follower.storage.release();
      await h.flush();
      const ack = h.events.findIndex((e) => e.kind === 'send' && e.node === follower.id && e.type === 'AppResp');
      const followerDone = h.events.findIndex((e) => e.kind === 'persist-done' && e.node === follower.id);
      assert.ok(ack > followerDone && followerDone >= 0);
      leader.storage.release();
      assert.match(String(await p), /ordered$/);
    });

    it('sheds a proposal its caller abandoned before it entered the log, and applies the others', async () => {
      await h.startCluster(3);
      const leader = await h.leader();
      leader.storage.hold = true;
      const first = leader.node.propose(b('first'));
      await h.flush(3);
      let gaveUp = false;
      const shed = leader.node.propose(b('shed'), undefined, () => gaveUp);
      const kept = leader.node.propose(b('kept'), undefined, () => false);
      await h.flush(3);
      gaveUp = true; // e.g. the gRPC call passed its deadline while the leader's fsync was slow
      leader.storage.release();
      await assert.rejects(shed, (err: unknown) => {
        assert.ok(isShoalError(err, ErrorCode.Cancelled));
        assert.equal(err.details?.['applied'], false);
        return true;
      });
      await Promise.all([first, kept]);
      await h.until(() => [...h.nodes.values()].every((t) => t.sm.log.includes('kept')));
      for (const t of h.nodes.values()) assert.deepEqual(t.sm.log.filter((x) => x !== ''), ['first', 'kept']);
    });

    it('commits many proposals made during one fsync with the next single write (group commit)', async () => {
      await h.startCluster(3);
      const leader = await h.leader();
      leader.storage.hold = true;
      const first = leader.node.propose(b('p0'));
      await h.flush(3);
      const before = leader.storage.persists.length;
      const rest = Array.from({ length: 50 }, (_, i) => leader.node.propose(b(`p${i + 1}`)));
      await h.flush(3);
      leader.storage.release();
      await Promise.all([first, ...rest]);
      const after = leader.storage.persists.slice(before).filter((p) => p.entries > 0);
      assert.equal(after[0]!.entries, 50, 'the 50 proposals made during the held write share one persist');
      assert.deepEqual(leader.sm.log.slice(-51), Array.from({ length: 51 }, (_, i) => `p${i}`));
    });

    it('answers ReadIndex on the leader and on a follower once applied, and refuses without a leader', async () => {
      const nodes = await h.startCluster(3);
      assert.equal(nodes[0]!.node.leader, 0);
      await assert.rejects(nodes[0]!.node.readIndex(), (err: unknown) => isShoalError(err, ErrorCode.NotLeader));
      const leader = await h.leader();
      await leader.node.propose(b('w'));
      const follower = nodes.find((t) => t.id !== leader.id)!;
      await Promise.all([leader.node.readIndex(), follower.node.readIndex()]);
      assert.ok(follower.sm.log.includes('w'), 'a follower read sees the write acknowledged before it');
    });

    it('restarts from its durable state without re-applying entries', async () => {
      await h.startCluster(3);
      const leader = await h.leader();
      for (let i = 0; i < 5; i++) await leader.node.propose(b(`v${i}`));
      const victim = [...h.nodes.values()].find((t) => t.id !== leader.id)!;
      await h.until(() => victim.sm.log.length === 5);
      await victim.node.close();
      const again = await h.start(victim.id, [1, 2, 3], victim);
      await leader.node.propose(b('after'));
      await h.until(() => again.sm.log.includes('after'));
      assert.deepEqual(again.sm.log, ['v0', 'v1', 'v2', 'v3', 'v4', 'after']);
    });

    it('adds a learner, promotes it, then removes the leader, which hands over leadership', async () => {
      await h.startCluster(3);
      const leader = await h.leader();
      const learner = await h.start(4, []);
      await leader.node.propose(b('before'));
      await leader.node.addLearner(4, 'm4@127.0.0.1:7004');
      await h.until(() => learner.sm.log.includes('before'));
      let promoted = false;
      for (let i = 0; i < 50 && !promoted; i++) {
        promoted = await leader.node.promote(4).then(
          () => true,
          async (err: unknown) => {
            assert.ok(isShoalError(err, ErrorCode.FailedPrecondition), String(err));
            await h.tick();
            return false;
          },
        );
      }
      assert.ok(promoted);
      assert.deepEqual(leader.node.status().confState.voters, [1, 2, 3, 4]);
      let removed = false;
      leader.node.onRemoved(() => (removed = true));
      await leader.node.removeMember(leader.id);
      assert.ok(removed);
      leader.transport.closed = true; // the removed member goes away
      const next = await h.leader();
      assert.notEqual(next.id, leader.id);
      assert.deepEqual(next.node.status().confState.voters, [1, 2, 3, 4].filter((v) => v !== leader.id));
      assert.match(String(await next.node.propose(b('after-removal'))), /after-removal$/);
    });

    it('transfers leadership on request', async () => {
      await h.startCluster(3);
      const leader = await h.leader();
      const to = [...h.nodes.values()].find((t) => t.id !== leader.id)!;
      const done = leader.node.transferLeadership(to.id);
      await h.until(() => to.node.status().softState.role === 'Leader');
      await done;
      assert.equal(leader.node.leader, to.id);
    });

    it('rejects pending proposals when closed, and close is idempotent', async () => {
      await h.startCluster(3);
      const leader = await h.leader();
      for (const t of h.nodes.values()) if (t !== leader) t.transport.closed = true;
      const p = leader.node.propose(b('stuck'));
      await h.flush();
      await Promise.all([leader.node.close(), leader.node.close()]);
      await assert.rejects(p, (err: unknown) => isShoalError(err, ErrorCode.Unavailable));
      assert.ok(leader.storage.closed && leader.transport.closed);
      await assert.rejects(leader.node.propose(b('late')), (err: unknown) => isShoalError(err, ErrorCode.Unavailable));
    });
  });

  describe('RaftNode snapshots', () => {
    it('snapshots every N applied entries and catches a new learner up from the snapshot', async () => {
      h = new Harness({ snapshotEntries: 10, snapshotTrailing: 0 });
      await h.startCluster(3);
      const leader = await h.leader();
      for (let i = 0; i < 25; i++) await leader.node.propose(b(`s${i}`));
      await h.flush();
      assert.ok(leader.node.status().snapshotIndex >= 20, `snapshot at ${leader.node.status().snapshotIndex}`);
      assert.ok(leader.storage.firstIndex() > 20, 'the log was compacted');
      const learner = await h.start(4, []);
      await leader.node.addLearner(4, 'm4@127.0.0.1:7004');
      await h.until(() => learner.sm.log.length === 25);
      assert.equal(learner.sm.restores, 1);
      assert.deepEqual(learner.sm.log, Array.from({ length: 25 }, (_, i) => `s${i}`));
      // The address book came with the snapshot.
      assert.equal(learner.transport.peers.get(leader.id), `m${leader.id}@127.0.0.1:${7000 + leader.id}`);
    });

    it('catches up a learner added after the last stored snapshot on an idle cluster (a fresh snapshot lists it)', async () => {
      // The periodic snapshot comes every 20 entries: after it, too few entries follow (and none
      // after the addition) for another one, so only the snapshot taken for the new member helps.
      h = new Harness({ snapshotEntries: 20, snapshotTrailing: 0 });
      await h.startCluster(3);
      const leader = await h.leader();
      for (let i = 0; i < 22; i++) await leader.node.propose(b(`s${i}`));
      await h.flush();
      const before = leader.node.status().snapshotIndex;
      assert.ok(before >= 20 && before < leader.node.appliedIndex, `snapshot at ${before} of ${leader.node.appliedIndex}`);
      const learner = await h.start(4, []);
      await leader.node.addLearner(4, 'm4@127.0.0.1:7004');
      await h.until(() => learner.sm.log.length === 22);
      assert.equal(learner.sm.restores, 1);
      const snap = leader.storage.snapshot().meta;
      assert.ok(snap.index > before, 'a new snapshot was stored after the addition');
      assert.deepEqual(snap.confState.learners, [4]);
    });
  });
});
