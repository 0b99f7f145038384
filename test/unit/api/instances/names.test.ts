// src/api/instances/names.ts: LXD's instance and snapshot name rules, petnames for unnamed
// instances, and snapshot names from `snapshots.pattern`. Pure functions, table-driven.
import { strict as assert } from 'node:assert';
import { checkInstanceName, checkSnapshotName, nextSnapshotName, petName } from '../../../../src/api/instances/names.js';
import { seededRng } from '../../../../src/shared/index.js';

describe('src/api/instances/names', () => {
  describe('checkInstanceName', () => {
    it('accepts hostnames and refuses what LXD refuses, naming why', () => {
      for (const ok of ['c1', 'web-1', 'A', 'x'.repeat(63)]) assert.doesNotThrow(() => checkInstanceName(ok), ok);
      for (const [bad, why] of [
        ['', /1-63/],
        ['x'.repeat(64), /1-63/],
        ['-a', /start with "-"/],
        ['a-', /end with "-"/],
        ['1a', /digit/],
        ['a_b', /alphanumeric and hyphen/],
        ['a.b', /alphanumeric and hyphen/],
      ] as const) assert.throws(() => checkInstanceName(bad), (e: Error) => /^Invalid instance name: /.test(e.message) && why.test(e.message), bad);
    });
  });

  describe('checkSnapshotName', () => {
    it('refuses empty names, slashes, dot names and white space', () => {
      assert.doesNotThrow(() => checkSnapshotName('before-upgrade.1'));
      for (const bad of ['', 'a/b', '.', '..', 'a b']) assert.throws(() => checkSnapshotName(bad), /Invalid snapshot name/, bad);
    });
  });

  describe('nextSnapshotName', () => {
    it('fills %d with the lowest free number, and suffixes a fixed pattern when taken', () => {
      assert.equal(nextSnapshotName('snap%d', new Set()), 'snap0');
      assert.equal(nextSnapshotName('snap%d', new Set(['snap0', 'snap2'])), 'snap1');
      assert.equal(nextSnapshotName('daily', new Set()), 'daily');
      assert.equal(nextSnapshotName('daily', new Set(['daily'])), 'daily-0');
    });
  });

  describe('petName', () => {
    it('gives a valid instance name not taken', () => {
      const taken = new Set<string>();
      for (let i = 0; i < 50; i++) {
        const n = petName(seededRng(i % 3), (x) => taken.has(x));
        assert.doesNotThrow(() => checkInstanceName(n), n);
        assert.ok(!taken.has(n));
        taken.add(n);
      }
    });
  });
});
