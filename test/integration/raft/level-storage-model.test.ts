// Model-based property test of src/raft/storage/level-storage.ts against MemoryLogStorage (the
// reference): fast-check generates abstract operations (append with truncation, hard state,
// snapshot install, snapshot creation with a trailing log, close + reopen), each is applied to
// both, and everything the LogStorage interface shows is compared after every step. Operations
// respect raft's own rules (never truncate committed entries, snapshots at or below commit).
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  EntryType,
  LevelLogStorage,
  MemoryLogStorage,
  type Entry,
  type HardState,
  type LogStorage,
  type Snapshot,
} from '../../../src/raft/index.js';
import { makeTempDir } from '../../support/tmpdir.js';

type Op =
  | { kind: 'append'; at: number; count: number; bumps: number[]; commit: number; vote: number; sync: boolean }
  | { kind: 'install'; ahead: number; bump: number; after: number; size: number }
  | { kind: 'snapshot'; at: number; trailing: number; size: number }
  | { kind: 'reopen' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      count: fc.integer({ min: 0, max: 6 }),
      bumps: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 6, maxLength: 6 }),
      commit: fc.double({ min: 0, max: 1, noNaN: true }),
      vote: fc.integer({ min: 0, max: 3 }),
      sync: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('install' as const),
      ahead: fc.integer({ min: 1, max: 5 }),
      bump: fc.integer({ min: 0, max: 2 }),
      after: fc.integer({ min: 0, max: 3 }),
      size: fc.integer({ min: 0, max: 3000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('snapshot' as const),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      trailing: fc.integer({ min: 0, max: 5 }),
      size: fc.integer({ min: 0, max: 3000 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

const pick = (frac: number, lo: number, hi: number): number => lo + Math.min(hi - lo, Math.floor(frac * (hi - lo + 1)));
const bytes = (n: number, seed: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);

function assertSame(model: LogStorage, real: LogStorage): void {
  assert.equal(real.firstIndex(), model.firstIndex());
  assert.equal(real.lastIndex(), model.lastIndex());
  assert.deepEqual(real.initialState(), model.initialState());
  const hex = (e: Entry): unknown => ({ ...e, data: Buffer.from(e.data).toString('hex') });
  const all = (s: LogStorage): unknown[] => s.entries(s.firstIndex(), s.lastIndex() + 1, Infinity).map(hex);
  assert.deepEqual(all(real), all(model));
  for (let i = model.firstIndex() - 1; i <= model.lastIndex(); i++) assert.equal(real.term(i), model.term(i));
  assert.deepEqual(real.snapshot().meta, model.snapshot().meta);
  assert.equal(Buffer.from(real.snapshot().data).toString('hex'), Buffer.from(model.snapshot().data).toString('hex'));
}

describe('src/raft/storage/level-storage', () => {
  describe('LevelLogStorage (model-based)', () => {
    it('shows exactly what MemoryLogStorage shows, across random operations and reopens', async () => {
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
          const dir = await makeTempDir('level-model');
          let real = await LevelLogStorage.open({ path: dir.path });
          try {
            const model = new MemoryLogStorage();
            let hs: HardState = model.initialState().hardState;
            let seq = ++runs * 1000;
            for (const op of ops) {
              seq++;
              const last = model.lastIndex();
              switch (op.kind) {
                case 'append': {
                  // Never truncate committed entries (raft's guarantee).
                  const start = pick(op.at, Math.max(model.firstIndex(), hs.commit + 1), last + 1);
                  let term = Math.max(model.term(start - 1), 1);
                  const entries: Entry[] = [];
                  for (let k = 0; k < op.count; k++) {
                    term += op.bumps[k] ?? 0;
                    const type = (start + k) % 5 === 0 ? EntryType.ConfChange : EntryType.Normal;
                    entries.push({ index: start + k, term, type, data: bytes((seq + k) % 40, seq) });
                  }
                  const newLast = entries.length > 0 ? start + entries.length - 1 : last;
                  const commit = pick(op.commit, hs.commit, Math.min(newLast, hs.commit + 4));
                  hs = { term: Math.max(hs.term, term), vote: op.vote, commit };
                  await real.persist({ entries, hardState: hs, sync: op.sync });
                  model.append(entries);
                  model.setHardState(hs);
                  break;
                }
                case 'install': {
                  const index = Math.max(last, model.snapshot().meta.index) + op.ahead;
                  const term = Math.max(model.term(last), 1) + op.bump;
                  const snap: Snapshot = {
                    meta: { index, term, confState: { voters: [1, 2, 3].slice(0, 1 + (seq % 3)), learners: [] } },
                    data: bytes(op.size, seq),
                  };
                  const after: Entry[] = [];
                  for (let k = 1; k <= op.after; k++) {
                    after.push({ index: index + k, term, type: EntryType.Normal, data: bytes(k, seq) });
                  }
                  hs = { term: Math.max(hs.term, term), vote: hs.vote, commit: index };
                  await real.persist({ snapshot: snap, entries: after, hardState: hs, sync: true });
                  model.applySnapshot(snap);
                  model.append(after);
                  model.setHardState(hs);
                  break;
                }
                case 'snapshot': {
                  const lo = model.snapshot().meta.index + 1;
                  if (lo > hs.commit) break; // Nothing applied beyond the current snapshot.
                  const index = pick(op.at, lo, hs.commit);
                  const confState = { voters: [1, 2], learners: [seq % 2 === 0 ? 3 : 4] };
                  const data = bytes(op.size, seq);
                  const snap = await real.createSnapshot(index, confState, data, op.trailing);
                  const expected = model.createSnapshot(index, confState, data);
                  if (index - op.trailing > model.firstIndex() - 1) model.compact(index - op.trailing);
                  assert.deepEqual(snap.meta, expected.meta);
                  break;
                }
                case 'reopen':
                  await real.close();
                  real = await LevelLogStorage.open({ path: dir.path });
                  break;
              }
              assertSame(model, real);
            }
            // Whatever the last operation was, a reopen recovers the same state.
            await real.close();
            real = await LevelLogStorage.open({ path: dir.path });
            assertSame(model, real);
          } finally {
            await real.close();
            await dir.remove();
          }
        }),
        { numRuns: 60 },
      );
    });
  });
});
