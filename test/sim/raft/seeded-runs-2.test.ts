// Deterministic simulation of the raft core, second half of the seeds (see seeded-runs.test.ts and
// test/support/raft/sim/seeded-suite.ts): safety after every event, liveness after healing and
// linearizability of the client history, for every other seed of each fault profile.
import { describeSeededRuns } from '../../support/raft/sim/seeded-suite.js';

describeSeededRuns(1, 2);
