/*
 * Unit tests of StateStore (src/state/store): typed views and write transactions over a real state
 * machine with a fake single-member Raft. Covers create/get/list, concurrent conflicting
 * transactions (exactly one wins; the other gets ABORTED naming the key, or on retry the integrity
 * error naming the object), explicit revision expectations, raw Txn conflicts, and linearizable
 * versus stale reads (ReadIndex rounds shared by concurrent readers).
 */
import { strict as assert } from 'node:assert';
import { cmp, instances, projects, type Txn } from '../../../src/state/index.js';
import type { ShoalError } from '../../../src/shared/index.js';
import { anInstance, openTestStore, withMembers, type TestStore } from '../../support/state/fixtures.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const code = (c: string, re?: RegExp) => (err: ShoalError): boolean => err.code === c && (re === undefined || re.test(err.message));

describe('src/state/store', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore();
    await withMembers(t.store);
  });
  afterEach(async () => {
    await t.close();
  });

  describe('StateStore.update / view', () => {
    it('creates records and reads them back with their revisions, in key order', async () => {
      const { revision } = await t.store.update((tx) => {
        tx.create(instances, anInstance({ name: 'web2' }));
        tx.create(instances, anInstance({ name: 'web1' }));
      });
      const v = await t.store.view();
      assert.deepEqual(v.list(instances, 'default').map((s) => [s.record.name, s.revision, s.recordVersion]), [['web1', revision, 1], ['web2', revision, 1]]);
      assert.equal(v.require(instances, 'default', 'web1').record.location, 'm1');
      assert.throws(() => v.require(instances, 'default', 'nope'), code('NOT_FOUND', /^Instance "nope" in project "default" not found$/));
    });

    it('lets a transaction read its own writes', async () => {
      const { result } = await t.store.update((tx) => {
        tx.create(instances, anInstance());
        return [tx.get(instances, 'default', 'web1')?.record.name, tx.list(instances).length];
      });
      assert.deepEqual(result, ['web1', 1]);
    });

    it('lets exactly one of two concurrent conflicting transactions win; the other gets ABORTED naming the key', async () => {
      const [a, b2] = await Promise.allSettled([
        t.store.update((tx) => tx.create(instances, anInstance({ location: 'm1' })), { maxAttempts: 1 }),
        t.store.update((tx) => tx.create(instances, anInstance({ location: 'm2' })), { maxAttempts: 1 }),
      ]);
      const outcomes = [a.status, b2.status].sort();
      assert.deepEqual(outcomes, ['fulfilled', 'rejected']);
      const err = (a.status === 'rejected' ? a.reason : (b2 as PromiseRejectedResult).reason) as ShoalError;
      assert.equal(err.code, 'ABORTED');
      assert.match(err.message, /^Conflict on "instances\/default\/web1" \(Instance "web1" in project "default"\): it changed after revision \d+ while the transaction ran$/);
      assert.equal(err.details?.['key'], 'instances/default/web1');
      assert.equal(err.retryable, true);
      const winner = a.status === 'fulfilled' ? 'm1' : 'm2';
      assert.equal((await t.store.view()).require(instances, 'default', 'web1').record.location, winner);
    });

    it('re-runs the loser on fresh state, where the integrity rule names the object', async () => {
      const results = await Promise.allSettled([
        t.store.update((tx) => tx.create(instances, anInstance())),
        t.store.update((tx) => tx.create(instances, anInstance())),
      ]);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(rejected.length, 1);
      assert.equal((rejected[0]!.reason as ShoalError).code, 'ALREADY_EXISTS');
      assert.equal((rejected[0]!.reason as ShoalError).message, 'Instance "web1" in project "default" already exists');
    });

    it('fails an explicit revision expectation at once, without retrying', async () => {
      const { revision } = await t.store.update((tx) => tx.create(instances, anInstance()));
      await t.store.update((tx) => tx.update(instances, { ...tx.require(instances, 'default', 'web1').record, description: 'changed' }));
      let runs = 0;
      await assert.rejects(
        t.store.update((tx) => {
          runs++;
          tx.update(instances, anInstance({ description: 'stale edit' }), { ifRevision: revision });
        }),
        code('ABORTED', /^Instance "web1" in project "default" changed: it is at revision \d+, the request expected \d+$/),
      );
      assert.equal(runs, 1);
      assert.equal((await t.store.view()).require(instances, 'default', 'web1').record.description, 'changed');
    });

    it('commits nothing and proposes nothing when the transaction only reads', async () => {
      const before = t.sm.revision();
      const { result, revision } = await t.store.update((tx) => tx.list(projects).length);
      assert.equal(result, 1);
      assert.equal(revision, before);
      assert.equal(t.sm.revision(), before);
    });
  });

  describe('StateStore.txn (raw)', () => {
    it('runs compares and branches atomically; of two creates of one key exactly one succeeds', async () => {
      const create = (v: string): Txn => ({
        compare: [cmp.absent('raw/k')],
        success: [{ kind: 'put', key: 'raw/k', value: b(v) }, { kind: 'put', key: `raw/by/${v}`, value: b('1') }],
        failure: [{ kind: 'range', key: 'raw/k' }],
      });
      const [x, y] = await Promise.all([t.store.txn(create('x')), t.store.txn(create('y'))]);
      assert.deepEqual([x.succeeded, y.succeeded].sort(), [false, true]);
      const loser = x.succeeded ? y : x;
      assert.equal(loser.failedCompare, 0);
      const r = loser.responses[0];
      assert.ok(r?.kind === 'range');
      assert.equal(new TextDecoder().decode(r.kvs[0]!.value), x.succeeded ? 'x' : 'y');
      assert.equal((await t.store.read()).range('raw/by/').count, 1);
    });

    it('refuses a malformed transaction before proposing it', async () => {
      const applied = t.sm.appliedIndex();
      await assert.rejects(
        t.store.txn({ compare: [], success: [{ kind: 'put', key: 'a', value: b('1') }, { kind: 'put', key: 'a', value: b('2') }], failure: [] }),
        code('INVALID_ARGUMENT', /duplicate key "a"/),
      );
      assert.equal(t.sm.appliedIndex(), applied);
    });
  });

  describe('reads', () => {
    it('uses a ReadIndex round for linearizable views, shared by concurrent readers, and none for stale ones', async () => {
      t.raft.readIndexCalls = 0;
      await Promise.all(Array.from({ length: 20 }, () => t.store.view()));
      assert.ok(t.raft.readIndexCalls >= 1 && t.raft.readIndexCalls <= 2, `${t.raft.readIndexCalls} rounds for 20 readers`);
      const calls = t.raft.readIndexCalls;
      await t.store.view({ stale: true });
      assert.equal(t.raft.readIndexCalls, calls);
    });
  });
});
