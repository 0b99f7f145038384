/**
 * The timeline of our create+start (dir or btrfs): the agent runs in this process behind real
 * gRPC/mTLS (ours.ts); its drivers, stores, DB tables and every child process are wrapped so that
 * each call becomes a span (start and duration relative to the client's call). Prints, per span,
 * the median start and duration over the repetitions, and the floor's median beside ours.
 * `node --import tsx bench/agent/timeline.ts [--reps N] [--storage dir|btrfs]`
 * Measurement only: wrapping costs a few µs per call; nothing here changes what the agent does.
 */
import childProcess, { type ChildProcess } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { loadavg } from 'node:os';
import { buildBusyboxImage } from '../../src/node-agent/images/busybox.js';
import { HOST_TAG, randomSuffix } from '../../test/support/host-plan.js';
import { createTestPki } from '../../test/support/pki.js';
import { cleanupOnSignals, onCleanup, runAll } from './cleanup.js';
import { FloorSide } from './floor.js';
import { OursSide } from './ours.js';
import type { BenchStorage } from './side.js';
import { median, nowMs, say, timed } from './stats.js';

interface Span {
  readonly name: string;
  readonly t0: number;
  t1: number;
}

let spans: Span[] | null = null;

function record(name: string): Span | undefined {
  if (!spans) return undefined;
  const s: Span = { name, t0: nowMs(), t1: NaN };
  spans.push(s);
  return s;
}

type Fn = (...args: unknown[]) => unknown;

/** Wraps the promise-returning methods of `obj` (own and inherited; `only` restricts them). */
function instrument(obj: object, label: string, only?: readonly string[]): void {
  const names = new Set<string>();
  for (let p: object | null = obj; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const k of Object.getOwnPropertyNames(p)) {
      const d = Object.getOwnPropertyDescriptor(p, k);
      if (k !== 'constructor' && d && typeof d.value === 'function') names.add(k);
    }
  }
  const target = obj as Record<string, Fn>;
  for (const k of names) {
    if (only && !only.includes(k)) continue;
    const orig = target[k]!;
    target[k] = function (this: unknown, ...args: unknown[]): unknown {
      const s = record(`${label}.${k}`);
      const r = orig.apply(this, args);
      if (s) {
        if (r instanceof Promise) r.then(() => void (s.t1 = nowMs()), () => void (s.t1 = nowMs()));
        else s.t1 = nowMs();
      }
      return r;
    };
  }
}

/** Every child process becomes a span from spawn() to its exit. */
function instrumentSpawn(): void {
  const orig = childProcess.spawn as unknown as Fn;
  (childProcess as unknown as Record<string, Fn>)['spawn'] = function (this: unknown, ...args: unknown[]): unknown {
    const s = record(`spawn ${String(args[0])}`);
    const child = orig.apply(this, args) as ChildProcess;
    if (s) child.once('exit', () => void (s.t1 = nowMs()));
    return child;
  };
  syncBuiltinESMExports();
}

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const reps = Number(arg('--reps') ?? 10);
const storage = (arg('--storage') ?? 'dir') as BenchStorage;

async function main(): Promise<void> {
  cleanupOnSignals();
  instrumentSpawn();
  const tag = `${HOST_TAG}${randomSuffix(2)}`;
  const image = await buildBusyboxImage({}, AbortSignal.timeout(120_000));
  const pki = await createTestPki(`shoal-${HOST_TAG}-tl-ca`);
  onCleanup('test CA', () => pki.remove());
  const ours = await OursSide.setup(tag, pki, image.tarball, '1GiB');
  const floor = await FloorSide.setup(tag, image.tarball, '1GiB');

  const { ctx } = ours.service;
  const d = ctx.drivers;
  const lxc = d.instance as unknown as { store: object; tools: object };
  instrument(ours.service.instances, 'svc.instances', ['create']);
  instrument(ours.service.lifecycle, 'svc.lifecycle', ['start', 'startLocked']);
  instrument(d.instance, 'lxc', ['create', 'start', 'render', 'settleTeardown', 'requireRuntime', 'features', 'hook']);
  instrument(lxc.store, 'lxc.store');
  instrument(lxc.tools, 'lxc.tools');
  for (const [name, drv] of Object.entries(d.storage)) instrument(drv, `storage.${name}`);
  instrument(d.network, 'net', ['addHost', 'removeHost']);
  instrument(d.images, 'images');
  instrument(ctx.locks, 'locks', ['with']);
  instrument(ctx.templates, 'templates', ['apply', 'load']);
  instrument(ctx, 'ctx', ['deviceLookups', 'instance', 'pool']);
  instrument(ctx.db, 'db', ['batch']);
  for (const [name, table] of Object.entries(ctx.db)) {
    if (typeof table === 'object' && table !== null) instrument(table as object, `db.${name}`, ['get', 'put', 'del', 'batch']);
  }

  const runs: Span[][] = [];
  const totals: number[] = [];
  const floorTotals: number[] = [];
  for (let rep = -1; rep < reps; rep++) {
    const fname = `${tag}-f${rep < 0 ? 'w' : rep}`;
    const ft = await timed(() => floor.createStart(fname, storage));
    await floor.stop(fname);
    await floor.delete(fname);
    const name = `${tag}-o${rep < 0 ? 'w' : rep}`;
    spans = [];
    const t0 = nowMs();
    const total = await timed(() => ours.createStart(name, storage));
    const got = spans.map((s) => ({ ...s, t0: s.t0 - t0, t1: s.t1 - t0 }));
    spans = null;
    await ours.stop(name);
    await ours.delete(name);
    if (rep < 0) continue;
    runs.push(got);
    totals.push(total);
    floorTotals.push(ft);
  }

  // Spans are matched across repetitions by name and occurrence.
  const keyed = runs.map((run) => {
    const seen = new Map<string, number>();
    return run.map((s) => {
      const n = (seen.get(s.name) ?? 0) + 1;
      seen.set(s.name, n);
      return { key: n > 1 ? `${s.name} #${n}` : s.name, s };
    });
  });
  const trivial = /\.(dir|configPath|volumePath|args|features|hook)( #\d+)?$/;
  const order = keyed[keyed.length - 1]!.map((k) => k.key).filter((k) => !trivial.test(k));
  console.log(`timeline of ours, ${storage}, median of ${reps} (ms from the client's call; load ${loadavg()[0]!.toFixed(2)})`);
  console.log(`${'start'.padStart(8)} ${'dur'.padStart(7)} ${'min dur'.padStart(8)}  span`);
  for (const key of order) {
    const t0s: number[] = [];
    const durs: number[] = [];
    for (const run of keyed) {
      const hit = run.find((k) => k.key === key);
      if (hit) {
        t0s.push(hit.s.t0);
        durs.push(hit.s.t1 - hit.s.t0);
      }
    }
    console.log(`${median(t0s).toFixed(1).padStart(8)} ${median(durs).toFixed(1).padStart(7)} ${Math.min(...durs).toFixed(1).padStart(8)}  ${key}`);
  }
  const o = median(totals);
  const f = median(floorTotals);
  say(`${storage}: ours ${o.toFixed(1)} ms (min ${Math.min(...totals).toFixed(1)}), floor ${f.toFixed(1)} ms (min ${Math.min(...floorTotals).toFixed(1)}), ratio ${(o / f).toFixed(2)}`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`[timeline] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await runAll();
    process.exit(process.exitCode ?? 0);
  });
