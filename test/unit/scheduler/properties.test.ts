// Property tests for src/scheduler (fast-check): over random clusters and requests the scheduler
// never overcommits a member, never picks an ineligible one, is deterministic and independent of
// member order, and evacuation plans respect capacity.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  memoryBytesOn,
  place,
  planEvacuation,
  type ClusterSnapshot,
  type MemberView,
  type PlacementRequest,
} from '../../../src/scheduler/index.js';
import { GiB, aSnapshot } from '../../support/scheduler/builders.js';

const arbMember = (name: string): fc.Arbitrary<MemberView> =>
  fc.record({
    name: fc.constant(name),
    status: fc.constantFrom('Online', 'Online', 'Online', 'Offline', 'Evacuated', 'Blocked'),
    groups: fc.subarray(['default', 'gpu', 'edge'], { minLength: 1 }),
    schedulerInstance: fc.constantFrom('all', 'all', 'manual', 'group'),
    failureDomain: fc.constantFrom('r1', 'r2', 'r3'),
    architectures: fc.constantFrom(['x86_64'], ['aarch64'], ['x86_64', 'i686']),
    capacity: fc.record({
      cpu: fc.integer({ min: 1, max: 16 }),
      memoryBytes: fc.integer({ min: 1, max: 64 }).map((g) => g * GiB),
      disk: fc.record({ default: fc.integer({ min: 1, max: 200 }).map((g) => g * GiB) }),
    }),
    allocated: fc.record({
      cpu: fc.integer({ min: 0, max: 16 }),
      memoryBytes: fc.integer({ min: 0, max: 48 }).map((g) => g * GiB),
      disk: fc.record({ default: fc.integer({ min: 0, max: 150 }).map((g) => g * GiB) }),
    }),
    instanceCount: fc.integer({ min: 0, max: 50 }),
  }) as fc.Arbitrary<MemberView>;

const arbSnapshot: fc.Arbitrary<ClusterSnapshot> = fc
  .integer({ min: 1, max: 8 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => arbMember(`m${i + 1}`))))
  .chain((ms) =>
    fc.record({
      policy: fc.constantFrom('spread', 'binpack'),
      mem: fc.constantFrom(1, 1.5),
    }).map(({ policy, mem }) => aSnapshot(ms, { config: { policy, memoryOvercommit: mem } })),
  );

const arbRequest: fc.Arbitrary<PlacementRequest> = fc.record({
  project: fc.constant('default'),
  instance: fc.constant('c1'),
  cpu: fc.integer({ min: 0, max: 8 }),
  mem: fc.oneof(
    fc.integer({ min: 0, max: 16 }).map((g) => ({ bytes: g * GiB })),
    fc.integer({ min: 1, max: 50 }).map((percent) => ({ percent })),
  ),
  disk: fc.integer({ min: 0, max: 50 }).map((g) => g * GiB),
  target: fc.option(
    fc.oneof(
      fc.constantFrom('m1', 'm2', 'm3').map((name) => ({ kind: 'member' as const, name })),
      fc.constantFrom('gpu', 'edge').map((name) => ({ kind: 'group' as const, name })),
    ),
    { nil: undefined },
  ),
  arch: fc.option(fc.constantFrom('x86_64', 'aarch64'), { nil: undefined }),
}).map(({ project, instance, cpu, mem, disk, target, arch }) => ({
  project,
  instance,
  resources: { cpu, memory: mem, rootDisk: { pool: 'default', bytes: disk } },
  ...(target ? { target } : {}),
  ...(arch ? { architecture: arch } : {}),
}));

function fits(m: MemberView, r: PlacementRequest, snap: ClusterSnapshot): boolean {
  const root = r.resources.rootDisk;
  return (
    m.allocated.cpu + r.resources.cpu <= m.capacity.cpu * snap.config.cpuOvercommit + 1e-9 &&
    m.allocated.memoryBytes + memoryBytesOn(r.resources, m) <= m.capacity.memoryBytes * snap.config.memoryOvercommit &&
    (!root || (m.allocated.disk[root.pool] ?? 0) + root.bytes <= (m.capacity.disk[root.pool] ?? -1))
  );
}

function eligible(m: MemberView, r: PlacementRequest): boolean {
  if (m.status !== 'Online') return false;
  if (r.target?.kind === 'member' && r.target.name !== m.name) return false;
  if (r.target?.kind === 'group' && !m.groups.includes(r.target.name)) return false;
  if (m.schedulerInstance === 'manual' && r.target?.kind !== 'member') return false;
  if (m.schedulerInstance === 'group' && !r.target) return false;
  if (r.architecture && !m.architectures.includes(r.architecture)) return false;
  return true;
}

describe('src/scheduler (properties)', () => {
  it('never chooses a member that is ineligible or lacks capacity, and finds one whenever one fits', () => {
    fc.assert(
      fc.property(arbSnapshot, arbRequest, (snap, req) => {
        const r = place(snap, req);
        const candidates = snap.members.filter((m) => eligible(m, req) && fits(m, req, snap));
        if (r.ok) {
          const m = snap.members.find((x) => x.name === r.member)!;
          assert.ok(eligible(m, req), `ineligible ${m.name}`);
          assert.ok(fits(m, req, snap), `overcommitted ${m.name}`);
        } else {
          assert.equal(candidates.length, 0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('is deterministic and does not depend on member order', () => {
    fc.assert(
      fc.property(arbSnapshot, arbRequest, fc.integer(), (snap, req, seed) => {
        const shuffled = [...snap.members].sort((a, b) => ((a.name.charCodeAt(1) * seed) % 7) - ((b.name.charCodeAt(1) * seed) % 7));
        const a = place(snap, req);
        const b = place({ ...snap, members: shuffled }, req);
        assert.deepEqual(place(snap, req), a);
        assert.equal(a.ok, b.ok);
        if (a.ok && b.ok) assert.equal(a.member, b.member);
      }),
      { numRuns: 1000 },
    );
  });

  it('never overcommits a member over a sequence of placements', () => {
    fc.assert(
      fc.property(arbSnapshot, fc.array(arbRequest, { minLength: 1, maxLength: 40 }), (snap0, reqs) => {
        let snap = snap0;
        for (const req of reqs) {
          const r = place(snap, req);
          if (!r.ok) continue;
          const members = snap.members.map((m) =>
            m.name !== r.member
              ? m
              : {
                  ...m,
                  allocated: {
                    cpu: m.allocated.cpu + req.resources.cpu,
                    memoryBytes: m.allocated.memoryBytes + memoryBytesOn(req.resources, m),
                    disk: { default: (m.allocated.disk['default'] ?? 0) + (req.resources.rootDisk?.bytes ?? 0) },
                  },
                  instanceCount: m.instanceCount + 1,
                },
          );
          const chosen = snap.members.find((m) => m.name === r.member)!;
          assert.ok(fits(chosen, req, snap));
          snap = { ...snap, members };
        }
      }),
      { numRuns: 300 },
    );
  });

  it('plans evacuations within the other members\' capacity', () => {
    fc.assert(
      fc.property(arbSnapshot, fc.array(arbRequest, { maxLength: 20 }), (snap, reqs) => {
        const source = snap.members[0]!.name;
        const instances = reqs.map((r, i) => ({ project: 'default', instance: `i${i}`, resources: r.resources }));
        const plan = planEvacuation(snap, source, instances);
        assert.equal(plan.moves.length + plan.unplaceable.length, instances.length);
        const added = new Map<string, { cpu: number; mem: number; disk: number }>();
        for (const mv of plan.moves) {
          assert.notEqual(mv.to, source);
          const r = instances.find((x) => x.instance === mv.instance)!.resources;
          const m = snap.members.find((x) => x.name === mv.to)!;
          assert.equal(m.status, 'Online');
          const a = added.get(mv.to) ?? { cpu: 0, mem: 0, disk: 0 };
          a.cpu += r.cpu;
          a.mem += memoryBytesOn(r, m);
          a.disk += r.rootDisk?.bytes ?? 0;
          added.set(mv.to, a);
        }
        for (const [name, a] of added) {
          const m = snap.members.find((x) => x.name === name)!;
          assert.ok(m.allocated.cpu + a.cpu <= m.capacity.cpu * snap.config.cpuOvercommit + 1e-9);
          assert.ok(m.allocated.memoryBytes + a.mem <= m.capacity.memoryBytes * snap.config.memoryOvercommit);
          assert.ok((m.allocated.disk['default'] ?? 0) + a.disk <= (m.capacity.disk['default'] ?? 0));
        }
      }),
      { numRuns: 500 },
    );
  });
});
