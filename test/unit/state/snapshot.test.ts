/*
 * Unit tests of toClusterSnapshot (src/state/snapshot.ts): the scheduler's input built from the
 * tables, assigned to the scheduler's own ClusterSnapshot type (so the compiler checks the mirror
 * types) and fed to place(): statuses from heartbeats, groups, allocations from expanded config,
 * project restrictions, placement groups and the scheduler.* config keys.
 */
import { strict as assert } from 'node:assert';
import { place, requestFromConfig, type ClusterSnapshot } from '../../../src/scheduler/index.js';
import { clusterConfig, clusterGroups, instances, members, profiles, projects, storagePoolMembers, storagePools, toClusterSnapshot } from '../../../src/state/index.js';
import { anInstance, aProfile, openTestStore, withMembers, type TestStore } from '../../support/state/fixtures.js';

const GiB = 2 ** 30;

describe('src/state/snapshot', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore();
    await withMembers(t.store, 3);
  });
  afterEach(async () => {
    await t.close();
  });

  it('builds the scheduler snapshot from the tables', async () => {
    await t.store.update((tx) => {
      tx.create(storagePools, { name: 'default', driver: 'dir', description: '', config: {}, status: 'Created' });
      for (const m of ['m1', 'm2', 'm3']) tx.create(storagePoolMembers, { pool: 'default', member: m, config: {}, state: 'Created' });
      tx.put(profiles, { ...aProfile({ name: 'default' }), config: {}, devices: { root: { type: 'disk', path: '/', pool: 'default', size: '10GiB' } } });
      tx.create(profiles, aProfile({ config: { 'limits.cpu': '2', 'limits.memory': '25%' } }));
      tx.create(instances, anInstance({ profiles: ['default', 'small'], config: { 'placement.group': 'web' } }));
      tx.create(instances, anInstance({ name: 'web2', location: 'm2', config: { 'limits.memory': '1GiB', 'placement.group': 'web' } }));
      const m3 = tx.require(members, 'm3').record;
      tx.update(members, { ...m3, state: 'Evacuated', config: { 'scheduler.instance': 'manual' } });
      tx.create(clusterGroups, { name: 'gpu', description: '', members: ['m2'], config: {} });
      tx.create(projects, { name: 'blue', description: '', config: { restricted: 'true', 'restricted.cluster.groups': 'gpu' } });
      tx.update(clusterConfig, { config: { 'scheduler.policy': 'binpack', 'cluster.offline_threshold': '30' } });
    });
    const now = Date.parse('2026-11-23T10:00:20Z');
    const snap: ClusterSnapshot = toClusterSnapshot(await t.store.view(), { now, requestOf: requestFromConfig });
    assert.deepEqual(snap.members, [
      {
        name: 'm1',
        status: 'Online',
        groups: ['default'],
        schedulerInstance: 'all',
        failureDomain: 'default',
        architectures: ['x86_64'],
        capacity: { cpu: 8, memoryBytes: 16 * GiB, disk: { default: 100 * GiB } },
        allocated: { cpu: 2, memoryBytes: 4 * GiB, disk: { default: 10 * GiB } },
        instanceCount: 1,
      },
      {
        name: 'm2',
        status: 'Online',
        groups: ['default', 'gpu'],
        schedulerInstance: 'all',
        failureDomain: 'default',
        architectures: ['x86_64'],
        capacity: { cpu: 8, memoryBytes: 16 * GiB, disk: { default: 100 * GiB } },
        allocated: { cpu: 0, memoryBytes: 1 * GiB, disk: { default: 10 * GiB } },
        instanceCount: 1,
      },
      {
        name: 'm3',
        status: 'Evacuated',
        groups: ['default'],
        schedulerInstance: 'manual',
        failureDomain: 'default',
        architectures: ['x86_64'],
        capacity: { cpu: 8, memoryBytes: 16 * GiB, disk: { default: 100 * GiB } },
        allocated: { cpu: 0, memoryBytes: 0, disk: {} },
        instanceCount: 0,
      },
    ]);
    assert.deepEqual(snap.projects.get('blue'), { restrictedClusterGroups: ['gpu'], restrictedClusterTarget: 'block' });
    assert.deepEqual(snap.projects.get('default'), { restrictedClusterGroups: null, restrictedClusterTarget: 'allow' });
    assert.deepEqual([...snap.placementGroups.get('default/web')!], [['m1', 1], ['m2', 1]]);
    assert.deepEqual(snap.config, { policy: 'binpack', cpuOvercommit: 4, memoryOvercommit: 1 });

    const placed = place(snap, { project: 'blue', instance: 'x', resources: { cpu: 1, memory: { bytes: GiB }, rootDisk: { pool: 'default', bytes: GiB } } });
    assert.equal(placed.ok && placed.member, 'm2');
    // Forty seconds later, without heartbeats, every member is offline.
    const later = toClusterSnapshot(await t.store.view(), { now: now + 40_000, requestOf: requestFromConfig });
    assert.deepEqual(later.members.map((m) => m.status), ['Offline', 'Offline', 'Evacuated']);
  });
});
