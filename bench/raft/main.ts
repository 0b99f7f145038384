/**
 * `npm run bench -- raft` (bench/raft/main.ts): Shoal's Raft KV against etcd 3.4, side by side in one run, with the same
 * load generator (a separate process) and the same procedure:
 * - 3 members each, separate processes, loopback, mutual TLS (peer and client), fsync on; both
 *   clusters run at once and each phase runs on one system and then on the other (interleaved);
 * - writes/s with 1, 64 and 256 requests in flight (warm-up, then ~10 s each), p50/p99 at 64;
 * - failover: kill -9 the leader under load (64 in flight) until the next acknowledged write,
 *   10 repetitions, restarting the killed member between repetitions.
 * Prints a table, then as the LAST line one JSON object with the figures.
 * Options: --quick (short phases, 3 repetitions), --only shoal|etcd, --reps N, --seconds S.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdCluster, ensureEtcd } from './etcd-cluster.js';
import { LoadgenClient } from './loadgen-client.js';
import { nowMs, type RunResult } from './loadgen.js';
import { createShoalBenchCluster } from './shoal-cluster.js';
import { repoRoot } from './targets.js';
import type { BenchCluster } from './bench-cluster.js';


interface Options {
  readonly quick: boolean;
  readonly only: 'shoal' | 'etcd' | undefined;
  readonly reps: number;
  readonly seconds: number;
}

function parseArgs(argv: readonly string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const only = get('--only');
  if (only !== undefined && only !== 'shoal' && only !== 'etcd') throw new Error('--only takes shoal or etcd');
  return {
    quick,
    only,
    reps: Number(get('--reps') ?? (quick ? 3 : 10)),
    seconds: Number(get('--seconds') ?? (quick ? 3 : 10)),
  };
}

interface SystemFigures {
  readonly runs: Record<number, RunResult>;
  readonly failovers: (number | null)[];
}

const say = (msg: string): void => {
  process.stderr.write(`[bench] ${msg}\n`);
};

/** One system under test with its own load generator process. */
class Side {
  readonly runs: Record<number, RunResult> = {};
  readonly failovers: (number | null)[] = [];
  private readonly lg = new LoadgenClient();

  constructor(
    readonly cluster: BenchCluster,
    private readonly opts: Options,
  ) {
    active.add(cluster);
  }

  async start(): Promise<void> {
    const c = this.cluster;
    await this.lg.request({ type: 'init', system: c.name, endpoints: c.endpoints, tls: c.tls }, 'ready');
    c.startAll();
    const leader = await this.lg.request({ type: 'leader' }, 'leader');
    say(`${c.name}: leader is member ${leader.endpoint + 1}`);
  }

  async run(inflight: number): Promise<void> {
    const { result } = await this.lg.request(
      { type: 'run', inflight, warmupMs: this.opts.quick ? 1000 : 2000, durationMs: this.opts.seconds * 1000 },
      'result',
    );
    this.runs[inflight] = result;
    say(`${this.cluster.name}: ${inflight} in flight: ${fmtMs(result.writesPerS)} writes/s, p50 ${fmtMs(result.p50Ms)} ms, p99 ${fmtMs(result.p99Ms)} ms, ${result.failures} failures`);
  }

  /** kill -9 the leader under 64 writes in flight; time until the next acknowledged write; restart it. */
  async failover(rep: number): Promise<void> {
    const { lg, cluster } = this;
    await lg.request({ type: 'load-start', inflight: 64 }, 'ready');
    await sleep(1500);
    const { endpoint } = await lg.request({ type: 'leader' }, 'leader');
    const at = nowMs();
    await cluster.kill(endpoint);
    const { ms } = await lg.request({ type: 'killed', at, endpoint, timeoutMs: 20_000 }, 'failover');
    await lg.request({ type: 'load-stop' }, 'stopped');
    this.failovers.push(ms);
    say(`${cluster.name}: failover ${rep + 1}/${this.opts.reps}: killed member ${endpoint + 1}, next write acknowledged after ${ms === null ? 'never' : `${ms.toFixed(0)} ms`}`);
    cluster.start(endpoint);
    const back = await lg.request({ type: 'await-member', endpoint, timeoutMs: 30_000 }, 'member');
    if (!back.ok) throw new Error(`${cluster.name} member ${endpoint + 1} did not come back`);
    await sleep(1000);
  }

  figures(): SystemFigures {
    return { runs: this.runs, failovers: this.failovers };
  }

  async close(): Promise<void> {
    this.lg.close();
    active.delete(this.cluster);
    await this.cluster.destroy();
  }
}

/** Clusters running now, destroyed on Ctrl-C. */
const active = new Set<BenchCluster>();

/** Figures cross the IPC channel as JSON, where NaN becomes null. */
const fmtMs = (x: number | null): string => (x === null || Number.isNaN(x) ? '-' : x.toFixed(x >= 100 ? 0 : 2));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function failoverStats(f: SystemFigures | undefined): { median: number; max: number; lost: number } {
  const ok = (f?.failovers ?? []).filter((x): x is number => x !== null);
  return { median: median(ok), max: ok.length ? Math.max(...ok) : NaN, lost: (f?.failovers.length ?? 0) - ok.length };
}

function printTable(ours: SystemFigures | undefined, etcd: SystemFigures | undefined, etcdVersion: string): void {
  const rows: [string, number | null | undefined, number | null | undefined, 'higher' | 'lower'][] = [];
  for (const n of [1, 64, 256]) rows.push([`writes/s, ${n} in flight`, ours?.runs[n]?.writesPerS, etcd?.runs[n]?.writesPerS, 'higher']);
  rows.push(['p50 ms, 64 in flight', ours?.runs[64]?.p50Ms, etcd?.runs[64]?.p50Ms, 'lower']);
  rows.push(['p99 ms, 64 in flight', ours?.runs[64]?.p99Ms, etcd?.runs[64]?.p99Ms, 'lower']);
  const fo = failoverStats(ours);
  const fe = failoverStats(etcd);
  rows.push(['failover median ms', fo.median, fe.median, 'lower']);
  rows.push(['failover max ms', fo.max, fe.max, 'lower']);
  const fmt = (x: number | null | undefined): string => (x === undefined || x === null || Number.isNaN(x) ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(2));
  const lines = [['metric', 'shoal', etcdVersion, 'shoal/etcd'], ...rows.map(([m, a, b]) => [m, fmt(a), fmt(b), typeof a === 'number' && typeof b === 'number' && b > 0 && !Number.isNaN(a) ? (a / b).toFixed(2) : '-'])];
  const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  for (const l of lines) console.log(l.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const work = join(repoRoot, '.bench', `raft-${process.pid}`);
  const cleanup = (): void => rmSync(work, { recursive: true, force: true });
  const interrupted = (): void => {
    say('interrupted: cleaning up');
    void Promise.all([...active].map((c) => c.destroy().catch(() => undefined))).finally(() => {
      cleanup();
      process.exit(130);
    });
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    mkdirSync(work, { recursive: true });
    const etcdVersion = ensureEtcd();
    say(`${etcdVersion}; work dir ${work}`);
    // Both clusters run side by side and every phase is measured on one, then at once on the other,
    // so that load from the rest of the machine hits both alike.
    const sides: Side[] = [];
    try {
      if (opts.only !== 'etcd') sides.push(new Side(await createShoalBenchCluster(join(work, 'shoal')), opts));
      if (opts.only !== 'shoal') sides.push(new Side(await createEtcdBenchCluster(join(work, 'etcd')), opts));
      for (const side of sides) await side.start();
      for (const inflight of [1, 64, 256]) for (const side of sides) await side.run(inflight);
      for (let rep = 0; rep < opts.reps; rep++) for (const side of sides) await side.failover(rep);
    } finally {
      for (const side of sides) await side.close();
    }
    const ours = sides.find((x) => x.cluster.name === 'shoal')?.figures();
    const etcd = sides.find((x) => x.cluster.name === 'etcd')?.figures();
    printTable(ours, etcd, etcdVersion.replace('etcd Version: ', 'etcd '));
    const fo = failoverStats(ours);
    const fe = failoverStats(etcd);
    const r = (x: number | null | undefined): number | null => (x === undefined || x === null || Number.isNaN(x) ? null : Math.round(x * 100) / 100);
    console.log(
      JSON.stringify({
        writes_per_s_1: r(ours?.runs[1]?.writesPerS),
        writes_per_s_64: r(ours?.runs[64]?.writesPerS),
        writes_per_s_256: r(ours?.runs[256]?.writesPerS),
        p50_ms_64: r(ours?.runs[64]?.p50Ms),
        p99_ms_64: r(ours?.runs[64]?.p99Ms),
        etcd_writes_per_s_1: r(etcd?.runs[1]?.writesPerS),
        etcd_writes_per_s_64: r(etcd?.runs[64]?.writesPerS),
        etcd_writes_per_s_256: r(etcd?.runs[256]?.writesPerS),
        etcd_p50_ms_64: r(etcd?.runs[64]?.p50Ms),
        etcd_p99_ms_64: r(etcd?.runs[64]?.p99Ms),
        failover_median_ms: r(fo.median),
        failover_max_ms: r(fo.max),
        failover_no_ack: fo.lost,
        etcd_failover_median_ms: r(fe.median),
        etcd_failover_max_ms: r(fe.max),
        etcd_failover_no_ack: fe.lost,
        repetitions: opts.reps,
        seconds_per_run: opts.seconds,
      }),
    );
  } finally {
    cleanup();
  }
}

/** etcd as a BenchCluster. */
async function createEtcdBenchCluster(dir: string): Promise<BenchCluster> {
  const c = await EtcdCluster.create(dir);
  return {
    name: 'etcd',
    endpoints: c.endpoints,
    tls: { ca: c.caFile, ...c.clientTls },
    startAll: () => c.startAll(),
    start: (i) => c.start(i),
    kill: (i) => c.kill(i),
    destroy: () => c.destroy(),
  };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
