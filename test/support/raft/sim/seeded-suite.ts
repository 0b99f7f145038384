/**
 * The seeded-runs suite of the simulator, sharded so that mocha's parallel mode (test/sim/.mocharc.json,
 * 2 jobs) spreads it over both cores: shard k of n takes every n-th seed of each fault profile.
 * SIM_RUNS (default 2000) and SIM_SEED_BASE (default 1) choose the seeds; SEED=<n> replays one run
 * with its full trace in /tmp (in shard 0 only).
 */
import { strict as assert } from 'node:assert';
import { configForSeed, PROFILES } from './run-config.js';
import { formatFailure } from './report.js';
import { Simulation, type SimResult } from './simulation.js';

/** Declares the mocha tests of shard `shard` (0-based) of `shards`. */
export function describeSeededRuns(shard: number, shards: number): void {
  const replaySeed = process.env.SEED ? Number(process.env.SEED) : undefined;
  const runs = Number(process.env.SIM_RUNS ?? 2000);
  const base = Number(process.env.SIM_SEED_BASE ?? 1);

  describe(`test/sim/raft (seeded runs of src/raft/core, shard ${shard + 1}/${shards})`, () => {
    if (replaySeed !== undefined) {
      if (shard !== 0) return;
      it(`replays SEED=${replaySeed}`, () => {
        const r = new Simulation(configForSeed(replaySeed, { fullTrace: true })).run();
        console.log(`  ${r.summary}`);
        console.log(`  full trace: ${r.traceFile ?? '-'}`);
        assert.ok(r.ok, formatFailure(r, 200));
      });
      return;
    }

    // Seeds are grouped by the profile their configuration draws, so each group reports separately.
    const byProfile = new Map<string, number[]>(PROFILES.map((p) => [p.name, []]));
    for (let s = base; s < base + runs; s++) byProfile.get(configForSeed(s).profile.name)!.push(s);

    for (const [profile, all] of byProfile) {
      const seeds = all.filter((_, i) => i % shards === shard);
      if (seeds.length === 0) continue;
      it(`${profile}: ${seeds.length} runs keep safety, liveness and linearizability`, () => {
        const failures: SimResult[] = [];
        let events = 0;
        let ops = 0;
        let virtualMs = 0;
        let unknown = 0;
        const converged: number[] = [];
        for (const seed of seeds) {
          const r = new Simulation(configForSeed(seed)).run();
          events += r.events;
          ops += r.history.length;
          unknown += r.history.filter((o) => o.return === Infinity).length;
          virtualMs += r.virtualMs;
          if (r.convergedMs !== undefined) converged.push(r.convergedMs);
          if (!r.ok) failures.push(r);
        }
        converged.sort((a, b) => a - b);
        const pct = (q: number): string =>
          `${(converged[Math.min(converged.length - 1, Math.floor(q * converged.length))] ?? 0).toFixed(0)}ms`;
        console.log(
          `    ${profile}: ${seeds.length} runs, ${events} events, ${ops} client ops (${unknown} unknown outcome), ` +
            `${(virtualMs / 1000).toFixed(0)} s virtual; converged after heal p50 ${pct(0.5)} p99 ${pct(0.99)} max ${pct(1)}`,
        );
        if (failures.length > 0) {
          assert.fail(
            `${failures.length} of ${seeds.length} runs failed: ${failures.map((f) => `SEED=${f.seed}`).join(' ')}\n` +
              failures.map((f) => `${f.summary}\n  ${f.failure?.split('\n')[0]}`).join('\n') +
              `\n\nfirst failure:\n${formatFailure(failures[0]!)}`,
          );
        }
      });
    }
  });
}
