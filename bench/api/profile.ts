/**
 * Summarises V8 `.cpuprofile` files (from `node --cpu-prof`): self time by function and by
 * package (node_modules/<pkg>, node internals, our bundled sources, GC/idle/program), so the
 * benchmark can say where our side spends its time.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface CpuProfile {
  readonly nodes: ReadonlyArray<{ readonly id: number; readonly callFrame: CallFrame }>;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self time (ms) by key, largest first. */
export interface ProfileSummary {
  readonly totalMs: number;
  readonly byFunction: ReadonlyArray<readonly [string, number]>;
  readonly byPackage: ReadonlyArray<readonly [string, number]>;
}

function packageOf(f: CallFrame): string {
  if (/shoald-\d+\.mjs$/.test(f.url)) return 'shoal (src, bundled)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f.url);
  if (nm) return nm[1]!;
  if (f.url.startsWith('node:')) return 'node internals';
  if (f.url === '') return f.functionName || '(native)';
  return basename(f.url);
}

/**
 * Summarises every profile in `dir` (one file per member and window, merged). The idle node
 * (`(idle)`: the thread waiting for I/O) is left out so the shares are of CPU time spent.
 */
export async function summariseProfiles(dir: string): Promise<ProfileSummary> {
  const chosen = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).map((f) => ({ f }));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let totalMs = 0;
  for (const { f } of chosen) {
    const p = JSON.parse(await readFile(join(dir, f), 'utf8')) as CpuProfile;
    const frames = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
    p.samples.forEach((id, i) => {
      // The first delta runs from the profile's start time to the first sample (profiler start-up).
      if (i === 0) return;
      const ms = (p.timeDeltas[i] ?? 0) / 1000;
      const cf = frames.get(id);
      if (!cf || cf.functionName === '(idle)') return;
      totalMs += ms;
      const fn = `${cf.functionName || '(anonymous)'} ${cf.url ? `${basename(cf.url)}:${cf.lineNumber + 1}` : ''}`.trim();
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
      const pkg = packageOf(cf);
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    });
  }
  const top = (m: Map<string, number>): Array<[string, number]> => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { totalMs, byFunction: top(byFunction).slice(0, 25), byPackage: top(byPackage).slice(0, 15) };
}
