/*
 * Property of committed placement (src/cluster/placement) over a real StateStore: whatever the mix
 * of sizes, targets and racing placers (independent Placers over the same database, interleaving
 * through FakeStateRaft's one-macrotask apply), no member ends over capacity, every launch answered
 * "placed" is recorded exactly once where it was told, and every "not placed" names each member.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { Placer, type InstanceSpec, type PlacementOutcome } from '../../../../src/cluster/placement/index.js';
import type { Clock } from '../../../../src/shared/index.js';
import { instances, members } from '../../../../src/state/index.js';
import { anInstance, openTestStore, T0, withMembers } from '../../../support/state/fixtures.js';

const GiB = 2 ** 30;
const clock: Clock = { now: () => Date.parse(T0) + 1000, setTimer: () => ({ dispose: () => undefined }) };

const launch = fc.record({
  memGiB: fc.integer({ min: 1, max: 6 }),
  target: fc.constantFrom(undefined, 'm1', 'm2', '@default'),
  placer: fc.integer({ min: 0, max: 2 }),
});

function spec(i: number, memGiB: number): InstanceSpec {
  const { location: _l, status: _s, created_at: _c, last_used_at: _u, ...base } = anInstance({ name: `c${i}`, config: { 'limits.memory': `${memGiB}GiB` } });
  return base;
}

describe('src/cluster/placement (property)', () => {
  it('never overcommits a member and records every accepted launch exactly once, whatever races', async function () {
    this.timeout(60_000);
    await fc.assert(
      fc.asyncProperty(fc.array(launch, { minLength: 1, maxLength: 24 }), fc.integer({ min: 1, max: 3 }), async (launches, placerCount) => {
        const t = await openTestStore();
        try {
          await withMembers(t.store, 3); // 16GiB each
          const placers = Array.from({ length: placerCount }, (_, i) => new Placer(i === 0 ? t.store : t.peer()));
          const outs: PlacementOutcome[] = await Promise.all(
            launches.map((l, i) => placers[l.placer % placerCount]!.submit({ instance: spec(i, l.memGiB), ...(l.target ? { target: l.target } : {}) }, clock)),
          );
          const view = await t.store.view();
          const recorded = new Map(view.list(instances).map((s) => [s.record.name, s.record]));
          const used = new Map<string, number>();
          outs.forEach((o, i) => {
            const r = recorded.get(`c${i}`);
            if (o.placed) {
              assert.equal(r?.location, o.member);
              used.set(o.member, (used.get(o.member) ?? 0) + launches[i]!.memGiB * GiB);
            } else {
              assert.equal(r, undefined);
              if (o.rejections.length > 0) assert.deepEqual(o.rejections.map((x) => x.member), ['m1', 'm2', 'm3']);
            }
          });
          assert.equal(recorded.size, outs.filter((o) => o.placed).length);
          for (const m of view.list(members)) assert.ok((used.get(m.record.server_name) ?? 0) <= m.record.resources.memory_bytes, `${m.record.server_name} over capacity`);
        } finally {
          await t.close();
        }
      }),
      { numRuns: 25 },
    );
  });
});
