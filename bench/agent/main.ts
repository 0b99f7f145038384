/**
 * `npm run bench -- agent` (bench/agent/main.ts): creating and starting a busybox instance through
 * our node agent (gRPC + mutual TLS, durable ledger) beside the raw LXC floor (lxc tools by hand,
 * same storage, same config) and LXD 5.0.2 (REST API), in the same run, on dir and btrfs.
 *
 * Same workload on all three sides: the busybox image, a root disk on the storage under test and
 * one nic on a bridge (ours and LXD: a managed bridge with dnsmasq; floor: a plain bridge). Each
 * repetition creates+starts (wall time until RUNNING), then force-stops, then deletes; the sides
 * take turns in a rotating order, after one discarded warm-up round. Then 20 instances are created
 * and started concurrently on dir (ours, LXD, and the floor for reference) and deleted again.
 * Prints a table, then as the LAST line one JSON object.
 * Options: --reps N (default 10), --parallel N (default 20), --quick (3 reps, 5 parallel),
 * --btrfs-size SIZE (default 4GiB).
 */
import { randomBytes } from 'node:crypto';
import { buildBusyboxImage } from '../../src/node-agent/images/busybox.js';
import { HOST_TAG } from '../../test/support/host-plan.js';
import { createTestPki } from '../../test/support/pki.js';
import { cleanupOnSignals, onCleanup, runAll } from './cleanup.js';
import { FloorSide } from './floor.js';
import { LxdSide, ensureLxd } from './lxd.js';
import { OursSide } from './ours.js';
import type { BenchSide, BenchStorage } from './side.js';
import { median, r1, say, timed } from './stats.js';

interface Options {
  readonly reps: number;
  readonly parallel: number;
  readonly btrfsSize: string;
}

function parseArgs(argv: readonly string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  return {
    reps: Number(get('--reps') ?? (quick ? 3 : 10)),
    parallel: Number(get('--parallel') ?? (quick ? 5 : 20)),
    btrfsSize: get('--btrfs-size') ?? '4GiB',
  };
}

interface Figures {
  createStart: number[];
  stop: number[];
  delete: number[];
}

async function sequential(sides: readonly BenchSide[], storage: BenchStorage, reps: number, tag: string): Promise<Map<string, Figures>> {
  const out = new Map<string, Figures>(sides.map((s) => [s.label, { createStart: [], stop: [], delete: [] }]));
  for (let rep = -1; rep < reps; rep++) {
    const order = sides.map((_, i) => sides[(i + Math.max(rep, 0)) % sides.length]!);
    for (const side of order) {
      const name = `${tag}-${side.label[0]}${storage[0]}${rep < 0 ? 'w' : rep}`;
      const cs = await timed(() => side.createStart(name, storage));
      const st = await timed(() => side.stop(name));
      const del = await timed(() => side.delete(name));
      if (rep < 0) continue; // warm-up
      const f = out.get(side.label)!;
      f.createStart.push(cs);
      f.stop.push(st);
      f.delete.push(del);
    }
    if (rep >= 0) say(`${storage} rep ${rep + 1}/${reps} done`);
  }
  return out;
}

async function parallel(side: BenchSide, n: number, tag: string): Promise<{ createStartS: number; deleteS: number }> {
  const names = Array.from({ length: n }, (_, i) => `${tag}-${side.label[0]}p${i}`);
  const createStartS = (await timed(() => Promise.all(names.map((name) => side.createStart(name, 'dir'))))) / 1000;
  const deleteS =
    (await timed(() =>
      Promise.all(
        names.map(async (name) => {
          await side.stop(name);
          await side.delete(name);
        }),
      ),
    )) / 1000;
  say(`${side.label}: ${n} parallel create+start ${createStartS.toFixed(2)} s, stop+delete ${deleteS.toFixed(2)} s`);
  return { createStartS, deleteS };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  cleanupOnSignals();
  const tag = `${HOST_TAG}${randomBytes(2).toString('hex')}`;
  say(`run tag ${tag}; ${opts.reps} repetitions, ${opts.parallel} in parallel`);
  const lxdVersion = await ensureLxd();
  const image = await buildBusyboxImage({}, AbortSignal.timeout(120_000));
  const pki = await createTestPki('shoal-bench-ca');
  onCleanup('test CA', () => pki.remove());

  say('setting up ours (agent over gRPC/mTLS)');
  const ours = await OursSide.setup(tag, pki, image.tarball, opts.btrfsSize);
  say('setting up the raw LXC floor');
  const floor = await FloorSide.setup(tag, image.tarball, opts.btrfsSize);
  say(`setting up LXD ${lxdVersion}`);
  const lxd = await LxdSide.setup(tag, image.tarball, opts.btrfsSize);
  const sides = [ours, floor, lxd];

  const results: Record<BenchStorage, Map<string, Figures>> = {
    dir: await sequential(sides, 'dir', opts.reps, tag),
    btrfs: await sequential(sides, 'btrfs', opts.reps, tag),
  };
  const par = {
    ours: await parallel(ours, opts.parallel, tag),
    lxd: await parallel(lxd, opts.parallel, tag),
    floor: await parallel(floor, opts.parallel, tag),
  };

  const med = (st: BenchStorage, side: string, k: keyof Figures): number => median(results[st].get(side)![k]);
  const row = (label: string, o: number, f: number, l: number, unit = ''): string =>
    `${label.padEnd(34)}${(o.toFixed(1) + unit).padStart(10)}${(f.toFixed(1) + unit).padStart(10)}${(l.toFixed(1) + unit).padStart(10)}` +
    `${(o / f).toFixed(2).padStart(12)}${(o / l).toFixed(2).padStart(10)}`;
  console.log(`Agent benchmark: busybox, root disk + 1 bridged nic, median of ${opts.reps} (LXD ${lxdVersion}, ${opts.parallel} parallel on dir)`);
  console.log(`${''.padEnd(34)}${'ours'.padStart(10)}${'floor'.padStart(10)}${'LXD'.padStart(10)}${'ours/floor'.padStart(12)}${'ours/LXD'.padStart(10)}`);
  for (const st of ['dir', 'btrfs'] as const) {
    console.log(row(`create+start ${st} (ms)`, med(st, 'ours', 'createStart'), med(st, 'floor', 'createStart'), med(st, 'lxd', 'createStart')));
    console.log(row(`  stop (kill) ${st} (ms)`, med(st, 'ours', 'stop'), med(st, 'floor', 'stop'), med(st, 'lxd', 'stop')));
    console.log(row(`  delete ${st} (ms)`, med(st, 'ours', 'delete'), med(st, 'floor', 'delete'), med(st, 'lxd', 'delete')));
  }
  console.log(row(`${opts.parallel} parallel create+start (s)`, par.ours.createStartS, par.floor.createStartS, par.lxd.createStartS));
  console.log(row(`${opts.parallel} parallel stop+delete (s)`, par.ours.deleteS, par.floor.deleteS, par.lxd.deleteS));
  console.log('goals: ours/floor <= 1.25 for create+start; ours/LXD < 1 on every figure');
  console.log(
    JSON.stringify({
      create_start_ms_dir: r1(med('dir', 'ours', 'createStart')),
      floor_ms_dir: r1(med('dir', 'floor', 'createStart')),
      lxd_ms_dir: r1(med('dir', 'lxd', 'createStart')),
      create_start_ms_btrfs: r1(med('btrfs', 'ours', 'createStart')),
      floor_ms_btrfs: r1(med('btrfs', 'floor', 'createStart')),
      lxd_ms_btrfs: r1(med('btrfs', 'lxd', 'createStart')),
      parallel20_s: Number(par.ours.createStartS.toFixed(2)),
      lxd_parallel20_s: Number(par.lxd.createStartS.toFixed(2)),
      floor_parallel20_s: Number(par.floor.createStartS.toFixed(2)),
      delete_ms_dir: r1(med('dir', 'ours', 'delete')),
      floor_delete_ms_dir: r1(med('dir', 'floor', 'delete')),
      lxd_delete_ms_dir: r1(med('dir', 'lxd', 'delete')),
      delete_ms_btrfs: r1(med('btrfs', 'ours', 'delete')),
      floor_delete_ms_btrfs: r1(med('btrfs', 'floor', 'delete')),
      lxd_delete_ms_btrfs: r1(med('btrfs', 'lxd', 'delete')),
      stop_ms_dir: r1(med('dir', 'ours', 'stop')),
      lxd_stop_ms_dir: r1(med('dir', 'lxd', 'stop')),
      parallel20_delete_s: Number(par.ours.deleteS.toFixed(2)),
      lxd_parallel20_delete_s: Number(par.lxd.deleteS.toFixed(2)),
    }),
  );
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await runAll();
    process.exit(process.exitCode ?? 0);
  });
