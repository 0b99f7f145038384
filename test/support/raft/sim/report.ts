/** Rendering of failed runs: the seed, the replay command, the failure and the trace tail. */
import type { SimResult } from './simulation.js';

export const REPLAY_HINT = 'SEED=<n> npx mocha --config test/sim/.mocharc.json';

export function formatFailure(r: SimResult, traceLines = 120): string {
  const tail = (r.traceTail ?? []).slice(-traceLines);
  return [
    `SEED=${r.seed}  (replay: SEED=${r.seed} npx mocha --config test/sim/.mocharc.json)`,
    r.summary,
    r.failure ?? '',
    r.traceFile !== undefined ? `full trace: ${r.traceFile}` : `last ${tail.length} trace lines:`,
    ...tail.map((l) => `  ${l}`),
  ].join('\n');
}
