/*
 * RawNode's contract beyond the transcripts: the Ready/advance protocol (one outstanding Ready,
 * no aliasing, no self-addressed messages, etcd#14370 durability), proposal outcomes, flow-control
 * limits, snapshots edge cases, start-up from storage, and invariant violations.
 */
import { strict as assert } from 'node:assert';
import {
  ConfChangeType,
  MemoryLogStorage,
  MessageType,
  RaftInvariantError,
  RaftRole,
  RawNode,
  SnapshotTemporarilyUnavailableError,
  decodeConfChange,
  encodeConfChange,
  type Message,
  type RaftConfig,
  type Snapshot,
} from '../../../../src/raft/index.js';
import { TestNetwork, TestNode, entries, msg } from '../../../support/raft/test-node.js';

const V3 = [1, 2, 3];
const enc = new TextEncoder();
const silent = { debug() {}, info() {}, warn() {}, error() {} };

function baseConfig(storage: MemoryLogStorage, over: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id: 1,
    electionTick: 10,
    heartbeatTick: 1,
    storage,
    maxSizePerMsg: Infinity,
    maxInflightMsgs: 256,
    checkQuorum: false,
    preVote: false,
    rng: () => 0,
    logger: silent,
    ...over,
  };
}

function cluster(n = 3, config: Partial<RaftConfig> = {}): TestNetwork {
  const voters = Array.from({ length: n }, (_, i) => i + 1);
  const net = new TestNetwork(voters.map((id) => new TestNode({ id, voters, config })));
  net.campaign(1);
  return net;
}

describe('src/raft/core/raw-node', () => {
  describe('Ready and advance', () => {
    it('allows one outstanding Ready: hasReady is false and ready() throws until advance()', () => {
      const n = new TestNode({ id: 1, voters: V3 });
      n.rn.campaign();
      assert.equal(n.rn.hasReady(), true);
      n.rn.ready();
      assert.equal(n.rn.hasReady(), false);
      assert.throws(() => n.rn.ready(), RaftInvariantError);
      n.rn.advance();
      assert.throws(() => n.rn.advance(), RaftInvariantError);
    });

    it('never commits a single voter entry before advance() confirms it persisted (etcd#14370)', () => {
      const n = new TestNode({ id: 1, voters: [1] });
      n.elect([1]);
      assert.equal(n.role, RaftRole.Leader);
      n.rn.propose(enc.encode('x'));
      const rd = n.rn.ready();
      assert.deepEqual(
        rd.entries.map((e) => e.index),
        [2],
      );
      assert.deepEqual(rd.committedEntries, []);
      assert.ok((rd.hardState?.commit ?? n.committed) < 2);
      assert.equal(n.status().progress?.get(1)?.match, 1, 'self match moves only in advance()');
      // The runtime crashes here: nothing of the entry may count as committed.
      n.storage.append(rd.entries);
      n.rn.advance();
      assert.equal(n.status().progress?.get(1)?.match, 2);
      const next = n.handle();
      assert.equal(next.hardState?.commit, 2);
      assert.deepEqual(
        next.committedEntries.map((e) => e.index),
        [2],
      );
    });

    it('counts the leader itself only for entries of the previous Ready', () => {
      const net = cluster();
      const leader = net.node(1);
      leader.rn.propose(enc.encode('a'));
      const rd = leader.rn.ready();
      // Both followers ack while the leader's own write is still in flight: a quorum without it.
      for (const p of [2, 3]) leader.step(msg({ type: MessageType.AppResp, from: p, to: 1, term: 1, index: 2 }));
      assert.equal(leader.status().progress?.get(1)?.match, 1);
      assert.equal(leader.committed, 2);
      leader.storage.append(rd.entries);
      leader.rn.advance();
      // Committed entries are handed out only once locally stable.
      assert.deepEqual(
        leader.handle().committedEntries.map((e) => e.index),
        [2],
      );
    });

    it('accepts inputs while a Ready is outstanding and puts their output in the next one', () => {
      const net = cluster();
      const leader = net.node(1);
      leader.rn.propose(enc.encode('a'));
      const first = leader.rn.ready();
      leader.rn.propose(enc.encode('b')); // while 'a' is being persisted
      const f = net.node(2);
      for (const m of first.messages.filter((m) => m.to === 2)) f.step(m);
      const fr = f.rn.ready();
      f.step(msg({ type: MessageType.Heartbeat, from: 1, to: 2, term: 1, commit: 1 }));
      assert.deepEqual(
        fr.messages.map((m) => m.type),
        [MessageType.AppResp],
      );
      f.storage.append(fr.entries);
      f.rn.advance();
      assert.deepEqual(
        f.handle().messages.map((m) => m.type),
        [MessageType.HeartbeatResp],
      );
      leader.storage.append(first.entries);
      leader.rn.advance();
      assert.equal(leader.status().progress?.get(1)?.match, 2, "only the first Ready's entries count");
      const second = leader.handle();
      assert.deepEqual(
        second.entries.map((e) => e.index),
        [3],
      );
      assert.equal(leader.status().progress?.get(1)?.match, 3);
    });

    it('hands out committed entries only once they are stable locally (never with their own Ready)', () => {
      const f = new TestNode({ id: 2, voters: V3, term: 1 });
      f.step(msg({ type: MessageType.App, from: 1, to: 2, term: 1, entries: entries(1, [1, 1]), commit: 2 }));
      const first = f.handle();
      assert.equal(first.entries.length, 2);
      assert.deepEqual(first.committedEntries, []);
      assert.deepEqual(
        f.handle().committedEntries.map((e) => e.index),
        [1, 2],
      );
    });

    it('never puts self-addressed messages in a Ready', () => {
      const net = cluster();
      const all: Message[] = [];
      for (let i = 0; i < 5; i++) {
        net.node(1).rn.propose(enc.encode(`p${i}`));
        for (const n of net.nodes.values()) {
          while (n.rn.hasReady()) {
            const rd = n.handle();
            all.push(...rd.messages);
            net.send(...rd.messages);
          }
        }
      }
      assert.ok(all.length > 0);
      assert.deepEqual(
        all.filter((m) => m.from === m.to),
        [],
      );
    });

    it('returns a frozen Ready whose arrays later activity does not change', () => {
      const n = new TestNode({ id: 1, voters: [1] });
      n.elect([1]);
      n.rn.propose(enc.encode('a'));
      const rd = n.rn.ready();
      assert.ok(Object.isFrozen(rd));
      const before = rd.entries.length;
      n.rn.propose(enc.encode('b'));
      assert.equal(rd.entries.length, before);
      n.storage.append(rd.entries);
      n.rn.advance();
      assert.deepEqual(
        n.handle().entries.map((e) => e.index),
        [3],
      );
    });

    it('requests a sync for entries, term or vote changes, and not for a commit-only change', () => {
      const n = new TestNode({ id: 1, voters: [1] });
      n.rn.campaign();
      assert.equal(n.handle().mustSync, true); // term and vote
      assert.equal(n.handle().mustSync, true); // the empty entry
      const commitOnly = n.handle();
      assert.equal(commitOnly.hardState?.commit, 1);
      assert.equal(commitOnly.mustSync, false);
    });
  });

  describe('proposals', () => {
    it('answers NotLeader with the known leader on a follower, and 0 on a candidate', () => {
      const net = cluster();
      assert.deepEqual(net.node(2).rn.propose(enc.encode('x')), { ok: false, reason: 'NotLeader', leaderHint: 1 });
      const lone = new TestNode({ id: 1, voters: V3 });
      lone.rn.campaign();
      assert.deepEqual(lone.rn.propose(enc.encode('x')), { ok: false, reason: 'NotLeader', leaderHint: 0 });
    });

    it('forwards proposals to the leader when proposal forwarding is on', () => {
      const net = cluster(3, { proposalForwarding: true });
      assert.deepEqual(net.node(2).rn.propose(enc.encode('fwd')), { ok: true });
      net.send();
      for (const n of net.nodes.values()) {
        assert.deepEqual(
          n.applied.map((e) => new TextDecoder().decode(e.data)),
          ['', 'fwd'],
        );
      }
    });

    it('drops proposals while a leadership transfer is in progress', () => {
      const net = cluster();
      net.isolate(3);
      net.node(1).rn.transferLeader(3);
      const res = net.node(1).rn.propose(enc.encode('x'));
      assert.equal(res.ok, false);
      assert.equal(!res.ok && res.reason, 'ProposalDropped');
    });

    it('drops proposals beyond maxUncommittedEntriesSize, but always accepts one into an empty tail', () => {
      const net = cluster(3, { maxUncommittedEntriesSize: 10 });
      net.isolate(2);
      net.isolate(3);
      const leader = net.node(1).rn;
      assert.equal(leader.propose(new Uint8Array(8)).ok, true);
      const res = leader.propose(new Uint8Array(8));
      assert.equal(!res.ok && res.reason, 'ProposalDropped');
      assert.equal(leader.propose(new Uint8Array(0)).ok, true, 'empty entries are never refused');
    });
  });

  describe('flow control', () => {
    it('batches at most maxSizePerMsg bytes of entries per App (and at least one entry)', () => {
      const net = cluster(3, { maxSizePerMsg: 60 });
      net.isolate(2);
      net.isolate(3);
      const leader = net.node(1);
      for (let i = 0; i < 5; i++) leader.rn.propose(new Uint8Array(20));
      net.recover();
      leader.tick(); // heartbeat → response → probe and replicate
      const sizes: number[] = [];
      for (let i = 0; i < 20; i++) {
        const ms = leader.drain();
        sizes.push(
          ...ms
            .filter((m) => m.type === MessageType.App && m.to === 2 && m.entries.length > 0)
            .map((m) => m.entries.length),
        );
        for (const m of ms) net.node(m.to).step(m);
        for (const id of [2, 3]) for (const m of net.node(id).drain()) leader.step(m);
      }
      assert.ok(sizes.length > 1);
      // One 20-byte entry counts 44 bytes: two would exceed 60.
      assert.deepEqual([...new Set(sizes)], [1]);
      assert.equal(net.node(2).logTerms().length, 6);
    });

    it('limits bytes in flight with maxInflightBytes', () => {
      const net = cluster(3, { maxSizePerMsg: 100, maxInflightBytes: 100 });
      const leader = net.node(1);
      for (let i = 0; i < 4; i++) {
        leader.rn.propose(new Uint8Array(60));
        leader.handle();
      }
      const line = leader.rn.describeProgress().find((l) => l.startsWith('2:'));
      assert.match(line ?? '', /inflight=2\[full\]/);
    });

    it('limits committed entries per Ready with maxCommittedSizePerReady', () => {
      // Each entry counts 30 payload + 24 overhead bytes: two fit in 120.
      const net = cluster(1, { maxCommittedSizePerReady: 120 });
      const leader = net.node(1);
      for (let i = 0; i < 6; i++) leader.rn.propose(new Uint8Array(30));
      leader.handle();
      const batches: number[] = [];
      while (leader.rn.hasReady()) batches.push(leader.handle().committedEntries.length);
      assert.deepEqual(batches, [2, 2, 2]);
    });

    it('moves a replicating follower back to Probe when it is reported unreachable', () => {
      const net = cluster();
      net.node(1).rn.reportUnreachable(2);
      assert.equal(net.node(1).status().progress?.get(2)?.state, 'Probe');
    });
  });

  describe('snapshots', () => {
    function compactLeader(net: TestNetwork): void {
      const leader = net.node(1);
      const last = leader.storage.lastIndex();
      leader.storage.createSnapshot(last, { voters: V3, learners: [] }, enc.encode('state'));
      leader.storage.compact(last);
    }

    it('retries later when the snapshot is temporarily unavailable', () => {
      const net = cluster();
      net.isolate(3);
      net.propose(1, 'a');
      compactLeader(net);
      const leader = net.node(1);
      const real = leader.storage.snapshot.bind(leader.storage);
      let available = false;
      leader.storage.snapshot = (): Snapshot => {
        if (!available) throw new SnapshotTemporarilyUnavailableError();
        return real();
      };
      net.recover();
      leader.tick();
      net.send();
      assert.deepEqual(net.node(3).logTerms(), [1]);
      available = true;
      leader.tick();
      net.send();
      assert.equal(net.node(3).status().hardState.commit, 2);
      assert.equal(leader.status().progress?.get(3)?.state, 'Replicate');
    });

    it('moves the follower back to Probe from the start when the snapshot send failed', () => {
      const net = cluster();
      net.isolate(3);
      net.propose(1, 'a');
      compactLeader(net);
      net.recover();
      const leader = net.node(1);
      leader.tick();
      // Deliver everything except the snapshot, which is lost.
      const snaps: Message[] = [];
      for (let round = 0; round < 5; round++) {
        for (const m of leader.drain()) {
          if (m.type === MessageType.Snap) snaps.push(m);
          else net.node(m.to).step(m);
        }
        for (const id of [2, 3]) for (const m of net.node(id).drain()) leader.step(m);
      }
      assert.equal(snaps.length, 1);
      assert.equal(leader.status().progress?.get(3)?.state, 'Snapshot');
      leader.rn.reportSnapshot(3, false);
      const pr = leader.status().progress?.get(3);
      assert.deepEqual([pr?.state, pr?.next], ['Probe', (pr?.match ?? 0) + 1]);
    });

    it('ignores a snapshot older than its commit index and answers with its commit index', () => {
      const f = new TestNode({ id: 2, voters: V3, term: 1 });
      f.step(msg({ type: MessageType.App, from: 1, to: 2, term: 1, entries: entries(1, [1, 1, 1]), commit: 3 }));
      f.drain();
      const snap: Snapshot = {
        meta: { index: 2, term: 1, confState: { voters: V3, learners: [] } },
        data: enc.encode(''),
      };
      f.step(msg({ type: MessageType.Snap, from: 1, to: 2, term: 1, snapshot: snap }));
      const rd = f.handle();
      assert.equal(rd.snapshot, undefined);
      assert.deepEqual(
        rd.messages.map((m) => [m.type, m.index, m.reject]),
        [[MessageType.AppResp, 3, false]],
      );
    });
  });

  describe('start-up and configuration', () => {
    it('restores term, vote, commit and the membership from storage', () => {
      const storage = new MemoryLogStorage({
        snapshot: { meta: { index: 5, term: 2, confState: { voters: V3, learners: [4] } }, data: new Uint8Array(0) },
        entries: entries(6, [3, 3]),
        hardState: { term: 3, vote: 2, commit: 6 },
      });
      const rn = new RawNode(baseConfig(storage, { applied: 5 }));
      const st = rn.status();
      assert.deepEqual(st.hardState, { term: 3, vote: 2, commit: 6 });
      assert.deepEqual(st.confState, { voters: V3, learners: [4] });
      assert.equal(st.applied, 5);
      assert.deepEqual(
        rn.ready().committedEntries.map((e) => e.index),
        [6],
      );
    });

    it('catches the commit index up to an applied index whose commit was not durably recorded', () => {
      const storage = new MemoryLogStorage({
        snapshot: { meta: { index: 0, term: 0, confState: { voters: V3, learners: [] } }, data: new Uint8Array(0) },
        entries: entries(1, [1, 1, 1]),
        hardState: { term: 1, vote: 1, commit: 1 },
      });
      const rn = new RawNode(baseConfig(storage, { applied: 3 }));
      assert.equal(rn.status().hardState.commit, 3);
      assert.equal(rn.status().applied, 3);
    });

    it('refuses to start with an applied index below the stored snapshot', () => {
      const storage = new MemoryLogStorage({
        snapshot: { meta: { index: 5, term: 2, confState: { voters: V3, learners: [] } }, data: new Uint8Array(0) },
        hardState: { term: 2, vote: 0, commit: 5 },
      });
      assert.throws(() => new RawNode(baseConfig(storage, { applied: 3 })), /restore the state machine/);
    });

    for (const [what, over] of [
      ['a zero id', { id: 0 }],
      ['electionTick <= heartbeatTick', { electionTick: 1, heartbeatTick: 1 }],
      ['no in-flight window', { maxInflightMsgs: 0 }],
      ['an in-flight byte limit below the message size', { maxSizePerMsg: 100, maxInflightBytes: 10 }],
      ['lease reads without check-quorum', { readOnlyOption: 'LeaseBased' }],
    ] as [string, Partial<RaftConfig>][]) {
      it(`refuses a config with ${what}`, () => {
        assert.throws(() => new RawNode(baseConfig(new MemoryLogStorage(), over)), RaftInvariantError);
      });
    }

    it('round-trips ConfChanges through the entry encoding and refuses malformed data', () => {
      const cc = { type: ConfChangeType.AddLearner, nodeId: 2 ** 40 + 7, context: enc.encode('10.0.0.1:7000') };
      assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
      assert.throws(() => decodeConfChange(new Uint8Array([9, 9])), RaftInvariantError);
    });
  });

  describe('robustness', () => {
    it('ignores local-only message types and responses from unknown peers arriving from the network', () => {
      const n = new TestNode({ id: 1, voters: V3 });
      n.step(msg({ type: MessageType.Hup, from: 2, to: 1 }));
      n.step(msg({ type: MessageType.AppResp, from: 9, to: 1, term: 5 }));
      assert.equal(n.role, RaftRole.Follower);
      assert.equal(n.term, 0);
    });

    it('throws RaftInvariantError when told to commit beyond its log', () => {
      const n = new TestNode({ id: 2, voters: V3, term: 1 });
      assert.throws(
        () => n.step(msg({ type: MessageType.Heartbeat, from: 1, to: 2, term: 1, commit: 100 })),
        RaftInvariantError,
      );
    });
  });
});
