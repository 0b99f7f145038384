/*
 * One test per claim of the Raft paper (§5.1–§5.4), after etcd's raft_paper_test.go, run against
 * RawNode through TestNode/TestNetwork (test/support/raft/test-node.ts). Each `it` cites the
 * section it checks; logs are preloaded as lists of terms at index 1, 2, ...
 */
import { strict as assert } from 'node:assert';
import { MessageType, RaftRole, type Message } from '../../../../src/raft/index.js';
import { seededRng } from '../../../../src/shared/index.js';
import { TestNetwork, TestNode, entries, msg } from '../../../support/raft/test-node.js';

const V3 = [1, 2, 3];
const enc = new TextEncoder();

function ofType(ms: readonly Message[], t: MessageType): Message[] {
  return ms.filter((m) => m.type === t);
}

/** A leader of V3 at term 1 whose empty entry (index 1) is committed everywhere it matters. */
function leaderWithCommittedNoop(): TestNode {
  const n = new TestNode({ id: 1, voters: V3 });
  n.elect(V3);
  for (const p of [2, 3]) n.step(msg({ type: MessageType.AppResp, from: p, to: 1, term: 1, index: 1 }));
  n.drain();
  return n;
}

describe('src/raft/core', () => {
  describe('Raft paper §5.1 (terms)', () => {
    for (const role of [RaftRole.Follower, RaftRole.Candidate, RaftRole.Leader]) {
      it(`§5.1 a ${role} updates its term from a message with a higher term and follows`, () => {
        const n = new TestNode({ id: 1, voters: V3 });
        if (role === RaftRole.Candidate) n.rn.campaign();
        if (role === RaftRole.Leader) n.elect(V3);
        n.drain();
        n.step(msg({ type: MessageType.App, from: 2, to: 1, term: 5 }));
        assert.equal(n.term, 5);
        assert.equal(n.role, RaftRole.Follower);
        assert.equal(n.status().softState.lead, 2);
      });
    }

    it('§5.1 rejects a message with a stale term', () => {
      const n = new TestNode({ id: 1, voters: V3, term: 2 });
      n.step(msg({ type: MessageType.App, from: 2, to: 1, term: 1, entries: entries(1, [1]) }));
      assert.deepEqual(n.drain(), []);
      assert.deepEqual(n.logTerms(), []);
      assert.equal(n.status().softState.lead, 0);
    });
  });

  describe('Raft paper §5.2 (leader election)', () => {
    it('§5.2 starts as a follower', () => {
      assert.equal(new TestNode({ id: 1, voters: V3 }).role, RaftRole.Follower);
    });

    it('§5.2 a leader sends heartbeats to every follower each heartbeat interval', () => {
      const n = new TestNode({ id: 1, voters: V3, config: { heartbeatTick: 2 } });
      n.elect(V3);
      n.tick(1);
      assert.deepEqual(ofType(n.drain(), MessageType.Heartbeat), []);
      n.tick(1);
      const hb = ofType(n.drain(), MessageType.Heartbeat);
      assert.deepEqual(
        hb.map((m) => [m.to, m.term]),
        [
          [2, 1],
          [3, 1],
        ],
      );
    });

    for (const role of [RaftRole.Follower, RaftRole.Candidate]) {
      it(`§5.2 a ${role} that times out starts a new election: term+1, votes for itself, asks all`, () => {
        const n = new TestNode({ id: 1, voters: V3, term: 1, config: { rng: seededRng(7) } });
        if (role === RaftRole.Candidate) n.rn.campaign();
        n.drain();
        const before = n.term;
        n.tick(2 * 10);
        assert.equal(n.role, RaftRole.Candidate);
        assert.equal(n.term, before + 1);
        assert.equal(n.status().hardState.vote, 1);
        const votes = ofType(n.drain(), MessageType.Vote);
        assert.deepEqual(
          votes.map((m) => [m.to, m.term]),
          [
            [2, before + 1],
            [3, before + 1],
          ],
        );
      });
    }

    const oneRound: [number, Record<number, boolean>, RaftRole][] = [
      [1, {}, RaftRole.Leader],
      [3, { 2: true, 3: true }, RaftRole.Leader],
      [3, { 2: true }, RaftRole.Leader],
      [5, { 2: true, 3: true, 4: true, 5: true }, RaftRole.Leader],
      [5, { 2: true, 3: true, 4: true }, RaftRole.Leader],
      [5, { 2: true, 3: true }, RaftRole.Leader],
      [3, { 2: false, 3: false }, RaftRole.Follower],
      [5, { 2: false, 3: false, 4: false, 5: false }, RaftRole.Follower],
      [5, { 2: true, 3: false, 4: false, 5: false }, RaftRole.Follower],
      [3, {}, RaftRole.Candidate],
      [5, { 2: true }, RaftRole.Candidate],
      [5, { 2: false, 3: false }, RaftRole.Candidate],
      [5, {}, RaftRole.Candidate],
    ];
    for (const [size, votes, want] of oneRound) {
      it(`§5.2 decides an election in one round: ${size} voters, votes ${JSON.stringify(votes)} → ${want}`, () => {
        const voters = Array.from({ length: size }, (_, i) => i + 1);
        const n = new TestNode({ id: 1, voters });
        n.rn.campaign();
        n.drain();
        for (const [id, granted] of Object.entries(votes)) {
          n.step(msg({ type: MessageType.VoteResp, from: Number(id), to: 1, term: 1, reject: !granted }));
        }
        n.drain();
        assert.equal(n.role, want);
        assert.equal(n.term, 1);
      });
    }

    const voteCases: [number, number, boolean][] = [
      [0, 2, false],
      [0, 3, false],
      [2, 2, false],
      [3, 3, false],
      [2, 3, true],
      [3, 2, true],
    ];
    for (const [vote, candidate, wantReject] of voteCases) {
      it(`§5.2 a follower that voted for ${vote} ${wantReject ? 'rejects' : 'grants'} ${candidate} in the same term`, () => {
        const n = new TestNode({ id: 1, voters: V3, term: 1, vote });
        n.step(msg({ type: MessageType.Vote, from: candidate, to: 1, term: 1 }));
        const resp = ofType(n.drain(), MessageType.VoteResp);
        assert.deepEqual(
          resp.map((m) => [m.to, m.term, m.reject]),
          [[candidate, 1, wantReject]],
        );
      });
    }

    for (const term of [1, 2]) {
      it(`§5.2 a candidate falls back to follower on an App from a leader at term ${term} (>= its own)`, () => {
        const n = new TestNode({ id: 1, voters: V3 });
        n.rn.campaign();
        n.drain();
        assert.equal(n.term, 1);
        n.step(msg({ type: MessageType.App, from: 2, to: 1, term }));
        assert.equal(n.role, RaftRole.Follower);
        assert.equal(n.term, term);
      });
    }

    for (const role of [RaftRole.Follower, RaftRole.Candidate]) {
      it(`§5.2 randomizes a ${role}'s election timeout over [electionTick, 2*electionTick)`, () => {
        const et = 10;
        const rng = seededRng(42);
        const seen = new Set<number>();
        for (let i = 0; i < 50 * et; i++) {
          const n = new TestNode({ id: 1, voters: V3, term: 1, config: { rng } });
          if (role === RaftRole.Candidate) n.rn.campaign();
          const termBefore = n.term;
          let ticks = 0;
          while (n.term === termBefore) {
            n.tick();
            ticks++;
          }
          seen.add(ticks);
        }
        assert.deepEqual(
          [...seen].sort((a, b) => a - b),
          Array.from({ length: et }, (_, i) => et + i),
        );
      });
    }

    for (const role of [RaftRole.Follower, RaftRole.Candidate]) {
      it(`§5.2 in most cases only one ${role} times out first (randomized timeouts rarely conflict)`, () => {
        const rounds = 1000;
        let conflicts = 0;
        for (let r = 0; r < rounds; r++) {
          const voters = [1, 2, 3, 4, 5];
          const nodes = voters.map(
            (id) => new TestNode({ id, voters, term: 1, config: { rng: seededRng(r * 10 + id) } }),
          );
          if (role === RaftRole.Candidate) for (const n of nodes) n.rn.campaign();
          const terms = nodes.map((n) => n.term);
          let timedOut = 0;
          while (timedOut === 0) {
            for (const n of nodes) n.tick();
            timedOut = nodes.filter((n, i) => n.term !== terms[i]).length;
          }
          if (timedOut > 1) conflicts++;
        }
        assert.ok(conflicts / rounds <= 0.3, `conflict probability ${conflicts / rounds}`);
      });
    }
  });

  describe('Raft paper §5.3 (log replication)', () => {
    it('§5.3 a leader appends a proposal and sends it to every follower', () => {
      const n = leaderWithCommittedNoop();
      n.rn.propose(enc.encode('some data'));
      const rd = n.handle();
      assert.deepEqual(
        rd.entries.map((e) => [e.term, e.index]),
        [[1, 2]],
      );
      assert.deepEqual(
        rd.messages.map((m) => [m.type, m.to, m.term, m.logTerm, m.index, m.commit, m.entries.length]),
        [
          [MessageType.App, 2, 1, 1, 1, 1, 1],
          [MessageType.App, 3, 1, 1, 1, 1, 1],
        ],
      );
    });

    it('§5.3 a leader commits an entry once a majority has it, and tells the followers', () => {
      const n = leaderWithCommittedNoop();
      n.rn.propose(enc.encode('some data'));
      n.handle();
      n.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: 1, index: 2 }));
      const rd = n.handle();
      assert.deepEqual(
        rd.committedEntries.map((e) => e.index),
        [2],
      );
      assert.deepEqual(
        ofType(rd.messages, MessageType.App).map((m) => [m.to, m.commit]),
        [
          [2, 2],
          [3, 2],
        ],
      );
    });

    const acks: [number, number[], boolean][] = [
      [1, [], true],
      [3, [], false],
      [3, [2], true],
      [3, [2, 3], true],
      [5, [], false],
      [5, [2], false],
      [5, [2, 3], true],
      [5, [2, 3, 4], true],
      [5, [2, 3, 4, 5], true],
    ];
    for (const [size, acceptors, wantCommit] of acks) {
      it(`§5.3 commits with acks from ${JSON.stringify(acceptors)} of ${size} voters: ${wantCommit}`, () => {
        const voters = Array.from({ length: size }, (_, i) => i + 1);
        const n = new TestNode({ id: 1, voters });
        n.elect(voters);
        for (const p of voters.slice(1)) n.step(msg({ type: MessageType.AppResp, from: p, to: 1, term: 1, index: 1 }));
        n.drain();
        n.rn.propose(enc.encode('x'));
        n.handle();
        for (const p of acceptors) n.step(msg({ type: MessageType.AppResp, from: p, to: 1, term: 1, index: 2 }));
        n.drain();
        assert.equal(n.committed >= 2, wantCommit);
      });
    }

    it('§5.3 committing an entry of the current term commits all preceding entries', () => {
      const n = new TestNode({ id: 1, voters: V3, logTerms: [1, 2], term: 2 });
      n.elect(V3);
      n.rn.propose(enc.encode('x'));
      n.handle();
      for (const p of [2, 3]) n.step(msg({ type: MessageType.AppResp, from: p, to: 1, term: 3, index: 4 }));
      n.drain();
      assert.deepEqual(
        n.applied.map((e) => [e.term, e.index]),
        [
          [1, 1],
          [2, 2],
          [3, 3],
          [3, 4],
        ],
      );
    });

    it('§5.3 a follower commits what the leader says is committed, up to what it has', () => {
      const cases: [number, number][] = [
        [1, 1],
        [2, 2],
        [5, 2],
      ];
      for (const [leaderCommit, want] of cases) {
        const n = new TestNode({ id: 1, voters: V3, term: 1 });
        n.step(
          msg({ type: MessageType.App, from: 2, to: 1, term: 1, entries: entries(1, [1, 1]), commit: leaderCommit }),
        );
        n.drain();
        assert.equal(n.committed, want);
        assert.deepEqual(
          n.applied.map((e) => e.index),
          Array.from({ length: want }, (_, i) => i + 1),
        );
      }
    });

    const checks: [number, number, boolean, number][] = [
      // [prev term, prev index, reject, hint] on a follower log [1/1, 2/2], committed 1
      [0, 0, false, 0], // matches the start
      [1, 1, false, 0],
      [2, 2, false, 0],
      [1, 2, true, 1], // term mismatch at 2: hint 1 (term 1 <= 1)
      [3, 3, true, 2], // beyond the log: hint its last index
    ];
    for (const [logTerm, index, wantReject, wantHint] of checks) {
      it(`§5.3 checks consistency of an App at ${logTerm}/${index}: reject=${wantReject}`, () => {
        const n = new TestNode({ id: 1, voters: V3, logTerms: [1, 2], term: 2, commit: 1 });
        n.step(msg({ type: MessageType.App, from: 2, to: 1, term: 2, logTerm, index, commit: 1 }));
        const [resp] = ofType(n.drain(), MessageType.AppResp);
        assert.ok(resp);
        assert.equal(resp.reject, wantReject);
        if (wantReject) assert.equal(resp.rejectHint, wantHint);
      });
    }

    const appends: [number, number, number[], number[]][] = [
      // [prev index, prev term, new entry terms, resulting log terms] on a follower log [1, 2]
      [2, 2, [3], [1, 2, 3]],
      [1, 1, [3, 4], [1, 3, 4]],
      [0, 0, [1], [1, 2]],
      [0, 0, [3], [3]],
    ];
    for (const [index, logTerm, terms, want] of appends) {
      it(`§5.3 appends after ${logTerm}/${index}, truncating conflicts: → ${JSON.stringify(want)}`, () => {
        const n = new TestNode({ id: 1, voters: V3, logTerms: [1, 2], term: 2 });
        n.step(
          msg({ type: MessageType.App, from: 2, to: 1, term: 2, logTerm, index, entries: entries(index + 1, terms) }),
        );
        assert.deepEqual(n.logTerms(), want);
        n.drain();
        assert.deepEqual(n.logTerms(), want);
      });
    }

    // Figure 7: the leader (term 8) makes each follower's log identical to its own.
    const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const followers: Record<string, number[]> = {
      a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
      b: [1, 1, 1, 4],
      c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
      d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
      e: [1, 1, 1, 4, 4, 4, 4],
      f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
    };
    for (const [name, log] of Object.entries(followers)) {
      it(`§5.3 figure 7 (${name}): the leader brings a follower's log in line with its own`, () => {
        const lead = new TestNode({ id: 1, voters: V3, logTerms: leaderLog, term: 8, commit: leaderLog.length });
        const follower = new TestNode({ id: 2, voters: V3, logTerms: log, term: 7 });
        const net = new TestNetwork([lead, follower]);
        lead.rn.campaign();
        net.send(msg({ type: MessageType.VoteResp, from: 3, to: 1, term: 9 }));
        assert.equal(lead.role, RaftRole.Leader);
        net.propose(1, '');
        assert.deepEqual(follower.logTerms(), lead.logTerms());
        assert.deepEqual(lead.logTerms(), [...leaderLog, 9, 9]);
      });
    }
  });

  describe('Raft paper §5.4 (safety)', () => {
    for (const logTerms of [[1], [1, 2]]) {
      it(`§5.4.1 a candidate's vote requests carry its last log term and index (log ${JSON.stringify(logTerms)})`, () => {
        const n = new TestNode({ id: 1, voters: V3, logTerms, term: logTerms.length });
        n.rn.campaign();
        const votes = ofType(n.drain(), MessageType.Vote);
        assert.deepEqual(
          votes.map((m) => [m.to, m.term, m.logTerm, m.index]),
          [2, 3].map((to) => [to, logTerms.length + 1, logTerms[logTerms.length - 1], logTerms.length]),
        );
      });
    }

    const voter: [number[], number, number, boolean][] = [
      // [voter log, candidate last term, candidate last index, reject]
      [[1], 1, 1, false],
      [[1], 1, 2, false],
      [[1, 1], 1, 1, true],
      [[1], 2, 1, false],
      [[1], 2, 2, false],
      [[1, 1], 2, 1, false],
      [[2], 1, 1, true],
      [[2], 1, 2, true],
      [[2, 1], 1, 1, true],
    ];
    for (const [log, logTerm, index, wantReject] of voter) {
      it(`§5.4.1 a voter with log ${JSON.stringify(log)} ${wantReject ? 'rejects' : 'grants'} a candidate at ${logTerm}/${index}`, () => {
        const n = new TestNode({ id: 1, voters: V3, logTerms: log, term: 2 });
        n.step(msg({ type: MessageType.Vote, from: 2, to: 1, term: 3, logTerm, index }));
        const [resp] = ofType(n.drain(), MessageType.VoteResp);
        assert.ok(resp);
        assert.equal(resp.reject, wantReject);
      });
    }

    const commits: [number, number][] = [
      // [acked index, resulting commit] for a term-3 leader with log [1, 2] + its empty entry 3/3
      [1, 0],
      [2, 0],
      [3, 3],
    ];
    for (const [index, want] of commits) {
      it(`§5.4.2 a leader only commits entries of its current term: ack of ${index} → commit ${want}`, () => {
        const n = new TestNode({ id: 1, voters: V3, logTerms: [1, 2], term: 2 });
        n.elect(V3);
        assert.equal(n.term, 3);
        n.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: 3, index }));
        n.drain();
        assert.equal(n.committed, want);
      });
    }
  });

  describe('elections under contention (etcd raft_test.go)', () => {
    it('resolves dueling candidates: the one with the shorter log loses even at a higher term', () => {
      const nodes = [1, 2, 3].map((id) => new TestNode({ id, voters: V3 }));
      const net = new TestNetwork(nodes);
      net.cut(1, 3);
      net.campaign(1);
      net.campaign(3);
      assert.deepEqual(
        nodes.map((n) => n.role),
        [RaftRole.Leader, RaftRole.Follower, RaftRole.Candidate],
      );
      net.recover();
      // 3 campaigns at term 2 and disrupts the leader, but its log lacks 1/1: both reject it.
      net.campaign(3);
      assert.deepEqual(
        nodes.map((n) => [n.role, n.term]),
        [
          [RaftRole.Follower, 2],
          [RaftRole.Follower, 2],
          [RaftRole.Follower, 2],
        ],
      );
      assert.deepEqual(nodes[2]!.logTerms(), []);
      assert.deepEqual(nodes[1]!.logTerms(), [1]);
    });

    it('ignores messages from an old term', () => {
      const nodes = [1, 2, 3].map((id) => new TestNode({ id, voters: V3 }));
      const net = new TestNetwork(nodes);
      net.campaign(1);
      net.campaign(2);
      net.campaign(1);
      assert.equal(nodes[0]!.term, 3);
      // An App from the term-2 leader arrives late.
      net.send(msg({ type: MessageType.App, from: 2, to: 1, term: 2, entries: entries(3, [2]) }));
      net.propose(1, 'somedata');
      for (const n of nodes) assert.deepEqual(n.logTerms(), [1, 2, 3, 3]);
      assert.deepEqual(
        nodes.map((n) => n.committed),
        [4, 4, 4],
      );
    });
  });
});
