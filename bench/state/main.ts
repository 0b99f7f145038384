/**
 * `npm run bench -- state` (bench/state/main.ts): the cluster database's transactions beside plain
 * Raft puts, on the same 3-member cluster, with the same load generator (a separate process, same
 * gRPC clients, same leader discovery), measured in the same run:
 * - 3 members (compiled kv-member processes: Raft + state machine), loopback, mutual TLS, fsync on;
 * - `put`: plain KvService.Put of unique keys, 64 in flight (the raft benchmark's workload);
 * - `txn`: instance creation as StateStore.update runs it on the leader — read of a member record
 *   from the leader's applied state, check, then one transaction writing 3 keys under 3 compares
 *   (the compare on the member record's revision makes the read safe) — 64 in flight; latency
 *   covers the read and the transaction. These are the headline `txn_*` figures;
 * - `txn-lin`: the same with a linearizable read (one more ReadIndex round), reported beside it;
 * - phases alternate (put, txn, txn-lin, put, …: `--rounds`, default 2), each a warm-up then
 *   `--seconds` (default 10); figures are the mean over rounds.
 * Prints a table, then as the LAST line one JSON object:
 * `{ txn_per_s_64, txn_p99_ms_64, raft_puts_per_s_64, … }`. Goal: txn_per_s_64 ≥ 50% of raft_puts_per_s_64.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KvCluster } from '../../test/support/kv-cluster.js';
import { repoRoot } from '../raft/targets.js';
import type { StateLoadReply, StateLoadRequest, StateRunResult, Workload } from './loadgen.js';

const say = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);
const arg = (argv: readonly string[], name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

/** The forked load generator, one request at a time. */
class Loadgen {
  private readonly child: ChildProcess;
  private waiting: ((m: StateLoadReply) => void) | undefined;
  private readonly first: Promise<StateLoadReply>;

  constructor() {
    const here = dirname(fileURLToPath(import.meta.url));
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    this.child = fork(join(here, `loadgen.${ext}`), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.first = new Promise((resolve) => (this.waiting = resolve));
    this.child.on('message', (m) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.(m as StateLoadReply);
    });
  }

  async request(req: StateLoadRequest): Promise<StateLoadReply> {
    await this.first;
    const reply = await new Promise<StateLoadReply>((resolve, reject) => {
      this.waiting = resolve;
      this.child.once('exit', () => reject(new Error('load generator exited')));
      this.child.send(req);
    });
    if (reply.type === 'error') throw new Error(`load generator: ${reply.message}`);
    return reply;
  }

  close(): void {
    if (this.child.connected) this.child.send({ type: 'exit' } satisfies StateLoadRequest);
    setTimeout(() => this.child.kill('SIGKILL'), 2000).unref();
  }
}

const mean = (xs: readonly (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
};
const r2 = (x: number | null): number | null => (x === null ? null : Math.round(x * 100) / 100);
const fmt = (x: number | null): string => (x === null ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(2));

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const seconds = Number(arg(argv, '--seconds') ?? (quick ? 3 : 10));
  const rounds = Number(arg(argv, '--rounds') ?? (quick ? 1 : 2));
  const inflight = 64;
  const work = join(repoRoot, '.bench', `state-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const cluster = await KvCluster.create({ dir: join(work, 'cluster'), size: 3, runner: import.meta.url.endsWith('.ts') ? 'tsx' : 'dist', logLevel: 'warn' });
  const lg = new Loadgen();
  const cleanup = async (): Promise<void> => {
    lg.close();
    await cluster.destroy();
    rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  const results: StateRunResult[] = [];
  try {
    cluster.startAll();
    const leader = await cluster.waitLeader([1, 2, 3]);
    say(`leader is member ${leader}; waiting for the member records`);
    for (const id of [1, 2, 3]) {
      for (let t = 0; !(await cluster.get(leader, `members/m${id}`).then((r) => r.found, () => false)); t++) {
        if (t > 300) throw new Error(`member m${id} never advertised itself`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await lg.request({ type: 'init', endpoints: cluster.endpoints([1, 2, 3]), tls: { ca: cluster.caFile, ...cluster.clientTls } });
    for (let round = 0; round < rounds; round++) {
      for (const workload of ['put', 'txn', 'txn-lin'] as const) {
        const reply = await lg.request({ type: 'run', workload, inflight, warmupMs: quick ? 1000 : 2000, durationMs: seconds * 1000 });
        if (reply.type !== 'result') throw new Error(`unexpected reply ${reply.type}`);
        const r = reply.result;
        results.push(r);
        say(`round ${round + 1} ${workload}: ${fmt(r.opsPerS)}/s, p50 ${fmt(r.p50Ms)} ms, p99 ${fmt(r.p99Ms)} ms, ${r.failures} failures`);
      }
    }
  } finally {
    await cleanup();
  }
  const of = (w: Workload): StateRunResult[] => results.filter((r) => r.workload === w);
  const puts = mean(of('put').map((r) => r.opsPerS));
  const txns = mean(of('txn').map((r) => r.opsPerS));
  const lin = mean(of('txn-lin').map((r) => r.opsPerS));
  const rows: [string, number | null][] = [
    ['plain Raft puts/s, 64 in flight', puts],
    ['  p50 ms', mean(of('put').map((r) => r.p50Ms))],
    ['  p99 ms', mean(of('put').map((r) => r.p99Ms))],
    ['instance-creation txns/s, 64 in flight', txns],
    ['  p50 ms (read + txn)', mean(of('txn').map((r) => r.p50Ms))],
    ['  p99 ms (read + txn)', mean(of('txn').map((r) => r.p99Ms))],
    ['txn/s as % of puts/s (goal >= 50)', txns !== null && puts ? (100 * txns) / puts : null],
    ['same, linearizable read: txns/s', lin],
    ['  p99 ms (read + txn)', mean(of('txn-lin').map((r) => r.p99Ms))],
    ['  as % of puts/s', lin !== null && puts ? (100 * lin) / puts : null],
    ['failed txns (compare failed or error)', [...of('txn'), ...of('txn-lin')].reduce((a, r) => a + r.failures, 0)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${fmt(v).padStart(8)}`);
  console.log(
    JSON.stringify({
      txn_per_s_64: r2(txns),
      txn_p99_ms_64: r2(mean(of('txn').map((r) => r.p99Ms))),
      raft_puts_per_s_64: r2(puts),
      txn_p50_ms_64: r2(mean(of('txn').map((r) => r.p50Ms))),
      raft_puts_p99_ms_64: r2(mean(of('put').map((r) => r.p99Ms))),
      txn_vs_puts_pct: txns !== null && puts ? r2((100 * txns) / puts) : null,
      txn_linearizable_read_per_s_64: r2(lin),
      txn_linearizable_read_p99_ms_64: r2(mean(of('txn-lin').map((r) => r.p99Ms))),
      rounds,
      seconds_per_run: seconds,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
