// Covers src/scheduler/evacuate.ts (planning moves within the other members' capacity, largest
// first, placement groups respected) and src/scheduler/resources.ts (limits parsing).
import { strict as assert } from 'node:assert';
import { parseCpuLimit, parseMemoryLimit, planEvacuation, requestFromConfig } from '../../../src/scheduler/index.js';
import { ShoalError } from '../../../src/shared/index.js';
import { GiB, aMember, aSnapshot } from '../../support/scheduler/builders.js';

const inst = (instance: string, memGiB: number, extra: { placementGroup?: string } = {}) => ({
  project: 'default',
  instance,
  resources: { cpu: 1, memory: { bytes: memGiB * GiB }, rootDisk: { pool: 'default', bytes: 0 } },
  ...extra,
});

describe('src/scheduler/evacuate', () => {
  describe('planEvacuation', () => {
    it('moves every instance within capacity, largest first, never back to the member', () => {
      const snap = aSnapshot([
        aMember({ name: 'm1', allocated: { cpu: 3, memoryBytes: 10 * GiB, disk: {} }, instanceCount: 3 }),
        aMember({ name: 'm2', allocated: { cpu: 0, memoryBytes: 8 * GiB, disk: {} } }),
        aMember({ name: 'm3', allocated: { cpu: 0, memoryBytes: 4 * GiB, disk: {} } }),
      ]);
      const plan = planEvacuation(snap, 'm1', [inst('a', 2), inst('b', 6), inst('c', 2)]);
      assert.deepEqual(plan, {
        member: 'm1',
        moves: [
          { project: 'default', instance: 'b', to: 'm3' },
          { project: 'default', instance: 'a', to: 'm2' },
          { project: 'default', instance: 'c', to: 'm2' },
        ],
        unplaceable: [],
      });
    });

    it('says which instances cannot move and why', () => {
      const snap = aSnapshot([
        aMember({ name: 'm1', allocated: { cpu: 2, memoryBytes: 12 * GiB, disk: {} }, instanceCount: 2 }),
        aMember({ name: 'm2', allocated: { cpu: 0, memoryBytes: 10 * GiB, disk: {} } }),
      ]);
      const plan = planEvacuation(snap, 'm1', [inst('big', 8), inst('small', 4)]);
      assert.deepEqual(plan.moves, [{ project: 'default', instance: 'small', to: 'm2' }]);
      assert.deepEqual(plan.unplaceable, [
        {
          project: 'default',
          instance: 'big',
          reason: 'Member "m2" has not enough memory: requested 8.00GiB, free 6.00GiB of 16.00GiB',
        },
      ]);
    });

    it('keeps spreading a placement group while evacuating', () => {
      const snap = aSnapshot(
        [
          aMember({ name: 'm1', failureDomain: 'r1' }),
          aMember({ name: 'm2', failureDomain: 'r2' }),
          aMember({ name: 'm3', failureDomain: 'r3' }),
          aMember({ name: 'm4', failureDomain: 'r3' }),
        ],
        { placementGroups: { 'default/db': { m1: 2, m2: 1 } } },
      );
      const plan = planEvacuation(snap, 'm1', [inst('db1', 1, { placementGroup: 'db' }), inst('db2', 1, { placementGroup: 'db' })]);
      assert.deepEqual(
        plan.moves.map((m) => m.to),
        ['m3', 'm4'],
      );
    });
  });
});

describe('src/scheduler/resources', () => {
  it('parses limits.cpu counts and CPU sets', () => {
    assert.equal(parseCpuLimit('2'), 2);
    assert.equal(parseCpuLimit('0-3'), 4);
    assert.equal(parseCpuLimit('0,2,4-5'), 4);
    assert.throws(() => parseCpuLimit('two'), ShoalError);
    assert.throws(() => parseCpuLimit('3-1'), ShoalError);
  });
  it('parses limits.memory sizes and percentages', () => {
    assert.deepEqual(parseMemoryLimit('512MiB'), { bytes: 512 * 1024 * 1024 });
    assert.deepEqual(parseMemoryLimit('1GB'), { bytes: 1e9 });
    assert.deepEqual(parseMemoryLimit('25%'), { percent: 25 });
    assert.throws(() => parseMemoryLimit('150%'), ShoalError);
    assert.throws(() => parseMemoryLimit('lots'), ShoalError);
  });
  it('builds a request from expanded config and the root disk', () => {
    assert.deepEqual(
      requestFromConfig({ 'limits.cpu': '2', 'limits.memory': '1GiB' }, { type: 'disk', path: '/', pool: 'fast', size: '10GiB' }),
      { cpu: 2, memory: { bytes: GiB }, rootDisk: { pool: 'fast', bytes: 10 * GiB } },
    );
    assert.deepEqual(requestFromConfig({}, null), { cpu: 0, memory: { bytes: 0 }, rootDisk: null });
  });
});
