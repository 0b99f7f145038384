/**
 * CPU profiles of the shoald members for exactly the measured window. `node --cpu-prof` is not
 * allowed in NODE_OPTIONS and would cover setup too, so the members get a preload module through
 * NODE_OPTIONS (`--import <file>`): on the first SIGUSR2 it starts the V8 profiler in-process
 * (node:inspector), on the second it stops it and writes `<dir>/<pid>-<n>.cpuprofile`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const PRELOAD = `
import inspector from 'node:inspector';
import { writeFileSync } from 'node:fs';
let session;
let n = 0;
process.on('SIGUSR2', () => {
  if (!session) {
    session = new inspector.Session();
    session.connect();
    session.post('Profiler.enable', () => session.post('Profiler.start'));
    return;
  }
  session.post('Profiler.stop', (err, res) => {
    if (!err) writeFileSync(process.env.SHOAL_BENCH_PROF_DIR + '/' + process.pid + '-' + ++n + '.cpuprofile', JSON.stringify(res.profile));
    session.disconnect();
    session = undefined;
  });
});
`;

/** Writes the preload into `dir` and returns the NODE_OPTIONS/env entries that load it. */
export async function profilerEnv(dir: string): Promise<Record<string, string>> {
  const file = join(dir, 'preload.mjs');
  await writeFile(file, PRELOAD);
  return { NODE_OPTIONS: `--import ${file}`, SHOAL_BENCH_PROF_DIR: dir };
}

/** Starts (first call) or stops and writes (second call) the profile of each process. */
export function toggleProfilers(pids: readonly number[]): void {
  for (const pid of pids) process.kill(pid, 'SIGUSR2');
}
