// Covers src/shared/revert.ts (undo order, success disarms, incomplete reverts name what remains),
// src/shared/disposables.ts (reverse release) and src/shared/clock.ts (seeded determinism).
import { strict as assert } from 'node:assert';
import {
  DisposableStore,
  RevertIncompleteError,
  Reverter,
  seededRng,
  toDisposable,
} from '../../../src/shared/index.js';

describe('src/shared/revert', () => {
  describe('Reverter', () => {
    it('runs undo steps in reverse order on failure', async () => {
      const log: string[] = [];
      const r = new Reverter();
      r.add('a', () => void log.push('undo a'));
      r.add('b', async () => void log.push('undo b'));
      await r.fail();
      assert.deepEqual(log, ['undo b', 'undo a']);
    });
    it('does nothing after success', async () => {
      const log: string[] = [];
      const r = new Reverter();
      r.add('a', () => void log.push('undo a'));
      r.success();
      await r.fail();
      assert.deepEqual(log, []);
    });
    it('runs every step and reports the ones that failed', async () => {
      const r = new Reverter();
      r.add('volume "v1"', () => {
        throw new Error('busy');
      });
      r.add('bridge "b0"', () => undefined);
      await assert.rejects(r.fail(), (err: unknown) => {
        assert.ok(err instanceof RevertIncompleteError);
        assert.deepEqual(err.remaining, ['volume "v1"']);
        return true;
      });
    });
  });
});

describe('src/shared/disposables', () => {
  it('releases in reverse order, once', async () => {
    const log: string[] = [];
    const store = new DisposableStore();
    store.add(toDisposable(() => log.push('first')));
    store.add({ close: async () => void log.push('second') });
    await store.close();
    await store.close();
    assert.deepEqual(log, ['second', 'first']);
  });
});

describe('src/shared/clock', () => {
  it('seededRng gives the same sequence for the same seed and differs across seeds', () => {
    const a = seededRng(42);
    const b = seededRng(42);
    const c = seededRng(43);
    const sa = Array.from({ length: 5 }, () => a());
    assert.deepEqual(
      sa,
      Array.from({ length: 5 }, () => b()),
    );
    assert.notDeepEqual(
      sa,
      Array.from({ length: 5 }, () => c()),
    );
    assert.ok(sa.every((x) => x >= 0 && x < 1));
  });
});
