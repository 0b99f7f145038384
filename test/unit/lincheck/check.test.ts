// Covers test/support/lincheck (checkOperations with the KV model): hand-written histories that
// are linearizable and classic anomalies that are not (stale read, lost write, CAS anomalies,
// divergent observation orders), unknown-outcome operations, explanations, budget and speed.
import { strict as assert } from 'node:assert';
import {
  checkOperations,
  kvModel,
  type KvInput,
  type KvOperation,
  type KvOutput,
} from '../../support/lincheck/index.js';
import { randomConcurrentHistory } from '../../support/lincheck/generate.js';

const U: KvOutput = { kind: 'unknown' };
const OK: KvOutput = { kind: 'ok' };
const val = (value: string | null): KvOutput => ({ kind: 'value', value });
const cas = (swapped: boolean): KvOutput => ({ kind: 'cas', swapped });

function op(clientId: number, input: KvInput, call: number, ret: number, output: KvOutput): KvOperation {
  return { clientId, input, call, return: ret, output };
}
const put = (key: string, value: string): KvInput => ({ kind: 'put', key, value });
const get = (key: string): KvInput => ({ kind: 'get', key });
const casIn = (key: string, from: string | null, to: string): KvInput => ({ kind: 'cas', key, from, to });
const del = (key: string): KvInput => ({ kind: 'delete', key });

function linearizable(h: KvOperation[]): boolean {
  const r = checkOperations(kvModel, h);
  if (!r.ok && r.reason === 'Timeout') throw new Error(r.explanation);
  return r.ok;
}

describe('test/support/lincheck', () => {
  describe('checkOperations with kvModel: linearizable histories', () => {
    it('accepts the empty history', () => {
      assert.equal(linearizable([]), true);
    });
    it('accepts a sequential history', () => {
      assert.equal(
        linearizable([
          op(1, put('x', 'a'), 0, 1, OK),
          op(1, get('x'), 2, 3, val('a')),
          op(2, casIn('x', 'a', 'b'), 4, 5, cas(true)),
          op(2, casIn('x', 'a', 'c'), 6, 7, cas(false)),
          op(1, del('x'), 8, 9, { kind: 'deleted', existed: true }),
          op(1, get('x'), 10, 11, val(null)),
        ]),
        true,
      );
    });
    it('accepts a read concurrent with a write returning either value', () => {
      const w = op(1, put('x', 'a'), 0, 10, OK);
      assert.equal(linearizable([w, op(2, get('x'), 2, 5, val(null))]), true);
      assert.equal(linearizable([w, op(2, get('x'), 2, 5, val('a'))]), true);
    });
    it('accepts overlapping reads that observe a write at different points', () => {
      assert.equal(
        linearizable([
          op(1, put('x', 'a'), 0, 100, OK),
          op(2, get('x'), 10, 20, val('a')),
          op(3, get('x'), 5, 50, val(null)),
        ]),
        true,
      );
    });
    it('treats intervals that touch as concurrent', () => {
      assert.equal(linearizable([op(1, put('x', 'a'), 0, 10, OK), op(2, get('x'), 10, 20, val(null))]), true);
    });
    it('checks keys independently', () => {
      assert.equal(
        linearizable([
          op(1, put('x', 'a'), 0, 10, OK),
          op(2, put('y', 'b'), 0, 10, OK),
          op(3, get('y'), 20, 30, val('b')),
          op(3, get('x'), 40, 50, val('a')),
        ]),
        true,
      );
    });
  });

  describe('checkOperations with kvModel: anomalies', () => {
    it('rejects a stale read after a completed write', () => {
      assert.equal(linearizable([op(1, put('x', 'a'), 0, 10, OK), op(2, get('x'), 20, 30, val(null))]), false);
    });
    it('rejects a lost write (an observed value disappears)', () => {
      assert.equal(
        linearizable([
          op(1, put('x', 'a'), 0, 1, OK),
          op(2, get('x'), 2, 3, val('a')),
          op(2, get('x'), 4, 5, val(null)),
        ]),
        false,
      );
    });
    it('rejects a read that goes back in time', () => {
      assert.equal(
        linearizable([
          op(1, put('x', 'a'), 0, 1, OK),
          op(1, put('x', 'b'), 2, 3, OK),
          op(2, get('x'), 4, 5, val('b')),
          op(3, get('x'), 6, 7, val('a')),
        ]),
        false,
      );
    });
    it('rejects two concurrent creates that both succeed', () => {
      assert.equal(
        linearizable([op(1, casIn('x', null, 'a'), 0, 10, cas(true)), op(2, casIn('x', null, 'b'), 0, 10, cas(true))]),
        false,
      );
    });
    it('rejects a CAS that swaps although the value did not match', () => {
      assert.equal(linearizable([op(1, put('x', '1'), 0, 1, OK), op(1, casIn('x', '2', '3'), 2, 3, cas(true))]), false);
    });
    it('rejects a CAS that fails although the value matched and nobody else wrote', () => {
      assert.equal(
        linearizable([op(1, put('x', '1'), 0, 1, OK), op(2, casIn('x', '1', '2'), 2, 3, cas(false))]),
        false,
      );
    });
    it('rejects a successful CAS whose effect is never seen', () => {
      assert.equal(
        linearizable([
          op(1, put('x', '1'), 0, 1, OK),
          op(2, casIn('x', '1', '2'), 2, 3, cas(true)),
          op(3, get('x'), 4, 5, val('1')),
        ]),
        false,
      );
    });
    it('rejects two concurrent writes observed in different orders by two readers', () => {
      assert.equal(
        linearizable([
          op(1, put('x', 'a'), 0, 100, OK),
          op(2, put('x', 'b'), 0, 100, OK),
          op(3, get('x'), 10, 20, val('a')),
          op(3, get('x'), 30, 40, val('b')),
          op(4, get('x'), 50, 60, val('b')),
          op(4, get('x'), 70, 80, val('a')),
        ]),
        false,
      );
    });
    it('rejects a delete reporting a missing key that was present', () => {
      assert.equal(
        linearizable([op(1, put('x', 'a'), 0, 1, OK), op(1, del('x'), 2, 3, { kind: 'deleted', existed: false })]),
        false,
      );
    });
  });

  describe('checkOperations with kvModel: unknown outcomes', () => {
    const pending = op(1, put('x', 'a'), 0, Infinity, U);
    it('accepts an unknown write that took effect', () => {
      assert.equal(linearizable([pending, op(2, get('x'), 10, 20, val('a'))]), true);
    });
    it('accepts an unknown write that never took effect', () => {
      assert.equal(linearizable([pending, op(2, get('x'), 10, 20, val(null))]), true);
    });
    it('accepts an unknown write that takes effect late', () => {
      assert.equal(
        linearizable([pending, op(2, get('x'), 10, 20, val(null)), op(2, get('x'), 30, 40, val('a'))]),
        true,
      );
    });
    it('rejects an unknown write that is seen and then unseen', () => {
      assert.equal(
        linearizable([pending, op(2, get('x'), 10, 20, val('a')), op(2, get('x'), 30, 40, val(null))]),
        false,
      );
    });
    it('never lets an unknown write take effect before its call', () => {
      assert.equal(linearizable([op(2, get('x'), 0, 5, val('a')), op(1, put('x', 'a'), 10, Infinity, U)]), false);
    });
    it('accepts an unknown CAS either way', () => {
      const base = [op(1, put('x', '1'), 0, 1, OK), op(2, casIn('x', '1', '2'), 2, Infinity, U)];
      assert.equal(linearizable([...base, op(3, get('x'), 5, 6, val('2'))]), true);
      assert.equal(linearizable([...base, op(3, get('x'), 5, 6, val('1'))]), true);
    });
  });

  describe('checkOperations explanations and limits', () => {
    it('names the partition, the longest prefix and the operation that cannot be placed', () => {
      const stale = op(2, get('y'), 20, 30, val(null));
      const r = checkOperations(kvModel, [
        op(1, put('x', 'a'), 0, 10, OK),
        op(3, get('x'), 20, 30, val('a')),
        op(1, put('y', 'b'), 0, 10, OK),
        stale,
      ]);
      assert.ok(!r.ok && r.reason === 'NotLinearizable');
      assert.equal(r.partition, 1);
      assert.deepEqual(
        r.longestPrefix.map((o) => o.input),
        [put('y', 'b')],
      );
      assert.equal(r.stateAfterPrefix, 'b');
      assert.equal(r.stuck, stale);
      assert.match(r.explanation, /cannot place: \[client 2\] get\(y\) -> \(absent\)/);
      assert.match(r.explanation, /state after prefix: "b"/);
    });
    it('reports a timeout instead of searching forever', () => {
      // Many concurrent unknown writes of distinct values and no reads: every order is explored.
      const h: KvOperation[] = [];
      for (let i = 0; i < 40; i++) h.push(op(i, put('x', `v${i}`), 0, i < 20 ? 1000 : Infinity, i < 20 ? OK : U));
      h.push(op(99, get('x'), 2000, 2001, val('never')));
      const r = checkOperations(kvModel, h, { maxSteps: 10_000 });
      assert.ok(!r.ok && r.reason === 'Timeout');
    });
    it('checks a few thousand concurrent operations across keys well under a second', () => {
      const h = randomConcurrentHistory(42, 4000, 8, 10);
      const t0 = performance.now();
      const r = checkOperations(kvModel, h);
      const ms = performance.now() - t0;
      assert.equal(r.ok, true);
      assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
    });
  });
});
