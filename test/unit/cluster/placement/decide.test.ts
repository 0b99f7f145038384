/*
 * Unit tests of the pure parts of placement (src/cluster/placement/decide.ts): --target parsing,
 * counting a decision in the snapshot (withAssignment) so that decisions against one view never
 * overcommit, and a property: placing many requests in turn never puts a member over capacity.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { parseTarget } from '../../../../src/cluster/placement/index.js';
import { withAssignment } from '../../../../src/cluster/placement/decide.js';
import { place } from '../../../../src/scheduler/index.js';
import { ErrorCode, isShoalError } from '../../../../src/shared/index.js';
import { aMember, aRequest, aSnapshot, GiB } from '../../../support/scheduler/builders.js';

describe('src/cluster/placement/decide', () => {
  describe('parseTarget', () => {
    it('reads a member name and an @group', () => {
      assert.deepEqual(parseTarget('m2'), { kind: 'member', name: 'm2' });
      assert.deepEqual(parseTarget('@edge'), { kind: 'group', name: 'edge' });
    });

    it('refuses an empty target with INVALID_ARGUMENT', () => {
      for (const bad of ['', '@']) assert.throws(() => parseTarget(bad), (err: unknown) => isShoalError(err, ErrorCode.InvalidArgument));
    });
  });

  describe('withAssignment', () => {
    it('adds the request to the member allocation, count and placement group, leaving the input unchanged', () => {
      const snap = aSnapshot([aMember({ name: 'm1' }), aMember({ name: 'm2' })]);
      const req = aRequest({ placementGroup: 'web', resources: { cpu: 2, memory: { percent: 25 }, rootDisk: { pool: 'default', bytes: 5 * GiB } } });
      const next = withAssignment(snap, 'm2', req);
      assert.deepEqual(next.members[1], aMember({ name: 'm2', allocated: { cpu: 2, memoryBytes: 4 * GiB, disk: { default: 5 * GiB } }, instanceCount: 1 }));
      assert.equal(next.members[0], snap.members[0]);
      assert.deepEqual([...next.placementGroups.get('default/web')!], [['m2', 1]]);
      assert.equal(snap.members[1]!.instanceCount, 0);
      assert.equal(snap.placementGroups.size, 0);
    });

    it('never overcommits a member when many requests are decided in turn against one snapshot (property)', () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 4 }),
          fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 40 }),
          (memGiB, reqGiB) => {
            let snap = aSnapshot(memGiB.map((g, i) => aMember({ name: `m${i}`, capacity: { cpu: 64, memoryBytes: g * GiB, disk: { default: 100 * GiB } } })));
            for (const [i, g] of reqGiB.entries()) {
              const r = aRequest({ instance: `c${i}`, resources: { memory: { bytes: g * GiB } } });
              const out = place(snap, r);
              if (out.ok) snap = withAssignment(snap, out.member, r);
            }
            for (const m of snap.members) assert.ok(m.allocated.memoryBytes <= m.capacity.memoryBytes, `${m.name} over capacity`);
          },
        ),
        { numRuns: 200 },
      );
    });
  });
});
