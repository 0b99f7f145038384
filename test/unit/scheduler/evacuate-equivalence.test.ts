// src/scheduler/evacuate.ts plans with an incremental member table; these properties check that it
// yields exactly the plan of the straightforward planner it replaced (test/support/scheduler/
// reference-evacuate.ts: one full placeWith per instance) on random clusters — heterogeneous
// capacities, several pools, projects, architectures, placement groups, ties, both policies.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { planEvacuation, type EvacuationCandidate, type MemberView } from '../../../src/scheduler/index.js';
import { seededRng, type Rng } from '../../../src/shared/clock.js';
import { GiB, aMember, aSnapshot } from '../../support/scheduler/builders.js';
import { planEvacuationReference } from '../../support/scheduler/reference-evacuate.js';

const arbMember = (name: string): fc.Arbitrary<MemberView> =>
  fc
    .record({
      status: fc.constantFrom('Online', 'Online', 'Online', 'Online', 'Offline', 'Evacuated'),
      groups: fc.subarray(['default', 'gpu', 'edge'], { minLength: 1 }),
      schedulerInstance: fc.constantFrom('all', 'all', 'all', 'manual', 'group'),
      failureDomain: fc.constantFrom('r1', 'r2', 'r3'),
      architectures: fc.constantFrom(['x86_64'], ['x86_64'], ['aarch64'], ['x86_64', 'i686']),
      // A small set of sizes so that identical members (exact ties) are common.
      cpu: fc.constantFrom(4, 8, 8, 16),
      memGiB: fc.constantFrom(8, 16, 16, 32),
      pools: fc.subarray(['default', 'fast'], { minLength: 0 }),
      poolGiB: fc.constantFrom(0, 50, 100, 100),
      allocCpu: fc.constantFrom(0, 0, 1, 2.5, 6),
      allocMemGiB: fc.constantFrom(0, 0, 1, 4, 7.5, 12),
      allocDiskGiB: fc.constantFrom(0, 0, 10, 40),
      instanceCount: fc.constantFrom(0, 0, 1, 3, 7),
    })
    .map((r) =>
      aMember({
        name,
        status: r.status as MemberView['status'],
        groups: r.groups,
        schedulerInstance: r.schedulerInstance as MemberView['schedulerInstance'],
        failureDomain: r.failureDomain,
        architectures: r.architectures,
        capacity: { cpu: r.cpu, memoryBytes: r.memGiB * GiB, disk: Object.fromEntries(r.pools.map((p) => [p, r.poolGiB * GiB])) },
        allocated: { cpu: r.allocCpu, memoryBytes: r.allocMemGiB * GiB, disk: Object.fromEntries(r.pools.map((p) => [p, r.allocDiskGiB * GiB])) },
        instanceCount: r.instanceCount,
      }),
    );

const arbCandidate = (i: number): fc.Arbitrary<EvacuationCandidate> =>
  fc
    .record({
      project: fc.constantFrom('default', 'default', 'p2'),
      cpu: fc.constantFrom(0, 1, 1, 2, 0.5),
      memory: fc.oneof(
        fc.constantFrom(0, 0.5, 1, 2, 4).map((g) => ({ bytes: g * GiB })),
        fc.constantFrom(5, 10, 25).map((percent) => ({ percent })),
      ),
      rootDisk: fc.option(fc.record({ pool: fc.constantFrom('default', 'default', 'fast'), bytes: fc.constantFrom(0, 5 * GiB, 20 * GiB) }), { nil: null }),
      architecture: fc.option(fc.constantFrom('x86_64', 'aarch64'), { nil: undefined }),
      placementGroup: fc.option(fc.constantFrom('db', 'web', ''), { nil: undefined }),
    })
    .map((r) => ({
      project: r.project,
      instance: `i${i}`,
      resources: { cpu: r.cpu, memory: r.memory, rootDisk: r.rootDisk },
      ...(r.architecture === undefined ? {} : { architecture: r.architecture }),
      ...(r.placementGroup === undefined ? {} : { placementGroup: r.placementGroup }),
    }));

const arbCase = fc
  .record({ n: fc.integer({ min: 1, max: 24 }), k: fc.integer({ min: 0, max: 40 }), dup: fc.boolean() })
  .chain(({ n, k, dup }) =>
    fc.record({
      // Occasionally two members share a name: the planners must resolve it the same way.
      members: fc.tuple(...Array.from({ length: n }, (_, i) => arbMember(dup && i === n - 1 && n > 2 ? 'm2' : `m${i + 1}`))),
      instances: fc.tuple(...Array.from({ length: k }, (_, i) => arbCandidate(i))),
      policy: fc.constantFrom('spread', 'binpack'),
      memoryOvercommit: fc.constantFrom(1, 1.5),
      cpuOvercommit: fc.constantFrom(1, 4),
      restricted: fc.option(fc.subarray(['gpu', 'edge'], { minLength: 1 }), { nil: null }),
      groupCounts: fc.dictionary(fc.constantFrom('m1', 'm2', 'm3', 'm9'), fc.integer({ min: 1, max: 3 })),
    }),
  )
  .map((c) => ({
    snapshot: aSnapshot(c.members, {
      config: { policy: c.policy, memoryOvercommit: c.memoryOvercommit, cpuOvercommit: c.cpuOvercommit },
      projects: { p2: { restrictedClusterGroups: c.restricted, restrictedClusterTarget: 'allow' } },
      placementGroups: { 'default/db': c.groupCounts },
    }),
    instances: c.instances,
  }));

/** A larger seeded cluster shaped like the benchmark's (many identical members, mixed sizes). */
function seededCase(rng: Rng, members: number, instances: number): Parameters<typeof planEvacuation> {
  const ms = Array.from({ length: members }, (_, i) =>
    aMember({
      name: `m${String(i + 1).padStart(4, '0')}`,
      failureDomain: `rack${i % 7}`,
      capacity: { cpu: 64, memoryBytes: (i % 5 === 0 ? 128 : 256) * GiB, disk: { default: 2048 * GiB } },
      allocated: { cpu: Math.floor(rng() * 64), memoryBytes: Math.floor(rng() * 8) * 16 * GiB, disk: { default: Math.floor(rng() * 1000) * GiB } },
      instanceCount: Math.floor(rng() * 100),
    }),
  );
  const cands = Array.from({ length: instances }, (_, i) => ({
    project: 'default',
    instance: `e${i}`,
    resources: {
      cpu: 1 + Math.floor(rng() * 4),
      memory: { bytes: [0.25, 0.5, 1, 2, 4, 8][Math.floor(rng() * 6)]! * GiB },
      rootDisk: { pool: 'default', bytes: (1 + Math.floor(rng() * 20)) * GiB },
    },
    ...(rng() < 0.2 ? { placementGroup: 'db' } : {}),
  }));
  return [aSnapshot(ms, { placementGroups: { 'default/db': { m0002: 3 } } }), ms[0]!.name, cands];
}

describe('src/scheduler/evacuate (equivalence with the reference planner)', () => {
  it('plans exactly as the straightforward planner on random clusters', function () {
    this.timeout(60_000); // ~3 s alone; the machine is shared
    fc.assert(
      fc.property(arbCase, fc.nat(30), ({ snapshot, instances }, pick) => {
        const source = snapshot.members[pick % snapshot.members.length]!.name;
        assert.deepEqual(planEvacuation(snapshot, source, instances), planEvacuationReference(snapshot, source, instances));
      }),
      { numRuns: 1000 },
    );
  });

  it('plans exactly as the straightforward planner on larger seeded clusters', function () {
    this.timeout(60_000); // ~1 s alone
    for (let seed = 1; seed <= 8; seed++) {
      const [snap, source, cands] = seededCase(seededRng(seed), 150, 400);
      const plan = planEvacuation(snap, source, cands);
      assert.deepEqual(plan, planEvacuationReference(snap, source, cands), `seed ${seed}`);
      assert.ok(plan.moves.length > 0, `seed ${seed} moved nothing`);
    }
  });

  it('plans exactly as the straightforward planner when nothing fits', () => {
    const snap = aSnapshot([aMember({ name: 'm1' }), aMember({ name: 'm2', status: 'Offline' })]);
    const cands = [{ project: 'default', instance: 'a', resources: { cpu: 1, memory: { bytes: GiB }, rootDisk: null } }];
    const plan = planEvacuation(snap, 'm1', cands);
    assert.deepEqual(plan, planEvacuationReference(snap, 'm1', cands));
    assert.deepEqual(plan.unplaceable, [{ project: 'default', instance: 'a', reason: 'Member "m2" is offline' }]);
  });
});
