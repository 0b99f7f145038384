// Covers test/support/raft/sim/invariants.ts (the simulator's safety oracle) with synthetic
// observations: each invariant is shown to hold on a legal sequence and to fire on a violation,
// so a green simulation means the properties were really checked.
import { strict as assert } from 'node:assert';
import {
  EntryType,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type RaftStatus,
  type Ready,
} from '../../../src/raft/index.js';
import { Observer, SimFailure } from '../../support/raft/sim/invariants.js';

const VOTERS: ConfState = { voters: [1, 2, 3], learners: [] };
const EMPTY_SNAP = { meta: { index: 0, term: 0, confState: VOTERS }, data: new Uint8Array(0) };
const HS0: HardState = { term: 0, vote: 0, commit: 0 };

function e(index: number, term: number, type: Entry['type'] = EntryType.Normal, data = `${index}.${term}`): Entry {
  return { index, term, type, data: new TextEncoder().encode(data) };
}
function status(id: number, role: RaftStatus['softState']['role'], hs: HardState, cs: ConfState = VOTERS): RaftStatus {
  return {
    id,
    hardState: hs,
    softState: { lead: role === 'Leader' ? id : 0, role },
    applied: 0,
    confState: cs,
    leadTransferee: 0,
  };
}
function ready(p: Partial<Ready>): Ready {
  return { readStates: [], entries: [], committedEntries: [], messages: [], mustSync: true, ...p };
}
function m(p: Partial<Message> & Pick<Message, 'type' | 'from' | 'to' | 'term'>): Message {
  return {
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: new Uint8Array(0),
    ...p,
  };
}
const noTerm = (): number => -1;

/** `voter` durably votes for `candidate` in `term` and sends the grant. */
function vote(o: Observer, voter: number, candidate: number, term: number): void {
  const hs = { term, vote: candidate, commit: 0 };
  o.onReady(voter, ready({ hardState: hs }), 'Follower', hs);
  o.onPersisted(voter, ready({ hardState: hs }), true);
  o.onSend(voter, m({ type: 'VoteResp', from: voter, to: candidate, term }));
}

/** Three nodes; node 1 elected in term 1 with 2's vote, entries 1..n persisted on `holders`. */
function cluster(n = 0, holders: number[] = [1, 2, 3]): Observer {
  const o = new Observer(false);
  for (const id of [1, 2, 3]) o.addNode(id, HS0, EMPTY_SNAP, []);
  vote(o, 2, 1, 1);
  o.afterStep(1, status(1, 'Leader', { term: 1, vote: 1, commit: 0 }), noTerm);
  const ents = Array.from({ length: n }, (_, i) => e(i + 1, 1));
  for (const id of holders) {
    o.onReady(id, ready({ entries: ents }), id === 1 ? 'Leader' : 'Follower', { term: 1, vote: 1, commit: 0 });
    o.onPersisted(id, ready({ entries: ents }), true);
  }
  return o;
}
function throwsSim(fn: () => void, re: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof SimFailure && re.test(err.message));
}

describe('test/support/raft/sim/invariants', () => {
  describe('Observer', () => {
    it('accepts a legal election, replication, commit and apply', () => {
      const o = cluster(2);
      o.afterStep(1, status(1, 'Leader', { term: 1, vote: 1, commit: 2 }), () => 1);
      for (const id of [1, 2, 3]) {
        o.onApply(id, e(1, 1));
        o.onApply(id, e(2, 1));
      }
      assert.equal(o.maxCommitted, 2);
    });
    it('fires on a second leader in a term', () => {
      const o = cluster();
      vote(o, 3, 2, 2);
      o.afterStep(2, status(2, 'Leader', { term: 2, vote: 2, commit: 0 }), noTerm);
      throwsSim(
        () => o.afterStep(3, status(3, 'Leader', { term: 2, vote: 3, commit: 0 }), noTerm),
        /second leader in term 2/,
      );
    });
    it('fires on a leader without a majority of votes (learners do not count)', () => {
      const o = cluster();
      const cs: ConfState = { voters: [1, 2, 3], learners: [4] };
      o.addNode(4, HS0, EMPTY_SNAP, []);
      vote(o, 4, 3, 5);
      throwsSim(
        () => o.afterStep(3, status(3, 'Leader', { term: 5, vote: 3, commit: 0 }, cs), noTerm),
        /votes from 1 of voters/,
      );
    });
    it('fires on a vote for two candidates in one term', () => {
      const o = cluster();
      throwsSim(
        () => o.onSend(2, m({ type: 'VoteResp', from: 2, to: 3, term: 1 })),
        /votes for 3 in term 1 after voting for 1/,
      );
    });
    it('fires on a vote sent before it is durable', () => {
      const o = cluster();
      throwsSim(() => o.onSend(3, m({ type: 'VoteResp', from: 3, to: 2, term: 4 })), /before it was durable/);
    });
    it('fires on an append ack beyond the durable log', () => {
      const o = cluster(2);
      throwsSim(() => o.onSend(2, m({ type: 'AppResp', from: 2, to: 1, term: 1, index: 3 })), /acked index 3/);
    });
    it('fires on a Ready with entries not marked mustSync', () => {
      const o = cluster();
      throwsSim(
        () => o.onReady(2, ready({ entries: [e(1, 1)], mustSync: false }), 'Follower', { term: 1, vote: 1, commit: 0 }),
        /mustSync/,
      );
    });
    it('fires when two logs hold different entries at the same index and term', () => {
      const o = cluster(1, [1]);
      o.onReady(2, ready({ entries: [e(1, 1, EntryType.Normal, 'other')] }), 'Follower', {
        term: 1,
        vote: 1,
        commit: 0,
      });
      throwsSim(() => o.onPersisted(2, ready({ entries: [e(1, 1, EntryType.Normal, 'other')] }), true), /Log Matching/);
    });
    it('fires when a leader rewrites its own log', () => {
      const o = cluster(2, [1]);
      throwsSim(
        () => o.onReady(1, ready({ entries: [e(2, 1)] }), 'Leader', { term: 1, vote: 1, commit: 0 }),
        /rewrote its log/,
      );
    });
    it('fires on a commit not durable on a majority', () => {
      const o = cluster(1, [1]);
      throwsSim(
        () => o.afterStep(1, status(1, 'Leader', { term: 1, vote: 1, commit: 1 }), () => 1),
        /durable on only 1 of voters/,
      );
    });
    it('fires when a leader commits an entry of an earlier term by counting replicas (figure 8)', () => {
      const o = cluster(1);
      vote(o, 2, 1, 2);
      o.afterStep(1, status(1, 'Leader', { term: 2, vote: 1, commit: 0 }), noTerm);
      throwsSim(
        () => o.afterStep(1, status(1, 'Leader', { term: 2, vote: 1, commit: 1 }), () => 1),
        /leader of term 2 advanced commit to 1, an entry of term 1/,
      );
    });
    it('fires when nodes apply different entries at one index', () => {
      const o = cluster(1, [1, 2]);
      o.onReady(3, ready({ entries: [e(1, 2)] }), 'Follower', { term: 2, vote: 0, commit: 0 });
      o.onPersisted(3, ready({ entries: [e(1, 2)] }), true);
      o.onApply(1, e(1, 1));
      throwsSim(() => o.onApply(3, e(1, 2)), /State Machine Safety/);
    });
    it('fires when an entry is applied twice or out of order', () => {
      const o = cluster(2);
      o.onApply(2, e(1, 1));
      throwsSim(() => o.onApply(2, e(1, 1)), /applied twice/);
      const p = cluster(2);
      throwsSim(() => p.onApply(2, e(2, 1)), /gap/);
    });
    it('fires when a new leader lacks a committed entry', () => {
      const o = cluster(2, [1, 2]);
      o.onApply(1, e(1, 1));
      o.onApply(1, e(2, 1));
      vote(o, 2, 3, 2);
      o.afterStep(3, status(3, 'Leader', { term: 2, vote: 3, commit: 0 }), noTerm);
      const rd = ready({ entries: [e(1, 2)] });
      o.onReady(3, rd, 'Leader', { term: 2, vote: 3, commit: 0 });
      throwsSim(() => o.onPersisted(3, rd, true), /Leader Completeness/);
    });
    it('fires on two uncommitted conf changes in a leader log', () => {
      const o = cluster();
      const rd = ready({ entries: [e(1, 1, EntryType.ConfChange), e(2, 1, EntryType.ConfChange)] });
      throwsSim(() => o.onReady(1, rd, 'Leader', { term: 1, vote: 1, commit: 0 }), /2 uncommitted conf changes/);
    });
    it('fires on a ReadIndex below what was committed when the read began', () => {
      const o = cluster();
      throwsSim(() => o.onReadState(1, 4, 5), /ReadIndex 4 is below 5/);
    });
    it('fires when the term goes back below the durable one across a restart', () => {
      const o = cluster();
      throwsSim(() => o.onRestart(2, status(2, 'Follower', { term: 0, vote: 0, commit: 0 }), 0), /term went back/);
    });
    it('fires on a learner that campaigns', () => {
      const o = cluster();
      throwsSim(
        () =>
          o.afterStep(
            3,
            status(3, 'Candidate', { term: 2, vote: 3, commit: 0 }, { voters: [1, 2], learners: [3] }),
            noTerm,
          ),
        /learner is Candidate/,
      );
    });
  });
});
