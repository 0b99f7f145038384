// Property tests for test/support/lincheck: (1) every history a correct system could produce
// (each op takes effect at one point inside its interval) is accepted; (2) on tiny arbitrary
// histories the checker agrees with the brute-force definition-level reference.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  applyKv,
  bruteForceLinearizable,
  checkOperations,
  kvModel,
  type KvInput,
  type KvOperation,
  type KvOutput,
  type Model,
} from '../../support/lincheck/index.js';

const KEYS = ['a', 'b'];
const VALUES = ['1', '2', '3'];

const inputArb: fc.Arbitrary<KvInput> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key: fc.constantFrom(...KEYS), value: fc.constantFrom(...VALUES) }),
  fc.record({ kind: fc.constant('get' as const), key: fc.constantFrom(...KEYS) }),
  fc.record({
    kind: fc.constant('cas' as const),
    key: fc.constantFrom(...KEYS),
    from: fc.constantFrom<string | null>(null, ...VALUES),
    to: fc.constantFrom(...VALUES),
  }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...KEYS) }),
);

const outputArb: fc.Arbitrary<KvOutput> = fc.oneof(
  fc.constant<KvOutput>({ kind: 'ok' }),
  fc.record({ kind: fc.constant('value' as const), value: fc.constantFrom<string | null>(null, ...VALUES) }),
  fc.record({ kind: fc.constant('cas' as const), swapped: fc.boolean() }),
  fc.record({ kind: fc.constant('deleted' as const), existed: fc.boolean() }),
);

/** An operation plan: interval [call, call+len], effect point inside it, maybe unknown outcome. */
const planArb = fc.record({
  clientId: fc.nat(4),
  input: inputArb,
  call: fc.nat(60),
  len: fc.integer({ min: 0, max: 30 }),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  unknown: fc.nat(9).map((n) => n === 0),
  unknownTookEffect: fc.boolean(),
});

function execute(plans: readonly Plan[]): KvOperation[] {
  const state = new Map<string, string | null>();
  const ordered = plans.map((p, i) => ({ p, i, at: p.call + p.at * p.len })).sort((x, y) => x.at - y.at || x.i - y.i);
  const out = new Array<KvOperation>(plans.length);
  for (const { p, i } of ordered) {
    let output: KvOutput = { kind: 'unknown' };
    if (!p.unknown || p.unknownTookEffect) {
      const r = applyKv(state.get(p.input.key) ?? null, p.input);
      state.set(p.input.key, r.state);
      output = r.output;
    }
    out[i] = {
      clientId: p.clientId,
      input: p.input,
      call: p.call,
      return: p.unknown ? Infinity : p.call + p.len,
      output: p.unknown ? { kind: 'unknown' } : output,
    };
  }
  return out;
}
type Plan = {
  clientId: number;
  input: KvInput;
  call: number;
  len: number;
  at: number;
  unknown: boolean;
  unknownTookEffect: boolean;
};

/** The whole key space as one state, unpartitioned: the reference does not rely on P-compositionality. */
const kvMapModel: Model<Readonly<Record<string, string | null>>, KvInput, KvOutput> = {
  init: () => ({}),
  step(state, input, output) {
    const r = kvModel.step(state[input.key] ?? null, input, output);
    return { ok: r.ok, state: { ...state, [input.key]: r.state } };
  },
  hash: (state) =>
    JSON.stringify(
      Object.keys(state)
        .sort()
        .map((k) => [k, state[k]]),
    ),
};

describe('test/support/lincheck', () => {
  describe('checkOperations (properties)', () => {
    it('accepts every history produced by executing the model at points inside the intervals', () => {
      fc.assert(
        fc.property(fc.array(planArb, { maxLength: 60 }), (plans) => {
          const h = execute(plans);
          const r = checkOperations(kvModel, h);
          assert.equal(r.ok, true, r.ok ? '' : 'explanation' in r ? r.explanation : '');
        }),
        { numRuns: 300 },
      );
    });

    it('agrees with the brute-force reference on tiny histories', function () {
      this.timeout(30_000); // ~1.5 s alone; the machine is shared
      // Start from a correct execution and corrupt some outputs, so both verdicts occur often.
      const arb = fc.tuple(
        fc.array(planArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.option(outputArb, { freq: 3 }), { minLength: 6, maxLength: 6 }),
      );
      let accepted = 0;
      let rejected = 0;
      fc.assert(
        fc.property(arb, ([plans, corruptions]) => {
          const h = execute(plans).map((op, i) => {
            const c = corruptions[i];
            return c === null || c === undefined || op.return === Infinity ? op : { ...op, output: c };
          });
          const expected = bruteForceLinearizable(kvMapModel, h);
          const r = checkOperations(kvModel, h);
          if (expected) accepted++;
          else rejected++;
          assert.equal(r.ok, expected, JSON.stringify(h));
        }),
        { numRuns: 2000 },
      );
      assert.ok(accepted > 200 && rejected > 200, `accepted ${accepted}, rejected ${rejected}`);
    });
  });
});
