/**
 * A quick ours-versus-floor comparison of create+start (no LXD), for profiling work: the two sides
 * take turns (ours, floor, floor, ours, …) after a discarded warm-up, each instance is stopped and
 * deleted before the next. Prints the medians, their ratio and the load average.
 * `node --import tsx bench/agent/pair.ts [--reps N] [--storage dir|btrfs|both] [--side ours|floor]`; `MARK` lines on
 * stderr separate the operations (for `strace -f -tt` or `--cpu-prof` runs).
 */
import { loadavg } from 'node:os';
import { buildBusyboxImage } from '../../src/node-agent/images/busybox.js';
import { HOST_TAG, randomSuffix } from '../../test/support/host-plan.js';
import { createTestPki } from '../../test/support/pki.js';
import { cleanupOnSignals, onCleanup, runAll } from './cleanup.js';
import { FloorSide } from './floor.js';
import { OursSide } from './ours.js';
import type { BenchSide, BenchStorage } from './side.js';
import { median, say, timed } from './stats.js';

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const reps = Number(arg('--reps') ?? 10);
const which = arg('--storage') ?? 'both';
const only = arg('--side');
const storages: BenchStorage[] = which === 'both' ? ['dir', 'btrfs'] : [which as BenchStorage];

async function main(): Promise<void> {
  cleanupOnSignals();
  const tag = `${HOST_TAG}${randomSuffix(2)}`;
  const image = await buildBusyboxImage({}, AbortSignal.timeout(120_000));
  const pki = await createTestPki(`shoal-${HOST_TAG}-pair-ca`);
  onCleanup('test CA', () => pki.remove());
  const ours = await OursSide.setup(tag, pki, image.tarball, '1GiB');
  const floor = await FloorSide.setup(tag, image.tarball, '1GiB');
  const load0 = loadavg()[0]!;
  for (const storage of storages) {
    const times = new Map<string, number[]>([
      ['ours', []],
      ['floor', []],
    ]);
    const cpus = new Map<string, number[]>([
      ['ours', []],
      ['floor', []],
    ]);
    for (let rep = -1; rep < reps; rep++) {
      const order: BenchSide[] = rep % 2 === 0 ? [ours, floor] : [floor, ours];
      for (const side of order.filter((x) => !only || x.label === only)) {
        const name = `${tag}-${side.label[0]}${storage[0]}${rep < 0 ? 'w' : rep}`;
        process.stderr.write(`MARK ${side.label} create+start ${name} ${process.hrtime.bigint() / 1000n}\n`);
        const cpu0 = process.cpuUsage();
        const ms = await timed(() => side.createStart(name, storage));
        const cpu = process.cpuUsage(cpu0);
        process.stderr.write(`MARK ${side.label} end ${name} ${process.hrtime.bigint() / 1000n}\n`);
        await side.stop(name);
        await side.delete(name);
        if (rep >= 0) {
          times.get(side.label)!.push(ms);
          cpus.get(side.label)!.push((cpu.user + cpu.system) / 1000);
        }
      }
    }
    const o = median(times.get('ours')!);
    const f = median(times.get('floor')!);
    say(`${storage}: ours ${o.toFixed(1)} ms, floor ${f.toFixed(1)} ms, ratio ${(o / f).toFixed(2)} (load ${load0.toFixed(2)} → ${loadavg()[0]!.toFixed(2)})`);
    say(`  this process's CPU: ours ${median(cpus.get('ours')!).toFixed(1)} ms, floor ${median(cpus.get('floor')!).toFixed(1)} ms`);
    say(`  ours  ${times.get('ours')!.map((x) => x.toFixed(0)).join(' ')}`);
    say(`  floor ${times.get('floor')!.map((x) => x.toFixed(0)).join(' ')}`);
  }
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`[pair] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await runAll();
    process.exit(process.exitCode ?? 0);
  });
