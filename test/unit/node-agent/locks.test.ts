// Keyed shared/exclusive locks (src/node-agent/locks.ts): shared holders run together, an
// exclusive holder runs alone, waiting is FIFO-fair, and keys taken in sorted order never deadlock.
import { strict as assert } from 'node:assert';
import { KeyedLock } from '../../../src/node-agent/locks.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('src/node-agent/locks.ts', () => {
  describe('KeyedLock', () => {
    it('lets shared holders of a key run together', async () => {
      const l = new KeyedLock();
      let inside = 0;
      let max = 0;
      const hold = () =>
        l.with([{ key: 'k', mode: 'shared' }], async () => {
          max = Math.max(max, ++inside);
          await tick();
          inside--;
        });
      await Promise.all([hold(), hold(), hold()]);
      assert.equal(max, 3);
      assert.equal(l.size, 0);
    });

    it('runs an exclusive holder alone and in arrival order', async () => {
      const l = new KeyedLock();
      const order: string[] = [];
      const run = (name: string, mode: 'shared' | 'exclusive') =>
        l.with([{ key: 'k', mode }], async () => {
          order.push(`${name}+`);
          await tick();
          order.push(`${name}-`);
        });
      await Promise.all([run('s1', 'shared'), run('x', 'exclusive'), run('s2', 'shared')]);
      assert.deepEqual(order, ['s1+', 's1-', 'x+', 'x-', 's2+', 's2-']);
    });

    it('does not deadlock when callers name keys in different orders', async () => {
      const l = new KeyedLock();
      const a = l.with([{ key: 'a', mode: 'exclusive' }, { key: 'b', mode: 'exclusive' }], async () => tick());
      const b = l.with([{ key: 'b', mode: 'exclusive' }, { key: 'a', mode: 'exclusive' }], async () => tick());
      await Promise.all([a, b]);
      assert.equal(l.size, 0);
    });

    it('releases the keys when the work throws', async () => {
      const l = new KeyedLock();
      await assert.rejects(l.with([{ key: 'k', mode: 'exclusive' }], async () => Promise.reject(new Error('boom'))));
      assert.equal(await l.with([{ key: 'k', mode: 'exclusive' }], async () => 'ok'), 'ok');
    });
  });
});
