/*
 * Unit tests of placeInstance (src/cluster/placement) over a real StateStore (LevelDB state machine,
 * FakeStateRaft): decisions recorded as Creating records, dry-run, per-member reasons when nothing
 * fits, --target, in-flight records counted, batching of concurrent launches, conflicts between two
 * writers (re-decided, never overcommitting), ABORTED after persistent conflicts, and the small read
 * set (another member's heartbeat does not conflict).
 */
import { strict as assert } from 'node:assert';
import { ErrorCode, isShoalError, type Clock } from '../../../../src/shared/index.js';
import { allocationKey, describeNotPlaced, formatRejections, MAX_ATTEMPTS, Placer, placeInstance, touchMemberAllocation, type InstanceSpec, type PlacementStore } from '../../../../src/cluster/placement/index.js';
import { clusterGroups, instances, members, type StateStore } from '../../../../src/state/index.js';
import { anInstance, openTestStore, T0, withMembers, type TestStore } from '../../../support/state/fixtures.js';

const clock: Clock = { now: () => Date.parse(T0) + 1000, setTimer: () => ({ dispose: () => undefined }) };

/** An instance spec reserving `memory` (fixtures' members have 16GiB, 8 CPUs). */
function spec(name: string, memory = '4GiB', over: Partial<InstanceSpec> = {}): InstanceSpec {
  const { location: _l, status: _s, created_at: _c, last_used_at: _u, ...base } = anInstance({ name, config: { 'limits.memory': memory } });
  return { ...base, ...over };
}

async function allocatedGiB(store: StateStore): Promise<Record<string, number>> {
  const view = await store.view();
  const out: Record<string, number> = {};
  for (const { record } of view.list(instances)) out[record.location] = (out[record.location] ?? 0) + parseInt(record.config['limits.memory'] ?? '0', 10);
  return out;
}

describe('src/cluster/placement', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore();
    await withMembers(t.store, 3);
  });
  afterEach(async () => {
    await t.close();
  });

  describe('placeInstance', () => {
    it('records the instance as Creating on the member the scheduler chose', async () => {
      await t.store.update((tx) => tx.create(instances, anInstance({ name: 'old', location: 'm1', config: { 'limits.memory': '8GiB' } })));
      const out = await placeInstance(t.store, { instance: spec('web1') }, { clock });
      assert.ok(out.placed);
      assert.equal(out.member, 'm2');
      assert.equal(out.attempts, 1);
      assert.match(out.explanation, /^Member "m2" chosen by the spread policy; 3 of 3 members feasible/);
      const stored = (await t.store.view()).require(instances, 'default', 'web1');
      assert.deepEqual(stored.record, { ...out.record, created_at: new Date(clock.now()).toISOString() });
      assert.equal(stored.record.status, 'Creating');
      assert.equal(stored.record.location, 'm2');
      assert.equal(stored.revision, out.revision);
    });

    it('writes nothing on a dry run and says what it would do', async () => {
      const before = (await t.store.view()).revision;
      const out = await placeInstance(t.store, { instance: spec('web1') }, { clock, dryRun: true });
      assert.ok(out.placed);
      assert.equal(out.member, 'm1');
      assert.equal(out.revision, null);
      assert.equal((await t.store.view()).revision, before);
    });

    it('lists every member with its reason when nothing fits', async () => {
      await t.store.update((tx) => {
        const m3 = tx.require(members, 'm3').record;
        tx.update(members, { ...m3, state: 'Evacuated' });
      });
      const out = await placeInstance(t.store, { instance: spec('big', '20GiB') }, { clock, dryRun: true });
      assert.equal(out.placed, false);
      assert.equal(out.reason, 'No cluster member can take instance "big"');
      assert.deepEqual(
        out.rejections.map((r) => [r.member, r.filter]),
        [['m1', 'memory'], ['m2', 'memory'], ['m3', 'status']],
      );
      const lines = formatRejections(out.rejections);
      assert.equal(lines.length, 3);
      assert.match(lines[0]!, /^m1: Member "m1" has not enough memory: requested 20\.00GiB/);
      assert.equal(lines[2], 'm3: Member "m3" is evacuated');
      assert.equal(describeNotPlaced(out), `No cluster member can take instance "big": ${lines.join('; ')}`);
    });

    it('honours --target for a member and for @group, and explains an unknown target', async () => {
      await t.store.update((tx) => tx.create(clusterGroups, { name: 'edge', description: '', members: ['m3'], config: {} }));
      const pinned = await placeInstance(t.store, { instance: spec('a'), target: 'm2' }, { clock });
      assert.ok(pinned.placed);
      assert.equal(pinned.member, 'm2');
      const grouped = await placeInstance(t.store, { instance: spec('b'), target: '@edge' }, { clock });
      assert.ok(grouped.placed);
      assert.equal(grouped.member, 'm3');
      const unknown = await placeInstance(t.store, { instance: spec('c'), target: 'm9' }, { clock });
      assert.deepEqual(unknown, { placed: false, reason: 'Cluster member "m9" not found', rejections: [] });
      assert.ok(!unknown.placed);
      assert.equal(describeNotPlaced(unknown), 'Cluster member "m9" not found');
    });

    it('counts instances still being created (in-flight placements) as allocated', async () => {
      await t.store.update((tx) => {
        tx.create(instances, anInstance({ name: 'f1', location: 'm1', status: 'Creating', config: { 'limits.memory': '14GiB' } }));
        tx.create(instances, anInstance({ name: 'f2', location: 'm2', status: 'Creating', config: { 'limits.memory': '14GiB' } }));
      });
      const out = await placeInstance(t.store, { instance: spec('x', '4GiB'), target: 'm1' }, { clock });
      assert.equal(out.placed, false);
      assert.equal(out.rejections[0]?.filter, 'memory');
      const free = await placeInstance(t.store, { instance: spec('y', '4GiB') }, { clock });
      assert.ok(free.placed);
      assert.equal(free.member, 'm3');
    });

    it('fails a taken name with ALREADY_EXISTS without failing the others of its batch', async () => {
      await t.store.update((tx) => tx.create(instances, anInstance({ name: 'taken' })));
      const [a, b] = await Promise.allSettled([placeInstance(t.store, { instance: spec('taken') }, { clock }), placeInstance(t.store, { instance: spec('free') }, { clock })]);
      assert.ok(a.status === 'rejected' && isShoalError(a.reason, ErrorCode.AlreadyExists));
      assert.ok(b.status === 'fulfilled' && b.value.placed);
    });

    it('commits simultaneous launches through one store in few transactions, never over capacity', async () => {
      const placer = new Placer(t.store);
      const outs = await Promise.all(Array.from({ length: 20 }, (_, i) => placer.submit({ instance: spec(`w${i}`) }, clock)));
      // 3 members × 16GiB / 4GiB = 12 fit; the rest get per-member memory reasons.
      assert.equal(outs.filter((o) => o.placed).length, 12);
      for (const o of outs.filter((x) => !x.placed)) assert.deepEqual(o.placed ? [] : o.rejections.map((r) => r.filter), ['memory', 'memory', 'memory']);
      assert.deepEqual(await allocatedGiB(t.store), { m1: 16, m2: 16, m3: 16 });
      assert.equal(placer.stats.transactions, 1);
      assert.equal(placer.stats.conflicts, 0);
    });

    it('re-decides when another writer placed on the same member meanwhile, and never overcommits', async () => {
      const a = new Placer(t.store);
      const b = new Placer(t.peer());
      const launches = Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? a : b).submit({ instance: spec(`w${i}`) }, clock));
      const outs = await Promise.all(launches);
      assert.equal(outs.filter((o) => o.placed).length, 12);
      assert.deepEqual(await allocatedGiB(t.store), { m1: 16, m2: 16, m3: 16 });
      assert.ok(a.stats.conflicts + b.stats.conflicts >= 1, 'the two writers raced at least once');
      assert.ok(outs.some((o) => o.placed && o.attempts > 1));
    });

    it('gives up with ABORTED naming the member when its allocation keeps changing', async () => {
      const other = t.peer();
      const racing: PlacementStore = {
        view: (o) => t.store.view(o),
        txn: async (txn, signal) => {
          await other.update((tx) => touchMemberAllocation(tx, 'm1', 'racer'));
          return t.store.txn(txn, signal);
        },
      };
      await assert.rejects(placeInstance(racing, { instance: spec('web1'), target: 'm1' }, { clock }), (err: unknown) => {
        assert.ok(isShoalError(err, ErrorCode.Aborted));
        assert.equal(err.message, `Placing instance "web1" kept conflicting on the allocation of member "m1"; gave up after ${MAX_ATTEMPTS} attempts`);
        assert.equal(err.details?.['key'], allocationKey('m1'));
        return true;
      });
      assert.equal((await t.store.view()).get(instances, 'default', 'web1'), undefined);
    });

    it('does not conflict with writes to other members (heartbeats) or other instances', async () => {
      const other = t.peer();
      let n = 0;
      const busy: PlacementStore = {
        view: (o) => t.store.view(o),
        txn: async (txn, signal) => {
          await other.update((tx) => {
            const m2 = tx.require(members, 'm2').record;
            tx.update(members, { ...m2, last_heartbeat: new Date(clock.now()).toISOString() });
            tx.create(instances, anInstance({ name: `elsewhere${n++}`, location: 'm3' }));
          });
          return t.store.txn(txn, signal);
        },
      };
      const out = await placeInstance(busy, { instance: spec('web1'), target: 'm1' }, { clock });
      assert.ok(out.placed);
      assert.equal(out.attempts, 1);
    });
  });
});
