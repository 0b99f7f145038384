// Covers src/node-agent/drivers/lxc/units.ts: LXD byte sizes, booleans, CPU limits and sets,
// CPU allowances, and the deterministic CPU pick for `limits.cpu=N`.
import { strict as assert } from 'node:assert';
import {
  formatCpuSet,
  parseBool,
  parseByteSize,
  parseCpuAllowance,
  parseCpuLimit,
  parseCpuSet,
  parseMemoryLimit,
  pickCpus,
} from '../../../../src/node-agent/drivers/lxc/units.js';

describe('src/node-agent/drivers/lxc/units', () => {
  describe('parseByteSize', () => {
    it('reads plain, decimal and binary sizes as LXD does', () => {
      const cases: [string, number | undefined][] = [
        ['1024', 1024],
        ['10B', 10],
        ['1kB', 1000],
        ['256MB', 256e6],
        ['256MiB', 256 * 2 ** 20],
        ['2GiB', 2 * 2 ** 30],
        ['1TB', 1e12],
        ['1.5GiB', undefined],
        ['12 apples', undefined],
        ['-1', undefined],
        ['', undefined],
      ];
      assert.deepEqual(cases.map(([v]) => parseByteSize(v)), cases.map(([, n]) => n));
    });
  });

  describe('parseMemoryLimit', () => {
    it('takes sizes or a percentage of host memory rounded down to a page', () => {
      assert.equal(parseMemoryLimit('128MiB', 2 ** 30), 128 * 2 ** 20);
      assert.equal(parseMemoryLimit('50%', 1_000_001), 499_712);
      assert.equal(parseMemoryLimit('0%', 2 ** 30), undefined);
      assert.equal(parseMemoryLimit('101%', 2 ** 30), undefined);
      assert.equal(parseMemoryLimit('0', 2 ** 30), undefined);
    });
  });

  describe('parseBool', () => {
    it('accepts LXD truthy and falsy spellings only', () => {
      assert.deepEqual(['true', '1', 'yes', 'on', 'TRUE'].map(parseBool), [true, true, true, true, true]);
      assert.deepEqual(['false', '0', 'no', 'off', ''].map(parseBool), [false, false, false, false, false]);
      assert.equal(parseBool('maybe'), undefined);
    });
  });

  describe('CPU limits', () => {
    it('reads counts and sets, and formats sets back', () => {
      assert.deepEqual(parseCpuLimit('2'), { kind: 'count', count: 2 });
      assert.deepEqual(parseCpuLimit('0-1,3'), { kind: 'set', cpus: [0, 1, 3] });
      assert.deepEqual(parseCpuLimit('3-3'), { kind: 'set', cpus: [3] });
      assert.equal(parseCpuLimit('0'), undefined);
      assert.equal(parseCpuLimit('2-1'), undefined);
      assert.equal(parseCpuLimit('a'), undefined);
      assert.deepEqual(parseCpuSet('5,0-2,2'), [0, 1, 2, 5]);
      assert.equal(formatCpuSet([5, 0, 1, 2, 7, 8]), '0-2,5,7-8');
    });

    it('reads shares and quotas', () => {
      assert.deepEqual(parseCpuAllowance('50%'), { kind: 'share', percent: 50 });
      assert.deepEqual(parseCpuAllowance('25ms/100ms'), { kind: 'quota', quotaUs: 25000, periodUs: 100000 });
      assert.equal(parseCpuAllowance('150%'), undefined);
      assert.equal(parseCpuAllowance('25ms'), undefined);
    });

    it('picks CPUs deterministically, spreading by name, all of them when asked for more', () => {
      assert.deepEqual(pickCpus(2, [0, 1, 2, 3], 'web1'), pickCpus(2, [0, 1, 2, 3], 'web1'));
      assert.equal(pickCpus(2, [0, 1, 2, 3], 'web1').length, 2);
      assert.deepEqual(pickCpus(9, [0, 1, 2, 3], 'web1'), [0, 1, 2, 3]);
      const starts = new Set(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((n) => pickCpus(1, [0, 1, 2, 3], n)[0]));
      assert.ok(starts.size > 1);
    });
  });
});
