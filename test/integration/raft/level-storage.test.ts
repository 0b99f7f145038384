// Covers src/raft/storage/level-storage.ts on a real LevelDB in a temp dir: persist and recover,
// suffix truncation, snapshot install and creation with a trailing log, a shared DB, the sync
// flag reaching LevelDB, and the view changing only after the batch is durable.
// Corruption detection lives in level-storage-corruption.test.ts, the model test in
// level-storage-model.test.ts.
import { strict as assert } from 'node:assert';
import { ClassicLevel } from 'classic-level';
import { ErrorCode, ShoalError } from '../../../src/shared/index.js';
import {
  EMPTY_HARD_STATE,
  EMPTY_SNAPSHOT,
  EntryType,
  LevelLogStorage,
  LogCompactedError,
  RaftInvariantError,
  type Entry,
  type Snapshot,
} from '../../../src/raft/index.js';
import { makeTempDir } from '../../support/tmpdir.js';

function ents(from: number, to: number, term: number, size = 8): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) {
    out.push({
      index: i,
      term,
      type: i % 7 === 0 ? EntryType.ConfChange : EntryType.Normal,
      data: new Uint8Array(size).fill(i & 0xff),
    });
  }
  return out;
}

function allEntries(s: LevelLogStorage): readonly Entry[] {
  return s.entries(s.firstIndex(), s.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
}

/** Compares what two storages expose, with data compared as bytes. */
function assertSameLog(a: LevelLogStorage, b: LevelLogStorage): void {
  assert.equal(a.firstIndex(), b.firstIndex());
  assert.equal(a.lastIndex(), b.lastIndex());
  assert.deepEqual(a.initialState(), b.initialState());
  const bytes = (e: Entry): unknown => ({ ...e, data: Buffer.from(e.data).toString('hex') });
  assert.deepEqual(allEntries(a).map(bytes), allEntries(b).map(bytes));
  assert.deepEqual(a.snapshot().meta, b.snapshot().meta);
  assert.ok(Buffer.from(a.snapshot().data).equals(Buffer.from(b.snapshot().data)));
  for (let i = a.firstIndex() - 1; i <= a.lastIndex(); i++) assert.equal(a.term(i), b.term(i));
}

describe('src/raft/storage/level-storage', () => {
  describe('LevelLogStorage', () => {
    let dir: { path: string; remove: () => Promise<void> };
    const open: LevelLogStorage[] = [];
    const openAt = async (path = dir.path): Promise<LevelLogStorage> => {
      const s = await LevelLogStorage.open({ path });
      open.push(s);
      return s;
    };
    const reopen = async (s: LevelLogStorage): Promise<LevelLogStorage> => {
      await s.close();
      return openAt();
    };

    beforeEach(async () => {
      dir = await makeTempDir('level-storage');
    });
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
      await dir.remove();
    });

    it('starts empty', async () => {
      const s = await openAt();
      assert.deepEqual(s.initialState(), { hardState: EMPTY_HARD_STATE, confState: { voters: [], learners: [] } });
      assert.equal(s.firstIndex(), 1);
      assert.equal(s.lastIndex(), 0);
      assert.equal(s.term(0), 0);
      assert.deepEqual(s.snapshot().meta, EMPTY_SNAPSHOT.meta);
    });

    it('recovers entries and hard state exactly after a reopen', async () => {
      const s = await openAt();
      await s.persist({ entries: ents(1, 5, 1), hardState: { term: 1, vote: 1, commit: 3 }, sync: true });
      await s.persist({ entries: ents(6, 9, 2), hardState: { term: 2, vote: 2, commit: 8 }, sync: true });
      const r = await reopen(s);
      assert.deepEqual(r.initialState().hardState, { term: 2, vote: 2, commit: 8 });
      assert.deepEqual(allEntries(r), [...ents(1, 5, 1), ...ents(6, 9, 2)]);
      assert.equal(r.term(9), 2);
    });

    it('replaces a conflicting suffix, durably', async () => {
      const s = await openAt();
      await s.persist({ entries: ents(1, 6, 1), sync: true });
      await s.persist({ entries: ents(3, 4, 2), sync: true });
      assert.deepEqual(allEntries(s), [...ents(1, 2, 1), ...ents(3, 4, 2)]);
      const r = await reopen(s);
      assert.deepEqual(allEntries(r), [...ents(1, 2, 1), ...ents(3, 4, 2)]);
    });

    it('refuses a gap, a decreasing term or a commit beyond the log and writes nothing', async () => {
      const s = await openAt();
      await s.persist({ entries: ents(1, 3, 2), sync: true });
      await assert.rejects(s.persist({ entries: ents(5, 6, 2), sync: true }), RaftInvariantError);
      await assert.rejects(s.persist({ entries: ents(4, 4, 1), sync: true }), RaftInvariantError);
      await assert.rejects(
        s
          .persist({ entries: ents(4, 4, 2), hardState: { term: 3, vote: 0, commit: 1 }, sync: true })
          .then(() => s.persist({ entries: [...ents(5, 5, 2), ...ents(7, 7, 2)], sync: true })),
        RaftInvariantError,
      );
      await assert.rejects(
        s.persist({ entries: [], hardState: { term: 3, vote: 0, commit: 5 }, sync: true }),
        RaftInvariantError,
      );
      const r = await reopen(s);
      assert.equal(r.lastIndex(), 4);
      assert.deepEqual(r.initialState().hardState, { term: 3, vote: 0, commit: 1 });
    });

    it('installs a snapshot from the leader, discarding the log, in one batch', async () => {
      const s = await openAt();
      await s.persist({ entries: ents(1, 5, 1), sync: true });
      const snap: Snapshot = {
        meta: { index: 10, term: 3, confState: { voters: [1, 2, 3], learners: [4] } },
        data: new Uint8Array([1, 2, 3]),
      };
      await s.persist({
        snapshot: snap,
        entries: ents(11, 12, 3),
        hardState: { term: 3, vote: 0, commit: 10 },
        sync: true,
      });
      assert.equal(s.firstIndex(), 11);
      assert.equal(s.term(10), 3);
      assert.throws(() => s.entries(5, 6, 100), LogCompactedError);
      const r = await reopen(s);
      assert.deepEqual(r.snapshot(), snap);
      assert.deepEqual(r.initialState().confState, { voters: [1, 2, 3], learners: [4] });
      assert.deepEqual(allEntries(r), ents(11, 12, 3));
    });

    it('creates a snapshot and compacts the log up to index - trailing', async () => {
      const s = await openAt();
      await s.persist({ entries: ents(1, 20, 2), hardState: { term: 2, vote: 1, commit: 18 }, sync: true });
      const snap = await s.createSnapshot(15, { voters: [1, 2], learners: [] }, new Uint8Array([9, 9]), 5);
      assert.deepEqual(snap.meta, { index: 15, term: 2, confState: { voters: [1, 2], learners: [] } });
      assert.equal(s.firstIndex(), 11);
      assert.equal(s.term(10), 2);
      const r = await reopen(s);
      assertSameLog(s, r);
      assert.equal(r.firstIndex(), 11);
      assert.deepEqual(r.snapshot(), snap);
      // A second snapshot replaces the first one's data and compacts further.
      await r.createSnapshot(18, { voters: [1, 2, 3], learners: [] }, new Uint8Array(10).fill(7), 0);
      const r2 = await reopen(r);
      assert.equal(r2.firstIndex(), 19);
      assert.equal(r2.snapshot().meta.index, 18);
      assert.deepEqual(allEntries(r2), ents(19, 20, 2));
    });

    it('stores a snapshot larger than one chunk and verifies it on open', async () => {
      const s = await openAt();
      await s.persist({ entries: ents(1, 3, 1), hardState: { term: 1, vote: 1, commit: 3 }, sync: true });
      const data = new Uint8Array(2.5 * 1024 * 1024);
      for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
      await s.createSnapshot(3, { voters: [1], learners: [] }, data, 0);
      const r = await reopen(s);
      assert.ok(Buffer.from(r.snapshot().data).equals(Buffer.from(data)));
      assert.equal(r.firstIndex(), 4);
    });

    it('shares an open DB with other sublevels and leaves it open on close', async () => {
      const db = new ClassicLevel<string, string>(dir.path);
      await db.open();
      try {
        const s = await LevelLogStorage.open({ db, prefix: 'raft' });
        const kv = db.sublevel('kv');
        await s.persist({ entries: ents(1, 2, 1), sync: true });
        await kv.put('applied', '2');
        await s.close();
        assert.equal(db.status, 'open');
        const r = await LevelLogStorage.open({ db, prefix: 'raft' });
        assert.equal(r.lastIndex(), 2);
        assert.equal(await kv.get('applied'), '2');
        await r.close();
      } finally {
        await db.close();
      }
    });

    it('passes sync to LevelDB with the batch', async () => {
      const db = new ClassicLevel<string, string>(dir.path);
      await db.open();
      const seen: unknown[] = [];
      const batch = db.batch.bind(db) as (ops: unknown, opts: unknown) => Promise<void>;
      (db as unknown as { batch: (ops: unknown, opts: { sync?: boolean }) => Promise<void> }).batch = (ops, opts) => {
        seen.push(opts.sync);
        return batch(ops, opts);
      };
      try {
        const s = await LevelLogStorage.open({ db });
        await s.persist({ entries: ents(1, 2, 1), hardState: { term: 1, vote: 1, commit: 0 }, sync: true });
        await s.persist({ entries: [], hardState: { term: 1, vote: 1, commit: 2 }, sync: false });
        await s.createSnapshot(2, { voters: [1], learners: [] }, new Uint8Array(1), 0);
        await s.close();
        // persist(sync) ×2, then createSnapshot: the snapshot batch synced, the compaction batch not.
        assert.deepEqual(seen, [true, false, true, false]);
      } finally {
        await db.close();
      }
    });

    it('stays consistent when compaction fails after the snapshot was stored (crash between batches)', async () => {
      const db = new ClassicLevel<string, string>(dir.path);
      await db.open();
      const batch = db.batch.bind(db) as (ops: unknown, opts: unknown) => Promise<void>;
      let calls = 0;
      (db as unknown as { batch: (ops: unknown, opts: { sync?: boolean }) => Promise<void> }).batch = (ops, opts) => {
        if (++calls === 2) return Promise.reject(new Error('simulated crash before the compaction batch'));
        return batch(ops, opts);
      };
      try {
        const s = await LevelLogStorage.open({ db });
        await s.persist({ entries: ents(1, 10, 1), hardState: { term: 1, vote: 1, commit: 10 }, sync: true });
        calls = 0; // The next batch (snapshot) succeeds, the one after (compaction) fails.
        await assert.rejects(s.createSnapshot(8, { voters: [1], learners: [] }, new Uint8Array([1]), 2));
        await s.close();
        const r = await LevelLogStorage.open({ db });
        assert.equal(r.snapshot().meta.index, 8);
        assert.equal(r.firstIndex(), 1);
        assert.deepEqual(allEntries(r), ents(1, 10, 1));
        // Compaction simply happens with the next snapshot.
        await r.createSnapshot(9, { voters: [1], learners: [] }, new Uint8Array([2]), 2);
        assert.equal(r.firstIndex(), 8);
        await r.close();
      } finally {
        await db.close();
      }
    });

    it('changes the in-memory view only after the batch has resolved', async () => {
      const db = new ClassicLevel<string, string>(dir.path);
      await db.open();
      const batch = db.batch.bind(db) as (ops: unknown, opts: unknown) => Promise<void>;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      (db as unknown as { batch: (ops: unknown, opts: unknown) => Promise<void> }).batch = async (ops, opts) => {
        await gate;
        return batch(ops, opts);
      };
      try {
        const s = await LevelLogStorage.open({ db });
        const pending = s.persist({ entries: ents(1, 3, 1), hardState: { term: 1, vote: 1, commit: 0 }, sync: true });
        await new Promise((r) => setImmediate(r));
        assert.equal(s.lastIndex(), 0);
        assert.deepEqual(s.initialState().hardState, EMPTY_HARD_STATE);
        release();
        await pending;
        assert.equal(s.lastIndex(), 3);
        await s.close();
      } finally {
        await db.close();
      }
    });

    it('refuses a second open of the same directory', async () => {
      await openAt();
      await assert.rejects(LevelLogStorage.open({ path: dir.path }), (err: unknown) => {
        assert.ok(err instanceof ShoalError);
        assert.equal(err.code, ErrorCode.Unavailable);
        return true;
      });
    });

    it('rejects mutations after close', async () => {
      const s = await openAt();
      await s.close();
      await assert.rejects(s.persist({ entries: ents(1, 1, 1), sync: true }), (err: unknown) => {
        assert.ok(err instanceof ShoalError);
        assert.equal(err.code, ErrorCode.FailedPrecondition);
        return true;
      });
    });
  });
});
