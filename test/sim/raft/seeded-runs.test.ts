// Deterministic simulation of the raft core (test/support/raft/sim), first half of the seeds: many
// seeded runs of 3- and 5-node clusters under the fault profiles, each checking safety after every
// event, liveness after the faults heal, and linearizability of the client history. The other half
// is seeded-runs-2.test.ts (mocha runs the two in parallel). SIM_RUNS, SIM_SEED_BASE, SEED: see
// test/support/raft/sim/seeded-suite.ts.
import { describeSeededRuns } from '../../support/raft/sim/seeded-suite.js';

describeSeededRuns(0, 2);
