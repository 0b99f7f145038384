/*
 * Property tests (fast-check) of the core's arithmetic and data structures against dumb reference
 * models: quorum commit index and vote outcome (etcd quorum/quick_test.go), the Inflights window,
 * MemoryLogStorage append/truncate/compact, and RaftLog (stable + unstable) append/persist.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { EntryType, MemoryLogStorage, type Entry } from '../../../../src/raft/index.js';
import { Inflights } from '../../../../src/raft/core/inflights.js';
import { RaftLog } from '../../../../src/raft/core/log.js';
import { VoteResult, committedIndex, voteResult } from '../../../../src/raft/core/quorum.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function entry(index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: new Uint8Array(0) };
}

/** Voters 1..n with an acked index (or none) each. */
const ackedVoters = fc
  .array(fc.option(fc.nat({ max: 1000 }), { nil: undefined }), { minLength: 1, maxLength: 9 })
  .map((acks) => ({ voters: acks.map((_, i) => i + 1), acks }));

describe('src/raft/core properties', () => {
  describe('quorum', () => {
    it('commits the largest index acked by a majority (sort-based reference)', () => {
      fc.assert(
        fc.property(ackedVoters, ({ voters, acks }) => {
          const sorted = acks.map((a) => a ?? 0).sort((a, b) => b - a);
          const want = sorted[Math.floor(voters.length / 2)]!;
          assert.equal(
            committedIndex(voters, (id) => acks[id - 1]),
            want,
          );
        }),
      );
    });

    it('decides elections like counting yes and no against the majority', () => {
      const votes = fc.array(fc.option(fc.boolean(), { nil: undefined }), { minLength: 1, maxLength: 9 });
      fc.assert(
        fc.property(votes, (vs) => {
          const voters = vs.map((_, i) => i + 1);
          const map = new Map<number, boolean>();
          vs.forEach((v, i) => v !== undefined && map.set(i + 1, v));
          const q = Math.floor(vs.length / 2) + 1;
          const yes = vs.filter((v) => v === true).length;
          const no = vs.filter((v) => v === false).length;
          const want = yes >= q ? VoteResult.Won : vs.length - no >= q ? VoteResult.Pending : VoteResult.Lost;
          assert.equal(voteResult(voters, map), want);
        }),
      );
    });
  });

  describe('Inflights', () => {
    it('never exceeds its message limit, nor its byte limit by more than one message, and frees like a queue', () => {
      const op = fc.oneof(
        fc.record({ kind: fc.constant('add' as const), bytes: fc.nat({ max: 50 }) }),
        fc.record({ kind: fc.constant('free' as const), upto: fc.nat({ max: 40 }) }),
      );
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 8 }),
          fc.nat({ max: 120 }),
          fc.array(op, { maxLength: 200 }),
          (max, maxBytes, ops) => {
            const w = new Inflights(max, maxBytes);
            const model: { index: number; bytes: number }[] = [];
            let next = 1;
            for (const o of ops) {
              if (o.kind === 'add') {
                const total = model.reduce((s, m) => s + m.bytes, 0);
                const full = model.length === max || (maxBytes > 0 && total >= maxBytes);
                assert.equal(w.full(), full);
                if (full) continue;
                w.add(next, o.bytes);
                model.push({ index: next, bytes: o.bytes });
                next += 1 + (o.bytes % 3);
              } else {
                w.freeLE(o.upto);
                while (model.length > 0 && model[0]!.index <= o.upto) model.shift();
              }
              const total = model.reduce((s, m) => s + m.bytes, 0);
              assert.equal(w.count, model.length);
              assert.equal(w.bytes, total);
              assert.ok(w.count <= max);
              if (maxBytes > 0 && model.length > 0) assert.ok(total - model[model.length - 1]!.bytes < maxBytes);
            }
          },
        ),
      );
    });
  });

  describe('log storage', () => {
    /** Appends at a position within [first, last+1] with non-decreasing terms, or compacts. */
    const logOp = fc.oneof(
      fc.record({
        kind: fc.constant('append' as const),
        back: fc.nat({ max: 6 }),
        n: fc.integer({ min: 1, max: 5 }),
        bump: fc.nat({ max: 2 }),
      }),
      fc.record({ kind: fc.constant('compact' as const), back: fc.nat({ max: 8 }) }),
    );

    it('MemoryLogStorage keeps the log a reference array would keep', () => {
      fc.assert(
        fc.property(fc.array(logOp, { maxLength: 60 }), (ops) => {
          const s = new MemoryLogStorage();
          let model: Entry[] = []; // entries after the compaction point
          let offset = 0; // index of the compaction point
          let offsetTerm = 0;
          for (const o of ops) {
            const last = offset + model.length;
            if (o.kind === 'append') {
              const from = Math.max(offset + 1, last + 1 - o.back);
              const prevTerm = from - 1 === offset ? offsetTerm : model[from - 1 - offset - 1]!.term;
              const ents = Array.from({ length: o.n }, (_, i) => entry(from + i, prevTerm + o.bump));
              s.append(ents);
              model = [...model.slice(0, from - offset - 1), ...ents];
            } else {
              const at = Math.max(offset, last - o.back);
              if (at > offset) {
                offsetTerm = model[at - offset - 1]!.term;
                model = model.slice(at - offset);
                offset = at;
              }
              s.compact(at);
            }
            assert.equal(s.firstIndex(), offset + 1);
            assert.equal(s.lastIndex(), offset + model.length);
            assert.equal(s.term(offset), offsetTerm);
            assert.deepEqual(s.entries(offset + 1, offset + model.length + 1, Infinity), model);
          }
        }),
      );
    });

    it('RaftLog shows stable + unstable as one log through append, persist and truncation', () => {
      const op = fc.oneof(
        fc.record({
          kind: fc.constant('append' as const),
          back: fc.nat({ max: 6 }),
          n: fc.integer({ min: 1, max: 5 }),
          bump: fc.nat({ max: 2 }),
        }),
        fc.record({ kind: fc.constant('persist' as const) }),
        fc.record({ kind: fc.constant('commit' as const), back: fc.nat({ max: 4 }) }),
      );
      fc.assert(
        fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
          const storage = new MemoryLogStorage();
          const log = new RaftLog(storage, silent, 0);
          let model: Entry[] = [];
          for (const o of ops) {
            const last = model.length;
            if (o.kind === 'append') {
              const from = Math.max(log.committed + 1, last + 1 - o.back);
              const prevTerm = from === 1 ? 0 : model[from - 2]!.term;
              const ents = Array.from({ length: o.n }, (_, i) => entry(from + i, prevTerm + o.bump));
              assert.equal(log.append(ents), from + o.n - 1);
              model = [...model.slice(0, from - 1), ...ents];
            } else if (o.kind === 'persist') {
              // What a Ready hands out and advance() confirms.
              const ents = log.unstable.nextEntries();
              log.acceptUnstable();
              storage.append(ents);
              if (log.hasNextOrInProgressUnstableEnts()) log.stableTo(log.lastIndex(), log.lastTerm());
              assert.equal(log.hasNextOrInProgressUnstableEnts(), false);
            } else {
              log.commitTo(Math.max(log.committed, last - o.back));
            }
            assert.equal(log.lastIndex(), model.length);
            assert.equal(log.firstIndex(), 1);
            assert.deepEqual(log.slice(1, model.length + 1, Infinity), model);
            for (const e of model) assert.equal(log.term(e.index), e.term);
            assert.ok(log.committed <= log.lastIndex());
          }
          // Persist whatever is left: stable storage then holds exactly the log.
          storage.append(log.unstable.nextEntries());
          assert.deepEqual(storage.entries(1, storage.lastIndex() + 1, Infinity), model);
        }),
      );
    });
  });
});
