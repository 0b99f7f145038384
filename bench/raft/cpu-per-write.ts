/**
 * `node dist/bench/raft/cpu-per-write.js [--inflight N] [--seconds S] [--only shoal|etcd] [--profile]`:
 * CPU time each member process spends per acknowledged write (from /proc/<pid>/stat, user +
 * system), for Shoal's KV cluster and etcd side by side, under the same load generator as
 * `npm run bench -- raft`. Unlike writes/s, this figure hardly moves with the rest of the machine's
 * load, so it is the one to compare changes on a shared host. `--profile` runs Shoal's members
 * with --cpu-prof (profiles in the work dir, kept; written on a clean stop).
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KvCluster } from '../../test/support/kv-cluster.js';
import { EtcdCluster, ensureEtcd } from './etcd-cluster.js';
import { LoadgenClient } from './loadgen-client.js';
import { repoRoot } from './targets.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 ? (argv[i + 1] ?? dflt) : dflt;
};
const inflight = Number(opt('--inflight', '256'));
const seconds = Number(opt('--seconds', '8'));
const only = opt('--only', '');
const profile = argv.includes('--profile');
const TICKS_PER_S = 100; // USER_HZ on Linux

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
}

interface Side {
  readonly name: string;
  readonly lg: LoadgenClient;
  readonly pids: () => number[];
  readonly stop: () => Promise<void>;
}

async function measure(side: Side): Promise<void> {
  const { endpoint } = await side.lg.request({ type: 'leader' }, 'leader');
  const pids = side.pids();
  const before = pids.map(cpuMs);
  const { result } = await side.lg.request({ type: 'run', inflight, warmupMs: 0, durationMs: seconds * 1000 }, 'result');
  const used = pids.map((p, i) => cpuMs(p) - before[i]!);
  const per = used.map((u) => (u / Math.max(1, result.writes)).toFixed(3));
  const leader = per[endpoint]!;
  const followers = per.filter((_, i) => i !== endpoint).join(' / ');
  console.log(
    `${side.name.padEnd(6)} ${inflight} in flight: ${result.writesPerS.toFixed(0)} writes/s, ${result.failures} failures; ` +
      `CPU ms per write: leader ${leader}, followers ${followers}`,
  );
}

async function main(): Promise<void> {
  const work = join(repoRoot, '.bench', `raft-cpu-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const sides: Side[] = [];
  try {
    if (only !== 'etcd') {
      const c = await KvCluster.create({
        dir: join(work, 'shoal'),
        size: 3,
        runner: 'dist',
        logLevel: 'warn',
        ...(profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(work, 'profiles')}`] } : {}),
      });
      const lg = new LoadgenClient();
      await lg.request({ type: 'init', system: 'shoal', endpoints: c.endpoints([1, 2, 3]), tls: { ca: c.caFile, ...c.clientTls } }, 'ready');
      c.startAll();
      sides.push({
        name: 'shoal',
        lg,
        pids: () => [1, 2, 3].map((id) => c.member(id).proc!.pid),
        stop: async () => {
          lg.close();
          if (profile) {
            await Promise.all([1, 2, 3].map((id) => c.stop(id)));
            console.log(`profiles in ${join(work, 'profiles')}`);
          }
          await (profile ? Promise.resolve() : c.destroy());
        },
      });
    }
    if (only !== 'shoal') {
      ensureEtcd();
      const c = await EtcdCluster.create(join(work, 'etcd'));
      const lg = new LoadgenClient();
      await lg.request({ type: 'init', system: 'etcd', endpoints: c.endpoints, tls: { ca: c.caFile, ...c.clientTls } }, 'ready');
      c.startAll();
      sides.push({ name: 'etcd', lg, pids: () => [0, 1, 2].map((i) => c.pid(i)!), stop: async () => (lg.close(), await c.destroy()) });
    }
    for (const s of sides) await s.lg.request({ type: 'leader' }, 'leader');
    for (const s of sides) await s.lg.request({ type: 'run', inflight, warmupMs: 0, durationMs: 2000 }, 'result');
    for (const s of sides) await measure(s);
  } finally {
    for (const s of sides) await s.stop();
    if (!profile) rmSync(work, { recursive: true, force: true });
  }
}

await main();
