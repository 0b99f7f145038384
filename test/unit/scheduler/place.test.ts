// Covers src/scheduler/place.ts and filters.ts: table-driven cases built with the harness in
// test/support/scheduler/builders.ts. Each case asserts the whole result (member chosen or the
// reasons every member was rejected), so explanations are part of the contract.
import { strict as assert } from 'node:assert';
import { place } from '../../../src/scheduler/index.js';
import { GiB, aMember, aRequest, aSnapshot, members } from '../../support/scheduler/builders.js';

describe('src/scheduler/place', () => {
  describe('eligibility', () => {
    it('never chooses offline, evacuated or blocked members and says why', () => {
      const snap = aSnapshot([
        aMember({ name: 'm1', status: 'Offline' }),
        aMember({ name: 'm2', status: 'Evacuated' }),
        aMember({ name: 'm3', status: 'Blocked' }),
      ]);
      assert.deepEqual(place(snap, aRequest()), {
        ok: false,
        reason: 'No cluster member can take instance "c1"',
        rejections: [
          { member: 'm1', filter: 'status', reason: 'Member "m1" is offline' },
          { member: 'm2', filter: 'status', reason: 'Member "m2" is evacuated' },
          { member: 'm3', filter: 'status', reason: 'Member "m3" is blocked' },
        ],
      });
    });

    it('--target MEMBER picks that member even with scheduler.instance=manual', () => {
      const snap = aSnapshot([aMember({ name: 'm1' }), aMember({ name: 'm2', schedulerInstance: 'manual' })]);
      const r = place(snap, aRequest({ target: { kind: 'member', name: 'm2' } }));
      assert.equal(r.ok && r.member, 'm2');
    });

    it('--target @GROUP picks only among the group', () => {
      const snap = aSnapshot([
        aMember({ name: 'm1' }),
        aMember({ name: 'm2', groups: ['default', 'gpu'], allocated: { cpu: 4, memoryBytes: 8 * GiB, disk: {} } }),
        aMember({ name: 'm3', groups: ['default', 'gpu'] }),
      ]);
      const r = place(snap, aRequest({ target: { kind: 'group', name: 'gpu' } }));
      assert.equal(r.ok && r.member, 'm3');
      assert.deepEqual(r.rejections, [
        { member: 'm1', filter: 'target', reason: 'Member "m1" is not in cluster group "gpu"' },
      ]);
    });

    it('reports an unknown target member or group', () => {
      const snap = aSnapshot(members(2));
      assert.deepEqual(place(snap, aRequest({ target: { kind: 'member', name: 'nope' } })), {
        ok: false,
        reason: 'Cluster member "nope" not found',
        rejections: [],
      });
      assert.deepEqual(place(snap, aRequest({ target: { kind: 'group', name: 'nope' } })), {
        ok: false,
        reason: 'Cluster group "nope" not found',
        rejections: [],
      });
    });

    it('skips manual members and group members without a target', () => {
      const snap = aSnapshot([
        aMember({ name: 'm1', schedulerInstance: 'manual' }),
        aMember({ name: 'm2', schedulerInstance: 'group' }),
        aMember({ name: 'm3', allocated: { cpu: 6, memoryBytes: 12 * GiB, disk: {} } }),
      ]);
      const r = place(snap, aRequest());
      assert.equal(r.ok && r.member, 'm3');
      assert.deepEqual(
        r.rejections.map((x) => x.reason),
        [
          'Member "m1" has scheduler.instance=manual and was not targeted',
          'Member "m2" has scheduler.instance=group and no target was given',
        ],
      );
    });

    it('scheduler.instance=group accepts a group target that includes the member', () => {
      const snap = aSnapshot([aMember({ name: 'm1', schedulerInstance: 'group', groups: ['default', 'edge'] })]);
      assert.equal(place(snap, aRequest({ target: { kind: 'group', name: 'edge' } })).ok, true);
    });

    it('honours project restricted.cluster.groups and restricted.cluster.target=block', () => {
      const snap = aSnapshot([aMember({ name: 'm1' }), aMember({ name: 'm2', groups: ['default', 'prod'] })], {
        projects: {
          p: { restrictedClusterGroups: ['prod'], restrictedClusterTarget: 'block' },
        },
      });
      const r = place(snap, aRequest({ project: 'p' }));
      assert.equal(r.ok && r.member, 'm2');
      assert.deepEqual(r.rejections, [
        { member: 'm1', filter: 'project', reason: 'Member "m1" is not in the project\'s allowed cluster groups (prod)' },
      ]);
      assert.deepEqual(place(snap, aRequest({ project: 'p', target: { kind: 'member', name: 'm2' } })), {
        ok: false,
        reason: 'Project "p" does not allow targeting cluster members',
        rejections: [],
      });
    });

    it('matches the requested architecture', () => {
      const snap = aSnapshot([aMember({ name: 'm1' }), aMember({ name: 'm2', architectures: ['aarch64'] })]);
      const r = place(snap, aRequest({ architecture: 'aarch64' }));
      assert.equal(r.ok && r.member, 'm2');
      assert.equal(r.rejections[0]?.reason, 'Member "m1" does not support architecture "aarch64" (has x86_64)');
    });
  });

  describe('resources', () => {
    it('explains CPU, memory and disk shortfalls with the figures', () => {
      const snap = aSnapshot([
        aMember({ name: 'm1', capacity: { cpu: 1, memoryBytes: 64 * GiB, disk: { default: 100 * GiB } } }),
        aMember({ name: 'm2', allocated: { cpu: 0, memoryBytes: 15 * GiB, disk: {} } }),
        aMember({ name: 'm3', allocated: { cpu: 0, memoryBytes: 0, disk: { default: 99 * GiB } } }),
        aMember({ name: 'm4', capacity: { cpu: 8, memoryBytes: 16 * GiB, disk: { other: GiB } } }),
      ]);
      const r = place(
        snap,
        aRequest({ resources: { cpu: 5, memory: { bytes: 2 * GiB }, rootDisk: { pool: 'default', bytes: 2 * GiB } } }),
      );
      assert.deepEqual(r, {
        ok: false,
        reason: 'No cluster member can take instance "c1"',
        rejections: [
          {
            member: 'm1',
            filter: 'cpu',
            reason: 'Member "m1" has not enough CPU: requested 5, free 4 of 4 (1 CPUs, overcommit 4)',
          },
          {
            member: 'm2',
            filter: 'memory',
            reason: 'Member "m2" has not enough memory: requested 2.00GiB, free 1.00GiB of 16.00GiB',
          },
          {
            member: 'm3',
            filter: 'disk',
            reason: 'Member "m3" has not enough space on pool "default": requested 2.00GiB, free 1.00GiB of 100.00GiB',
          },
          { member: 'm4', filter: 'disk', reason: 'Member "m4" has no storage pool "default"' },
        ],
      });
    });

    it('applies the memory overcommit ratio from cluster config', () => {
      const snap = aSnapshot([aMember({ name: 'm1', allocated: { cpu: 0, memoryBytes: 16 * GiB, disk: {} } })], {
        config: { memoryOvercommit: 1.5 },
      });
      assert.equal(place(snap, aRequest({ resources: { memory: { bytes: 8 * GiB } } })).ok, true);
      assert.equal(place(snap, aRequest({ resources: { memory: { bytes: 9 * GiB } } })).ok, false);
    });

    it('sizes limits.memory percentages against each member', () => {
      const snap = aSnapshot([
        aMember({ name: 'm1', capacity: { cpu: 8, memoryBytes: 4 * GiB, disk: { default: GiB } }, allocated: { cpu: 0, memoryBytes: 3 * GiB, disk: {} } }),
        aMember({ name: 'm2', capacity: { cpu: 8, memoryBytes: 64 * GiB, disk: { default: GiB } }, allocated: { cpu: 0, memoryBytes: 40 * GiB, disk: {} } }),
      ]);
      // 50% of m1 is 2 GiB (1 GiB free); 50% of m2 is 32 GiB (24 GiB free): neither fits.
      const r = place(snap, aRequest({ resources: { memory: { percent: 50 } } }));
      assert.equal(r.ok, false);
      assert.deepEqual(r.rejections.map((x) => x.filter), ['memory', 'memory']);
    });
  });

  describe('ranking', () => {
    it('spread picks the least loaded member, binpack the most loaded that fits', () => {
      const ms = [
        aMember({ name: 'm1', allocated: { cpu: 2, memoryBytes: 8 * GiB, disk: {} }, instanceCount: 4 }),
        aMember({ name: 'm2', allocated: { cpu: 1, memoryBytes: 2 * GiB, disk: {} }, instanceCount: 1 }),
        aMember({ name: 'm3', allocated: { cpu: 7, memoryBytes: 15 * GiB, disk: {} }, instanceCount: 9 }),
      ];
      const spread = place(aSnapshot(ms), aRequest());
      assert.equal(spread.ok && spread.member, 'm2');
      const binpack = place(aSnapshot(ms, { config: { policy: 'binpack' } }), aRequest());
      assert.equal(binpack.ok && binpack.member, 'm3');
    });

    it('explains the choice for --dry-run', () => {
      const r = place(aSnapshot(members(3)), aRequest());
      assert.deepEqual(r, {
        ok: true,
        member: 'm1',
        feasible: 3,
        rejections: [],
        explanation:
          'Member "m1" chosen by the spread policy; 3 of 3 members feasible; after placement: memory 6%, cpu 3%, disk 0%, 1 instances',
      });
    });

    it('balances by instance count when instances reserve nothing (LXD behaviour)', () => {
      const snap = aSnapshot([aMember({ name: 'm1', instanceCount: 3 }), aMember({ name: 'm2', instanceCount: 2 })]);
      const r = place(snap, aRequest({ resources: { cpu: 0, memory: { bytes: 0 }, rootDisk: null } }));
      assert.equal(r.ok && r.member, 'm2');
    });

    it('breaks ties by member name', () => {
      const snap = aSnapshot([aMember({ name: 'mb' }), aMember({ name: 'ma' }), aMember({ name: 'mc' })]);
      const r = place(snap, aRequest());
      assert.equal(r.ok && r.member, 'ma');
    });

    it('spreads a placement group across failure domains before balancing load', () => {
      const snap = aSnapshot(
        [
          aMember({ name: 'm1', failureDomain: 'rack1' }),
          aMember({ name: 'm2', failureDomain: 'rack1', allocated: { cpu: 7, memoryBytes: 14 * GiB, disk: {} } }),
          aMember({ name: 'm3', failureDomain: 'rack2', allocated: { cpu: 6, memoryBytes: 12 * GiB, disk: {} } }),
        ],
        { placementGroups: { 'default/web': { m1: 1 } } },
      );
      const r = place(snap, aRequest({ placementGroup: 'web' }));
      assert.equal(r.ok && r.member, 'm3');
      assert.match(r.ok ? r.explanation : '', /placement group "web": 0 on this member, 0 in failure domain "rack2"/);
    });

    it('spreads a placement group across members when there is one failure domain', () => {
      const snap = aSnapshot(members(2), { placementGroups: { 'default/web': { m1: 1 } } });
      const r = place(snap, aRequest({ placementGroup: 'web' }));
      assert.equal(r.ok && r.member, 'm2');
    });
  });
});
