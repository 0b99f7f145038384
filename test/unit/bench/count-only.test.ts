// Covers bench/scheduler/count-only.ts, the anchor the scheduler benchmark compares against:
// LXD's rule must pick the eligible member with the fewest instances, first in order on ties,
// regardless of resources.
import { strict as assert } from 'node:assert';
import { placeCountOnly } from '../../../bench/scheduler/count-only.js';
import { GiB, aMember, aRequest, aSnapshot } from '../../support/scheduler/builders.js';

describe('bench/scheduler/count-only', () => {
  it('picks the eligible member with the fewest instances, ignoring resources', () => {
    const snap = aSnapshot([
      aMember({ name: 'm1', instanceCount: 3 }),
      aMember({ name: 'm2', instanceCount: 1, allocated: { cpu: 8, memoryBytes: 16 * GiB, disk: {} } }),
      aMember({ name: 'm3', instanceCount: 0, status: 'Offline' }),
    ]);
    assert.equal(placeCountOnly(snap, aRequest()), 'm2');
  });
  it('breaks ties by database order and honours targets', () => {
    const snap = aSnapshot([aMember({ name: 'mb' }), aMember({ name: 'ma' })]);
    assert.equal(placeCountOnly(snap, aRequest()), 'mb');
    assert.equal(placeCountOnly(snap, aRequest({ target: { kind: 'member', name: 'ma' } })), 'ma');
  });
});
