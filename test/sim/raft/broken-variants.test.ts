// Proves the net catches what it claims to: the simulator is run with deliberately broken
// runtimes (a leader serving reads from local state without ReadIndex; writes acknowledged when
// proposed instead of when applied) and with the core's lease-based reads (unsafe under pauses),
// and the checks must flag some seed.
import { strict as assert } from 'node:assert';
import { configForSeed, type ConfigOverrides } from '../../support/raft/sim/run-config.js';
import { Simulation } from '../../support/raft/sim/simulation.js';

/** Runs seeds 1..maxSeeds until one fails; returns that run's seed and failure. */
function firstCaught(overrides: ConfigOverrides, maxSeeds: number): { seed: number; failure: string } | undefined {
  for (let seed = 1; seed <= maxSeeds; seed++) {
    const r = new Simulation(configForSeed(seed, overrides)).run();
    if (!r.ok) return { seed, failure: r.failure ?? '' };
  }
  return undefined;
}

// Replaying one seed (SEED=<n>) runs only that seed.
if (!process.env.SEED) {
  describe('test/sim/raft (broken variants are caught)', () => {
    it("flags reads served from a possibly deposed leader's local state", () => {
      // Without check-quorum an isolated leader keeps believing it leads, so stale reads happen.
      const caught = firstCaught({ profile: 'partitions', checkQuorum: false, unsafeLocalReads: true }, 60);
      assert.ok(caught !== undefined, 'no seed in 1..60 exposed local reads');
      assert.match(caught.failure, /^SimFailure: linearizability: .* not linearizable/, caught.failure);
      console.log(`    caught at SEED=${caught.seed}: ${caught.failure.split('\n').slice(2, 3).join('')}`);
    });

    it('flags writes acknowledged before they are committed', () => {
      const caught = firstCaught({ profile: 'crashes', unsafeAckOnPropose: true }, 60);
      assert.ok(caught !== undefined, 'no seed in 1..60 exposed early acknowledgements');
      assert.match(caught.failure, /^SimFailure: linearizability: .* not linearizable/, caught.failure);
      console.log(`    caught at SEED=${caught.seed}: ${caught.failure.split('\n').slice(2, 3).join('')}`);
    });

    it('flags lease-based reads (readOnlyOption LeaseBased) when processes pause and clocks drift', () => {
      // Why leases stay off by default: a paused leader resumes believing its lease still holds.
      const caught = firstCaught({ profile: 'crashes', checkQuorum: true, readOnlyOption: 'LeaseBased' }, 60);
      assert.ok(caught !== undefined, 'no seed in 1..60 exposed lease-based reads');
      assert.match(caught.failure, /ReadIndex \d+ is below|not linearizable/, caught.failure);
      console.log(`    caught at SEED=${caught.seed}: ${caught.failure.split('\n')[0]}`);
    });

    it('passes the same seeds with the real read and write paths', () => {
      for (let seed = 1; seed <= 10; seed++) {
        for (const o of [{ profile: 'partitions', checkQuorum: false }, { profile: 'crashes' }] as const) {
          const r = new Simulation(configForSeed(seed, o)).run();
          assert.ok(r.ok, `SEED=${seed} ${JSON.stringify(o)}: ${r.failure}`);
        }
      }
    });
  });
}
