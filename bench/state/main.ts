/**
 * `npm run bench -- state` (bench/state/main.ts): the cluster database's transactions beside plain
 * Raft puts, on the same 3-member cluster (loopback, mutual TLS, fsync on), measured in the same run,
 * 64 operations in flight, phases interleaved per round (`--rounds`, default 2; each a warm-up then
 * `--seconds`, default 10; figures are the mean over rounds):
 * - on the leader, in-process (member 1 runs in bench/state/leader.ts, the same startKvMember; it
 *   is made leader): `local-put`, a Raft put proposed in-process, and `local-txn`, the real path of
 *   an instance creation — StateStore.update reading and checking the member record from the
 *   leader's applied state, then creating instance, root volume and operation records through the
 *   typed tables (integrity rules included). These are the headline `txn_*` / `raft_puts_*` figures:
 *   the same path on both sides (no client RPC on either), the same Raft and fsync;
 * - through client RPCs from a load generator process (bench/state/loadgen.ts): `put`
 *   (KvService.Put, the raft benchmark's workload), `txn` (the previous figure: two RPCs, a Range
 *   then a Txn of 3 keys under 3 compares) and `txn-lin` (the same with a linearizable read), kept
 *   beside and labelled (`rpc_*`, `two_rpc_*`).
 * Prints a table, then as the LAST line one JSON object:
 * `{ txn_per_s_64, txn_p99_ms_64, raft_puts_per_s_64, … }`. Goal: txn_per_s_64 ≥ 50% of raft_puts_per_s_64.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KvCluster } from '../../test/support/kv-cluster.js';
import { repoRoot } from '../raft/targets.js';
import type { LeaderReply, LeaderRequest, LocalWorkload } from './leader.js';
import type { StateLoadReply, StateLoadRequest, StateRunResult, Workload } from './loadgen.js';

const say = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);
const arg = (argv: readonly string[], name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

/** A forked helper process (load generator or in-process leader), one request at a time. */
class Child<Req extends { type: string }, Reply extends { type: string }> {
  private readonly child: ChildProcess;
  private waiting: ((m: Reply) => void) | undefined;
  private readonly first: Promise<Reply>;

  constructor(
    file: string,
    args: readonly string[],
    private readonly what: string,
  ) {
    const here = dirname(fileURLToPath(import.meta.url));
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    this.child = fork(join(here, `${file}.${ext}`), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.first = new Promise((resolve) => (this.waiting = resolve));
    this.child.on('message', (m) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.(m as Reply);
    });
  }

  async request(req: Req): Promise<Reply> {
    await this.first;
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.waiting = resolve;
      this.child.once('exit', () => reject(new Error(`${this.what} exited`)));
      this.child.send(req);
    });
    if (reply.type === 'error') throw new Error(`${this.what}: ${(reply as { message?: string }).message ?? ''}`);
    return reply;
  }

  /** Asks the child to exit (`exit` request), then kills it after `graceMs`. */
  async close(exit: Req, graceMs = 2000): Promise<void> {
    if (!this.child.connected || this.child.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send(exit);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }
}

const mean = (xs: readonly (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
};
const r2 = (x: number | null): number | null => (x === null ? null : Math.round(x * 100) / 100);
const fmt = (x: number | null): string => (x === null ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(2));
const ratio = (a: number | null, b: number | null): number | null => (a !== null && b ? (100 * a) / b : null);

type AnyWorkload = Workload | LocalWorkload;
type Result = Omit<StateRunResult, 'workload'> & { readonly workload: AnyWorkload };

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const seconds = Number(arg(argv, '--seconds') ?? (quick ? 3 : 10));
  const rounds = Number(arg(argv, '--rounds') ?? (quick ? 1 : 2));
  const inflight = 64;
  const work = join(repoRoot, '.bench', `state-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const cluster = await KvCluster.create({ dir: join(work, 'cluster'), size: 3, runner: import.meta.url.endsWith('.ts') ? 'tsx' : 'dist', logLevel: 'warn' });
  // Member 1 runs in a forked process of ours (same startKvMember, same flags) that can also run
  // workloads in-process once it leads; members 2 and 3 are ordinary kv-member processes.
  const m1 = cluster.command(1).args;
  const leader = new Child<LeaderRequest, LeaderReply>('leader', m1.slice(m1.indexOf('--id')), 'in-process leader');
  const lg = new Child<StateLoadRequest, StateLoadReply>('loadgen', [], 'load generator');
  const cleanup = async (): Promise<void> => {
    await lg.close({ type: 'exit' });
    await leader.close({ type: 'exit' }, 10_000);
    await cluster.destroy();
    rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  const results: Result[] = [];
  try {
    cluster.start(2);
    cluster.start(3);
    const first = await cluster.waitLeader([1, 2, 3]);
    say(`leader is member ${first}; waiting for the member records`);
    for (const id of [1, 2, 3]) {
      for (let t = 0; !(await cluster.get(first, `members/m${id}`).then((r) => r.found, () => false)); t++) {
        if (t > 300) throw new Error(`member m${id} never advertised itself`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await leader.request({ type: 'lead' });
    say('member 1 (in-process workloads) leads');
    await lg.request({ type: 'init', endpoints: cluster.endpoints([1, 2, 3]), tls: { ca: cluster.caFile, ...cluster.clientTls } });
    const warmupMs = quick ? 1000 : 2000;
    const durationMs = seconds * 1000;
    for (let round = 0; round < rounds; round++) {
      for (const workload of ['local-put', 'local-txn', 'put', 'txn', 'txn-lin'] as const) {
        const reply =
          workload === 'local-put' || workload === 'local-txn'
            ? await leader.request({ type: 'run', workload, inflight, warmupMs, durationMs })
            : await lg.request({ type: 'run', workload, inflight, warmupMs, durationMs });
        if (reply.type !== 'result') throw new Error(`unexpected reply ${reply.type}`);
        const r = reply.result;
        results.push(r);
        say(`round ${round + 1} ${workload}: ${fmt(r.opsPerS)}/s, p50 ${fmt(r.p50Ms)} ms, p99 ${fmt(r.p99Ms)} ms, ${r.failures} failures`);
      }
    }
  } finally {
    await cleanup();
  }
  const of = (w: AnyWorkload): Result[] => results.filter((r) => r.workload === w);
  const rate = (w: AnyWorkload): number | null => mean(of(w).map((r) => r.opsPerS));
  const p50 = (w: AnyWorkload): number | null => mean(of(w).map((r) => r.p50Ms));
  const p99 = (w: AnyWorkload): number | null => mean(of(w).map((r) => r.p99Ms));
  const localPuts = rate('local-put');
  const localTxns = rate('local-txn');
  const puts = rate('put');
  const txns = rate('txn');
  const lin = rate('txn-lin');
  const both = (w: AnyWorkload): string => `${fmt(p50(w))} / ${fmt(p99(w))}`;
  const rows: [string, number | string | null][] = [
    ['On the leader, in-process (the real path: StateStore.update)', null],
    ['  plain Raft puts/s, 64 in flight', localPuts],
    ['    p50 / p99 ms', both('local-put')],
    ['  instance-creation txns/s (StateStore.update), 64 in flight', localTxns],
    ['    p50 / p99 ms', both('local-txn')],
    ['  txn/s as % of puts/s (goal >= 50)', ratio(localTxns, localPuts)],
    ['Through client RPCs (load generator process)', null],
    ['  plain Raft puts/s (KvService.Put), 64 in flight', puts],
    ['    p50 / p99 ms', both('put')],
    ['  txns/s as two RPCs (Range, then Txn): the old figure', txns],
    ['    p50 / p99 ms (read + txn)', both('txn')],
    ['    as % of RPC puts/s', ratio(txns, puts)],
    ['  same with a linearizable read: txns/s', lin],
    ['    as % of RPC puts/s', ratio(lin, puts)],
    ['failed txns (compare failed or error)', [...of('local-txn'), ...of('txn'), ...of('txn-lin')].reduce((a, r) => a + r.failures, 0)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v === null && !k.startsWith(' ') ? '' : (typeof v === 'string' ? v : fmt(v)).padStart(13)}`);
  console.log(
    JSON.stringify({
      txn_per_s_64: r2(localTxns),
      txn_p99_ms_64: r2(p99('local-txn')),
      raft_puts_per_s_64: r2(localPuts),
      txn_p50_ms_64: r2(p50('local-txn')),
      raft_puts_p99_ms_64: r2(p99('local-put')),
      txn_vs_puts_pct: r2(ratio(localTxns, localPuts)),
      rpc_raft_puts_per_s_64: r2(puts),
      rpc_raft_puts_p99_ms_64: r2(p99('put')),
      two_rpc_txn_per_s_64: r2(txns),
      two_rpc_txn_p99_ms_64: r2(p99('txn')),
      two_rpc_txn_vs_rpc_puts_pct: r2(ratio(txns, puts)),
      two_rpc_txn_linearizable_read_per_s_64: r2(lin),
      rounds,
      seconds_per_run: seconds,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
