// Deterministic simulation of the raft core (test/support/raft/sim): many seeded runs of 3- and
// 5-node clusters under the fault profiles, each checking safety after every event, liveness after
// the faults heal, and linearizability of the client history. SIM_RUNS (default 2000) and
// SIM_SEED_BASE (default 1) choose the seeds; SEED=<n> replays one run with its full trace in /tmp.
import { strict as assert } from 'node:assert';
import { configForSeed, PROFILES } from '../../support/raft/sim/run-config.js';
import { formatFailure } from '../../support/raft/sim/report.js';
import { Simulation, type SimResult } from '../../support/raft/sim/simulation.js';

const replaySeed = process.env.SEED ? Number(process.env.SEED) : undefined;
const runs = Number(process.env.SIM_RUNS ?? 2000);
const base = Number(process.env.SIM_SEED_BASE ?? 1);

describe('test/sim/raft (seeded runs of src/raft/core)', () => {
  if (replaySeed !== undefined) {
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

  for (const [profile, seeds] of byProfile) {
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
        `    ${seeds.length} runs, ${events} events, ${ops} client ops (${unknown} unknown outcome), ` +
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
