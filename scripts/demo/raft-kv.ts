/**
 * `npm run demo -- --raft`: the first demo, kept while the cluster demo (cluster.ts) matures — a 3-member Raft key-value cluster, each member its own
 * process, talking gRPC over mutual TLS on loopback, with its state under .shoal-demo/. It writes
 * and reads keys on every member, kills the leader with kill -9, shows the new leader and that
 * nothing acknowledged was lost, writes more, restarts the killed member and shows it caught up.
 *
 *   npm run demo -- --raft          run it, pausing between steps; the cluster keeps running afterwards
 *   npm run demo -- --raft --ci     no pauses, exit code 1 on any failed step, everything removed at the end
 *   npm run demo -- --down          (also) stops the cluster a previous run left and removes .shoal-demo/
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KvCluster, sleep } from '../../test/support/kv-cluster.js';

const root = join(import.meta.dirname, '..', '..');
const stateDir = join(root, '.shoal-demo');
const pidFile = join(stateDir, 'pids.json');
const args = process.argv.slice(2);
const ci = args.includes('--ci');
const started = performance.now();

const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const elapsed = (t0: number): string => `${((performance.now() - t0) / 1000).toFixed(2)} s`;

/** Kills the members a previous run left (by PID, only if they are still kv-member processes). */
export function downRaftKv(): void {
  if (existsSync(pidFile)) {
    const pids = JSON.parse(readFileSync(pidFile, 'utf8')) as number[];
    for (const pid of pids) {
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue; // already gone
      }
      if (cmdline.includes('kv-member')) process.kill(pid, 'SIGKILL');
    }
  }
  rmSync(stateDir, { recursive: true, force: true });
}

let stepNo = 0;
async function step<T>(title: string, fn: () => Promise<T>): Promise<T> {
  stepNo++;
  console.log(`\n${bold(`[${stepNo}] ${title}`)}`);
  const t0 = performance.now();
  const out = await fn();
  console.log(`    done in ${elapsed(t0)}`);
  if (!ci) await sleep(process.stdout.isTTY ? 1500 : 200);
  return out;
}

async function main(): Promise<void> {
  downRaftKv(); // a previous run's leftovers
  const c = await KvCluster.create({ dir: stateDir, size: 3, runner: 'dist', logLevel: 'info', detached: !ci });
  const savePids = (): void => writeFileSync(pidFile, JSON.stringify(c.running().map((id) => c.member(id).proc!.pid)));
  let ok = false;
  try {
    const leader = await step('Start 3 members (separate processes, gRPC + mutual TLS, LevelDB)', async () => {
      c.startAll();
      savePids();
      const l = await c.waitLeader([1, 2, 3], 30_000);
      for (const id of [1, 2, 3]) console.log(`    m${id}: pid ${c.member(id).proc!.pid}, 127.0.0.1:${c.member(id).port}`);
      console.log(`    elected leader: m${l}`);
      return l;
    });

    await step(`Write 5 keys through the leader m${leader}, read them on every member`, async () => {
      for (let i = 1; i <= 5; i++) {
        const r = await c.put(leader, `demo/${i}`, `value ${i}`);
        console.log(`    put demo/${i} = "value ${i}"  (revision ${r.revision})`);
      }
      for (const id of [1, 2, 3]) {
        const vals = await Promise.all([1, 2, 3, 4, 5].map(async (i) => (await c.get(id, `demo/${i}`)).kv?.value.toString() ?? '?'));
        console.log(`    m${id} reads (linearizable): ${vals.join(', ')}`);
        if (vals.some((v, i) => v !== `value ${i + 1}`)) throw new Error(`m${id} does not have every write`);
      }
    });

    const survivors = [1, 2, 3].filter((id) => id !== leader);
    const next = await step(`kill -9 the leader m${leader}; the others elect a new one`, async () => {
      const t0 = performance.now();
      await c.kill(leader);
      savePids();
      const l = await c.waitLeader(survivors, 30_000);
      console.log(`    new leader m${l}, elected ${elapsed(t0)} after the kill (election timeout 1-2 s)`);
      return l;
    });

    await step(`The acknowledged writes survived; write 5 more through m${next}`, async () => {
      for (const id of survivors) {
        const kvs = await c.list(id, 'demo/');
        console.log(`    m${id} has ${kvs.length} keys: ${kvs.map((kv) => kv.key).join(' ')}`);
        if (kvs.length !== 5) throw new Error(`m${id} lost writes`);
      }
      for (let i = 6; i <= 10; i++) await c.put(next, `demo/${i}`, `value ${i}`);
      console.log('    put demo/6 .. demo/10');
    });

    await step(`Restart m${leader} from its disk; it catches up`, async () => {
      const t0 = performance.now();
      c.start(leader);
      savePids();
      for (;;) {
        const kvs = await c.list(leader, 'demo/').catch(() => []);
        if (kvs.length === 10) break;
        if (performance.now() - t0 > 30_000) throw new Error(`m${leader} did not catch up`);
        await sleep(100);
      }
      console.log(`    m${leader} has all 10 keys, ${elapsed(t0)} after its restart`);
      const st = await Promise.all([1, 2, 3].map((id) => c.status(id, true)));
      for (const s of st) {
        console.log(`    m${s.id}: ${s.role.padEnd(8)} term ${s.term}  applied ${s.applied}  keys ${s.keyCount}  digest ${s.digest.slice(0, 12)}`);
      }
      if (new Set(st.map((s) => s.digest)).size !== 1) throw new Error('members disagree on the state');
    });
    ok = true;
  } finally {
    if (ci || !ok) {
      await c.destroy();
      rmSync(stateDir, { recursive: true, force: true });
    } else {
      savePids();
      await c.detach();
    }
  }
  console.log(`\n${bold('Demo finished')} in ${elapsed(started)}.`);
  if (!ci) {
    console.log(`The cluster keeps running (logs in .shoal-demo/m*.log). Remove it with: npm run demo -- --down`);
  }
}

/** Runs the Raft KV demo; resolves with the process exit code. */
export function runRaftKvDemo(): Promise<number> {
  return main().then(
    () => 0,
    (err: unknown) => {
      console.error(`\nDemo step failed: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    },
  );
}
