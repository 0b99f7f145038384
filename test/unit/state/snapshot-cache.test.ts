/*
 * Unit tests of toClusterSnapshot's per-instance cache (src/state/snapshot.ts, SnapshotOptions.cache):
 * with the cache the snapshot is the same as without it, through edits of instances, profiles and a
 * project's features.profiles; unchanged instances are not recomputed.
 */
import { strict as assert } from 'node:assert';
import { requestFromConfig } from '../../../src/scheduler/index.js';
import { createSnapshotCache, instances, profiles, projects, toClusterSnapshot, type SnapshotOptions, type StateStore } from '../../../src/state/index.js';
import { anInstance, aProfile, openTestStore, T0, withMembers, type TestStore } from '../../support/state/fixtures.js';

describe('src/state/snapshot', () => {
  describe('toClusterSnapshot with a cache', () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await openTestStore();
      await withMembers(t.store, 3);
    });
    afterEach(async () => {
      await t.close();
    });

    const now = Date.parse(T0) + 1000;

    /** Snapshots with and without `cache` must agree; returns how many requests were computed. */
    async function check(store: StateStore, cache: SnapshotOptions['cache']): Promise<number> {
      let computed = 0;
      const requestOf: SnapshotOptions['requestOf'] = (c, d) => {
        computed++;
        return requestFromConfig(c, d);
      };
      const view = await store.view();
      const cached = toClusterSnapshot(view, { now, requestOf, ...(cache ? { cache } : {}) });
      const counted = computed;
      assert.deepEqual(cached, toClusterSnapshot(view, { now, requestOf: requestFromConfig }));
      return counted;
    }

    it('gives the same snapshot as without it and recomputes only what changed', async () => {
      const cache = createSnapshotCache();
      await t.store.update((tx) => {
        tx.create(profiles, aProfile({ name: 'small', config: { 'limits.memory': '1GiB' } }));
        tx.create(instances, anInstance({ name: 'a', profiles: ['default', 'small'], location: 'm1' }));
        tx.create(instances, anInstance({ name: 'b', location: 'm2', config: { 'limits.memory': '2GiB', 'placement.group': 'web' } }));
        tx.create(instances, anInstance({ name: 'c', location: 'm3', config: { 'limits.memory': '10%' } }));
      });
      assert.equal(await check(t.store, cache), 3);
      assert.equal(await check(t.store, cache), 0);

      // An instance edit recomputes that instance only.
      await t.store.update((tx) => tx.update(instances, { ...tx.require(instances, 'default', 'b').record, config: { 'limits.memory': '3GiB' } }));
      assert.equal(await check(t.store, cache), 1);

      // A profile edit recomputes the instances that use it.
      await t.store.update((tx) => tx.update(profiles, { ...tx.require(profiles, 'default', 'small').record, config: { 'limits.memory': '4GiB' } }));
      assert.equal(await check(t.store, cache), 1);
      const snap = toClusterSnapshot(await t.store.view(), { now, requestOf: requestFromConfig, cache });
      assert.equal(snap.members.find((m) => m.name === 'm1')?.allocated.memoryBytes, 4 * 2 ** 30);

      // A project switching features.profiles changes which profiles its instances use.
      await t.store.update((tx) => {
        const p = tx.require(projects, 'default').record;
        tx.update(projects, { ...p, config: { ...p.config, 'features.profiles': 'true' } });
      });
      assert.equal(await check(t.store, cache), 0);
      await t.store.update((tx) => tx.delete(instances, 'default', 'c'));
      assert.equal(await check(t.store, cache), 0);
    });
  });
});
