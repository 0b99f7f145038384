/*
 * Tests of LevelKvStateMachine against a real classic-level database in a temp dir: exactly-once
 * apply across reopen, crash replay (an unsynced apply "lost" by restoring the on-disk files to their
 * state before it), snapshot/restore round trips (byte-identical), reads, views, transactions and
 * watches (history replay, compaction, restore).
 */
import { strict as assert } from 'node:assert';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { EntryType, type Entry } from '../../../../src/raft/types.js';
import {
  cmp,
  encodeCommand,
  LevelKvStateMachine,
  type KvCommand,
  type KvDatabase,
  type KvEvent,
  type Txn,
} from '../../../../src/state/index.js';
import type { ShoalError } from '../../../../src/shared/index.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const entry = (index: number, cmd?: KvCommand): Entry => ({
  term: 1,
  index,
  type: EntryType.Normal,
  data: cmd ? encodeCommand(cmd) : new Uint8Array(0),
});
/** Entries 1..n: a no-op at 1, then puts of unique keys k2..kn, with every third one overwriting k2. */
const workload = (n: number): Entry[] =>
  Array.from({ length: n }, (_, i) =>
    i === 0 ? entry(1) : entry(i + 1, { kind: 'put', key: (i + 1) % 3 === 0 ? 'k2' : `k${i + 1}`, value: b(`v${i + 1}`) }),
  );

describe('src/state/kv/level-kv-state-machine', () => {
  let dir: string;
  const open: { db: ClassicLevel<Uint8Array, Uint8Array>; sm: LevelKvStateMachine }[] = [];
  async function openDb(path: string, historyEvents?: number): Promise<{ db: KvDatabase; sm: LevelKvStateMachine }> {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(path);
    await db.open();
    const sm = await LevelKvStateMachine.open(db, historyEvents === undefined ? {} : { historyEvents });
    open.push({ db, sm });
    return { db, sm };
  }
  async function closeAll(): Promise<void> {
    for (const { db, sm } of open.splice(0)) {
      await sm.flush();
      await db.close();
    }
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-kv-'));
  });
  afterEach(async () => {
    await closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  describe('LevelKvStateMachine', () => {
    it('applies each entry exactly once across a reopen', async () => {
      const path = join(dir, 'db');
      let { sm } = await openDb(path);
      const first = await sm.apply(workload(5));
      assert.deepEqual(first[1], { kind: 'put', revision: 1, version: 1 });
      await closeAll();
      ({ sm } = await openDb(path));
      assert.equal(sm.appliedIndex(), 5);
      const again = await sm.apply(workload(8));
      assert.deepEqual(again.slice(0, 5), [undefined, undefined, undefined, undefined, undefined]);
      assert.equal(sm.appliedIndex(), 8);
      assert.equal((await sm.get('k2'))?.version, 3); // put at 2, overwritten at 3 and 6
      assert.equal((await sm.get('k4'))?.version, 1);
      assert.equal(sm.revision(), 7);
    });

    it('refuses a gap in the applied sequence', async () => {
      const { sm } = await openDb(join(dir, 'db'));
      await sm.apply(workload(2));
      await assert.rejects(sm.apply([entry(4)]), /Entry 4 applied after 2/);
    });

    it('replays to the same state after losing an unsynced apply', async () => {
      const reference = await openDb(join(dir, 'ref'));
      await reference.sm.apply(workload(10));
      const want = await reference.sm.digest();

      const path = join(dir, 'db');
      let { sm } = await openDb(path);
      await sm.apply(workload(5));
      await closeAll();
      await cp(path, join(dir, 'before'), { recursive: true });
      ({ sm } = await openDb(path));
      await sm.apply(workload(10).slice(5));
      await closeAll();
      // The machine "crashes": the apply of 6..10 never reached the disk.
      await rm(path, { recursive: true });
      await cp(join(dir, 'before'), path, { recursive: true });
      ({ sm } = await openDb(path));
      assert.equal(sm.appliedIndex(), 5);
      await sm.apply(workload(10)); // the runtime replays the committed log
      assert.deepEqual(await sm.digest(), want);
      assert.equal(sm.revision(), reference.sm.revision());
    });

    it('restores a snapshot into another database, replacing what was there', async () => {
      const a = await openDb(join(dir, 'a'));
      await a.sm.apply(workload(9));
      await a.sm.apply([entry(10, { kind: 'delete', key: 'k4' })]);
      const snap = await a.sm.snapshot();
      assert.equal(snap.index, 10);

      const c = await openDb(join(dir, 'c'));
      await c.sm.apply([entry(1, { kind: 'put', key: 'stale', value: b('x') })]);
      await c.sm.restore({ meta: { index: 10, term: 1, confState: { voters: [1], learners: [] } }, data: snap.data });
      assert.deepEqual(await c.sm.digest(), await a.sm.digest());
      assert.equal(await c.sm.get('stale'), undefined);
      assert.equal(c.sm.appliedIndex(), 10);
      assert.equal(c.sm.revision(), a.sm.revision());
      // And it keeps applying after the snapshot.
      const r = await c.sm.apply([entry(11, { kind: 'put', key: 'k2', value: b('z') })]);
      assert.deepEqual(r, [{ kind: 'put', revision: a.sm.revision() + 1, version: 5 }]);
    });

    it('refuses a snapshot whose data is at another index than its metadata', async () => {
      const a = await openDb(join(dir, 'a'));
      await a.sm.apply(workload(3));
      const snap = await a.sm.snapshot();
      await assert.rejects(
        a.sm.restore({ meta: { index: 7, term: 1, confState: { voters: [1], learners: [] } }, data: snap.data }),
        (err: unknown) => err instanceof Error && 'code' in err && err.code === 'DATA_LOSS',
      );
    });

    it('serves reads from batches still being written (write-behind) and persists them', async () => {
      const path = join(dir, 'db');
      let { sm } = await openDb(path);
      const writes = Array.from({ length: 20 }, (_, i) => entry(i + 1, { kind: 'put', key: 'hot', value: b(`v${i}`) }));
      for (const e of writes) await sm.apply([e]); // no flush in between
      assert.equal((await sm.get('hot'))?.version, 20);
      assert.equal(new TextDecoder().decode((await sm.get('hot'))!.value), 'v19');
      await closeAll();
      ({ sm } = await openDb(path));
      assert.equal(sm.appliedIndex(), 20);
      assert.equal((await sm.get('hot'))?.version, 20);
    });

    it('lists keys by prefix in key order and answers cas results', async () => {
      const { sm } = await openDb(join(dir, 'db'));
      await sm.apply([
        entry(1, { kind: 'put', key: 'a/1', value: b('1') }),
        entry(2, { kind: 'put', key: 'b/1', value: b('2') }),
        entry(3, { kind: 'put', key: 'a/2', value: b('3') }),
        entry(4, { kind: 'cas', key: 'a/1', expected: { kind: 'version', version: 1 }, value: b('4') }),
        entry(5, { kind: 'cas', key: 'a/1', expected: { kind: 'version', version: 1 }, value: b('5') }),
      ]);
      assert.deepEqual((await sm.list('a/')).map((kv) => [kv.key, new TextDecoder().decode(kv.value), kv.version]), [
        ['a/1', '4', 2],
        ['a/2', '3', 1],
      ]);
      assert.equal((await sm.list('', 1)).length, 1);
    });

    it('applies a transaction atomically, once, across a reopen', async () => {
      const path = join(dir, 'db');
      let { sm } = await openDb(path);
      const t: Txn = {
        compare: [cmp.absent('i/web1')],
        success: [
          { kind: 'put', key: 'i/web1', value: b('{}') },
          { kind: 'put', key: 'v/web1', value: b('{}') },
          { kind: 'put', key: 'op/1', value: b('{}') },
        ],
        failure: [{ kind: 'range', key: 'i/web1' }],
      };
      const [first, second] = await sm.apply([entry(1, { kind: 'txn', txn: t }), entry(2, { kind: 'txn', txn: t })]);
      assert.equal(first?.kind === 'txn' && first.succeeded, true);
      assert.equal(second?.kind === 'txn' && second.succeeded, false);
      assert.equal(sm.revision(), 1);
      assert.deepEqual(sm.range('').kvs.map((kv) => [kv.key, kv.modRevision]), [['i/web1', 1], ['op/1', 1], ['v/web1', 1]]);
      await closeAll();
      ({ sm } = await openDb(path));
      assert.deepEqual(await sm.apply([entry(1, { kind: 'txn', txn: t }), entry(2, { kind: 'txn', txn: t })]), [undefined, undefined]);
      assert.equal(sm.revision(), 1);
      assert.equal(sm.range('').count, 3);
    });

    it('gives views that later applies do not change', async () => {
      const { sm } = await openDb(join(dir, 'db'));
      await sm.apply(workload(4));
      const v = sm.view();
      await sm.apply([entry(5, { kind: 'put', key: 'k2', value: b('later') }), entry(6, { kind: 'delete', key: 'k4' })]);
      assert.equal(v.appliedIndex, 4);
      assert.equal(v.revision, 3);
      assert.equal(new TextDecoder().decode(v.getKv('k2')!.value), 'v3');
      assert.ok(v.getKv('k4'));
      assert.equal(sm.getKv('k4'), undefined);
    });

    it('snapshots byte-identically after a restore', async () => {
      const a = await openDb(join(dir, 'a'));
      await a.sm.apply(workload(30));
      const snap = await a.sm.snapshot();
      const c = await openDb(join(dir, 'c'));
      await c.sm.restore({ meta: { index: snap.index, term: 1, confState: { voters: [1], learners: [] } }, data: snap.data });
      assert.deepEqual(Buffer.from((await c.sm.snapshot()).data), Buffer.from(snap.data));
      await closeAll();
      const again = await openDb(join(dir, 'c'));
      assert.deepEqual(Buffer.from((await again.sm.snapshot()).data), Buffer.from(snap.data));
    });

    it('replays history to a watcher from a revision, then streams live events for its prefix', async () => {
      const { sm } = await openDb(join(dir, 'db'));
      await sm.apply([
        entry(1, { kind: 'put', key: 'a/1', value: b('1') }),
        entry(2, { kind: 'put', key: 'b/1', value: b('2') }),
        entry(3, { kind: 'put', key: 'a/1', value: b('3') }),
      ]);
      const seen: KvEvent[] = [];
      const w = sm.watch('a/', 2, { next: (evs) => seen.push(...evs) });
      await sm.apply([entry(4, { kind: 'delete', key: 'a/1' }), entry(5, { kind: 'put', key: 'b/2', value: b('x') })]);
      await new Promise((r) => setImmediate(r));
      w.dispose();
      await sm.apply([entry(6, { kind: 'put', key: 'a/2', value: b('y') })]);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(
        seen.map((e) => [e.type, e.revision, e.kv.key, new TextDecoder().decode(e.kv.value), e.prev?.version]),
        [
          ['put', 3, 'a/1', '3', 1],
          ['delete', 4, 'a/1', '', 2],
        ],
      );
    });

    it('refuses a watch from a compacted revision and names the oldest available', async () => {
      const { sm } = await openDb(join(dir, 'db'), 5);
      await sm.apply(Array.from({ length: 10 }, (_, i) => entry(i + 1, { kind: 'put', key: `k${i}`, value: b('v') })));
      assert.equal(sm.compactRevision(), 5);
      assert.throws(
        () => sm.watch('', 5, { next: () => undefined }),
        (err: ShoalError) => err.code === 'FAILED_PRECONDITION' && /revisions up to 5 were compacted/.test(err.message) && err.details?.['compactRevision'] === 5,
      );
      const seen: number[] = [];
      sm.watch('', 6, { next: (evs) => seen.push(...evs.map((e) => e.revision)) });
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(seen, [6, 7, 8, 9, 10]);
    });

    it('ends watchers with a compaction error when a snapshot replaces the state', async () => {
      const a = await openDb(join(dir, 'a'));
      await a.sm.apply(workload(6));
      const snap = await a.sm.snapshot();
      const c = await openDb(join(dir, 'c'));
      const errors: ShoalError[] = [];
      c.sm.watch('', undefined, { next: () => undefined, error: (e) => errors.push(e) });
      await c.sm.restore({ meta: { index: snap.index, term: 1, confState: { voters: [1], learners: [] } }, data: snap.data });
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(errors.map((e) => e.code), ['FAILED_PRECONDITION']);
      assert.throws(() => c.sm.watch('', a.sm.revision(), { next: () => undefined }), /compacted/);
    });
  });
});
