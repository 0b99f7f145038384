// onEveryMember / fanOutError: all-or-nothing work across members. Every member runs; on any
// failure the successful ones are undone, and the outcome names what failed, what was reverted and
// what remains; the error carries the first failure's code and the member.
import { strict as assert } from 'node:assert';
import { fanOutError, onEveryMember } from '../../../../src/api/storage/fan-out.js';
import { ErrorCode, errors, silentLogger } from '../../../../src/shared/index.js';

const log = silentLogger();

describe('src/api/storage/fan-out', () => {
  describe('onEveryMember', () => {
    it('returns every result and undoes nothing when all succeed', async () => {
      const undone: string[] = [];
      const r = await onEveryMember(['a', 'b'], async (m) => `${m}!`, async (m) => void undone.push(m), log);
      assert.deepEqual(r.ok ? [...r.results] : r, [['a', 'a!'], ['b', 'b!']]);
      assert.deepEqual(undone, []);
    });

    it('undoes the members that succeeded when one fails', async () => {
      const undone: string[] = [];
      const r = await onEveryMember(
        ['a', 'b', 'c'],
        async (m) => {
          if (m === 'b') throw errors.invalid('no such directory');
          return m;
        },
        async (m) => void undone.push(m),
        log,
      );
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.deepEqual(r.failed.map((f) => f.member), ['b']);
      assert.deepEqual(r.reverted, ['a', 'c']);
      assert.deepEqual(r.remaining, []);
      assert.deepEqual(undone.sort(), ['a', 'c']);
      const err = fanOutError('creating storage pool "p"', r);
      assert.equal(err.code, ErrorCode.InvalidArgument);
      assert.equal(err.message, 'Failed creating storage pool "p" on member "b": no such directory');
    });

    it('reports what remains when an undo fails too, and names every failed member', async () => {
      const r = await onEveryMember(
        ['a', 'b', 'c'],
        async (m) => {
          if (m !== 'a') throw new Error(`boom ${m}`);
        },
        async () => {
          throw errors.unavailable('agent gone');
        },
        log,
      );
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.deepEqual(r.remaining.map((x) => x.member), ['a']);
      const err = fanOutError('creating network "n"', r);
      assert.equal(err.code, ErrorCode.Internal);
      assert.equal(err.message, 'Failed creating network "n" on member "b": boom b (and on "c"); revert failed, still present on "a" (agent gone)');
    });
  });
});
