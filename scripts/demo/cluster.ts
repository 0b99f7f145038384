/**
 * The cluster demo (issue 9): three members on this machine, each a shoald process in its own
 * network namespace with its own address and state dir, joined with tokens; containers launched
 * across them; the leader killed and the cluster carrying on; the member restarted. See
 * scripts/demo/README.md for what it shows and layout.ts for where things live.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../src/node-agent/exec.js';
import {
  API_PORT,
  CLUSTER_PORT,
  DEMO_DIR,
  DEMO_PREFIX,
  DEMO_SUBNET,
  INSTANCE_BRIDGE,
  INSTANCE_IPV4,
  MEMBER_NAMES,
  PID_FILE,
  SHOAL_JS,
  SHOALD_JS,
  memberDir,
} from './layout.js';
import { NetHosts, type NetHost } from './net-hosts.js';
import { DemoCommands, type InstanceRow, type MemberRow } from './shoal-commands.js';
import { Steps, bold, since } from './steps.js';
import { killAndWait, teardownClusterDemo } from './teardown.js';

/** Options of {@link runClusterDemo}. */
export interface ClusterDemoOptions {
  /** No pauses; everything removed at the end, whether it passed or not. */
  readonly ci: boolean;
}

/** Polls `fn` every 250 ms until it returns a value other than undefined, or throws after `ms`. */
async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const t0 = performance.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err; // not ready yet (e.g. the API is still electing): try again until the deadline
    }
    if (performance.now() - t0 > ms) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`Timed out after ${ms / 1000} s waiting for ${what}${why}`);
    }
    await sleep(250);
  }
}

const isOnline = (r: MemberRow): boolean => r.status.toLowerCase() === 'online';
const isRunning = (r: InstanceRow): boolean => r.status.toLowerCase() === 'running';
const leaderOf = (rows: readonly MemberRow[]): string | undefined => rows.find((r) => r.roles.includes('database-leader'))?.name;

/** The demo's cluster: its hosts, the shoald PIDs, and the commands. */
class DemoCluster {
  readonly pids = new Map<string, number>();
  readonly cmd: DemoCommands;

  constructor(readonly net: NetHosts) {
    this.cmd = new DemoCommands(net);
  }

  host(name: string): NetHost {
    return this.net.host(name);
  }

  savePids(): void {
    writeFileSync(PID_FILE, `${JSON.stringify(Object.fromEntries(this.pids), null, 2)}\n`);
  }

  /** Starts shoald for `name` inside its namespace (detached: it outlives the demo) and waits until ready. */
  async start(name: string): Promise<number> {
    const h = this.host(name);
    mkdirSync(memberDir(name), { recursive: true, mode: 0o711 });
    const pid = await this.net.spawn(h, process.execPath, [SHOALD_JS], {
      logFile: join(DEMO_DIR, `${name}.log`),
      env: { ...process.env, SHOAL_DIR: memberDir(name) },
      detached: true,
    });
    this.pids.set(name, pid);
    this.savePids();
    await this.cmd.shoald(h, ['waitready', '--timeout', '60'], 90_000);
    return pid;
  }

  address(name: string, port = CLUSTER_PORT): string {
    return `${this.host(name).address}:${port}`;
  }
}

/** Prints and returns `shoal <args>` run on `member`. */
async function shoalShown(steps: Steps, c: DemoCluster, member: string, args: readonly string[], timeoutMs?: number): Promise<string> {
  const res = await c.cmd.shoal(member, args, timeoutMs);
  steps.show(`shoal ${args.join(' ')}${member === 'm1' ? '' : `   (SHOAL_DIR=${memberDir(member)})`}`, res.stdout);
  return res.stdout;
}

/** Runs the demo; resolves with the exit code. */
export async function runClusterDemo(opts: ClusterDemoOptions): Promise<number> {
  const steps = new Steps(opts.ci ? 0 : process.stdout.isTTY ? 1500 : 200);
  let c: DemoCluster | undefined;
  let ok = false;
  try {
    await steps.run('Remove what an earlier demo run left', async () => {
      const removed = await teardownClusterDemo();
      steps.say(removed.length === 0 ? 'nothing to remove' : `removed ${removed.length} objects: ${removed.join(', ')}`);
    });

    c = await steps.run(`Make 3 test hosts: network namespaces on bridge ${DEMO_PREFIX}br (${DEMO_SUBNET})`, async () => {
      mkdirSync(DEMO_DIR, { recursive: true, mode: 0o711 });
      chmodSync(DEMO_DIR, 0o711);
      const net = await NetHosts.create({ prefix: DEMO_PREFIX, subnet: DEMO_SUBNET, names: [...MEMBER_NAMES] });
      // Each member routes and NATs for its own instances, as a real server would.
      for (const h of net.hosts) await net.exec(h, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      steps.say(`this host: ${net.hostAddress} on ${net.bridge}`);
      for (const h of net.hosts) steps.say(`${h.name}: namespace ${h.ns}, address ${h.address}, state dir ${memberDir(h.name)}`);
      return new DemoCluster(net);
    });
    const cl = c;

    await steps.run('Start shoald on each host (one process per member, in its own namespace)', async () => {
      await Promise.all(MEMBER_NAMES.map((m) => cl.start(m)));
      for (const m of MEMBER_NAMES) steps.say(`${m}: shoald pid ${cl.pids.get(m)}, log ${join(DEMO_DIR, `${m}.log`)}`);
    });

    await steps.run('Bootstrap the cluster on m1 (shoald init --auto)', async () => {
      const args = ['init', '--auto', '--name', 'm1', '--address', cl.address('m1'), '--api-address', cl.address('m1', API_PORT),
        '--storage-backend', 'dir', '--network-bridge', INSTANCE_BRIDGE, '--network-ipv4', INSTANCE_IPV4];
      const res = await cl.cmd.shoald(cl.host('m1'), args);
      steps.show(`shoald ${args.join(' ')}`, res.stdout || '(ok)');
    });

    for (const m of MEMBER_NAMES.slice(1)) {
      await steps.run(`Join ${m} with a join token (shoal cluster add ${m}; shoald init --join)`, async () => {
        const out = await shoalShown(steps, cl, 'm1', ['cluster', 'add', m]);
        const token = out.split(/\s+/).find((w) => /^[A-Za-z0-9+/=_-]{60,}$/.test(w));
        if (!token) throw new Error(`No join token in the output of "shoal cluster add ${m}"`);
        const args = ['init', '--join', token, '--name', m, '--address', cl.address(m), '--api-address', cl.address(m, API_PORT)];
        const t0 = performance.now();
        const res = await cl.cmd.shoald(cl.host(m), args);
        steps.show(`shoald init --join <token> --name ${m} --address ${cl.address(m)}`, res.stdout || '(ok)');
        steps.say(`joined in ${since(t0)}`);
      });
    }

    await steps.run('The cluster, as any member sees it', async () => {
      await until('3 members online', 60_000, async () => {
        const rows = await cl.cmd.members('m3');
        return rows.length === 3 && rows.every((r) => isOnline(r)) && leaderOf(rows) ? rows : undefined;
      });
      await shoalShown(steps, cl, 'm1', ['cluster', 'list']);
    });

    await steps.run('Build the busybox image (shoal image build busybox)', async () => {
      await shoalShown(steps, cl, 'm1', ['image', 'build', 'busybox'], 600_000);
      await shoalShown(steps, cl, 'm1', ['image', 'list']);
    });

    const launches: [string, string | undefined][] = [['web1', 'm1'], ['web2', 'm2'], ['web3', 'm3'], ['web4', undefined]];
    const instances = await steps.run('Launch one container on each member with --target, and one placed by the scheduler', async () => {
      for (const [name, target] of launches) {
        const t0 = performance.now();
        await shoalShown(steps, cl, 'm1', ['launch', 'busybox', name, ...(target ? ['--target', target] : [])], 300_000);
        steps.say(`${name} launched in ${since(t0)}`);
      }
      const rows = await until('every container running with an IPv4 address', 90_000, async () => {
        const r = await cl.cmd.instances('m1');
        return r.length === launches.length && r.every((i) => isRunning(i) && i.ipv4.length > 0) ? r : undefined;
      });
      await shoalShown(steps, cl, 'm1', ['list']);
      const web4 = rows.find((r) => r.name === 'web4');
      steps.say(`the scheduler placed web4 on ${web4?.location ?? '?'}`);
      return rows;
    });

    await steps.run('Run a command in a container (shoal exec)', async () => {
      await shoalShown(steps, cl, 'm1', ['exec', 'web2', '--', 'sh', '-c', 'hostname; ip -4 addr show eth0 | grep inet']);
    });

    await steps.run('Ping one container from another', async () => {
      const [from, to] = pingPair(instances);
      if (from.location !== to.location) await routeInstanceSubnets(cl, instances);
      const ip = to.ipv4[0] ?? '';
      await shoalShown(steps, cl, 'm1', ['exec', from.name, '--', 'ping', '-c', '3', '-W', '2', ip]);
      steps.say(`${from.name} on ${from.location} reached ${to.name} on ${to.location}`);
    });

    const { killed, survivor } = await steps.run('kill -9 the leader; the others elect a new one', async () => {
      const before = await cl.cmd.members('m1');
      const leader = leaderOf(before);
      if (!leader) throw new Error('No member has the database-leader role');
      const pid = cl.pids.get(leader);
      if (pid === undefined) throw new Error(`No PID recorded for ${leader}`);
      const other = MEMBER_NAMES.find((m) => m !== leader) ?? 'm1';
      steps.say(`leader is ${leader}; kill -9 ${pid}`);
      const t0 = performance.now();
      await killAndWait(pid);
      cl.pids.delete(leader);
      cl.savePids();
      const next = await until('a new leader', 60_000, async () => {
        const l = leaderOf(await cl.cmd.members(other));
        return l && l !== leader ? l : undefined;
      });
      steps.say(`new leader ${next}, ${since(t0)} after the kill`);
      await until('shoal list answering through a survivor', 60_000, () => cl.cmd.instances(other));
      steps.say(`the API answers through ${other} ${since(t0)} after the kill`);
      await shoalShown(steps, cl, other, ['list']);
      // Heartbeats mark a silent member Offline after cluster.offline_threshold (20 s by default).
      const offline = await until(`${leader} marked Offline`, 45_000, async () => {
        const rows = await cl.cmd.members(other);
        return rows.find((r) => r.name === leader && !isOnline(r)) ? rows : undefined;
      }).then(
        () => true,
        () => false, // not a failure of the demo: the threshold may be set higher
      );
      steps.say(offline ? `${leader} marked Offline ${since(t0)} after the kill` : `${leader} not yet marked Offline`);
      await shoalShown(steps, cl, other, ['cluster', 'list']);
      return { killed: leader, survivor: other };
    });

    await steps.run(`Restart ${killed}; it comes back Online`, async () => {
      const t0 = performance.now();
      await cl.start(killed);
      await until(`${killed} Online`, 90_000, async () => {
        const rows = await cl.cmd.members(survivor);
        return rows.length === 3 && rows.every((r) => isOnline(r)) ? rows : undefined;
      });
      steps.say(`${killed} Online ${since(t0)} after its restart`);
      await shoalShown(steps, cl, killed, ['cluster', 'list']);
    });
    ok = true;
  } catch (err) {
    console.error(`\n${bold('Demo failed')}: ${err instanceof Error ? err.message : String(err)}`);
    if (c) await printLogTails();
  } finally {
    if (opts.ci || !ok) {
      const removed = await teardownClusterDemo();
      console.log(`\nCleaned up (${removed.length} objects).`);
    }
  }
  steps.printTimings();
  if (ok && !opts.ci) printHowToContinue();
  return ok ? 0 : 1;
}

/** Two running containers to ping between: on different members when possible. */
function pingPair(rows: readonly InstanceRow[]): [InstanceRow, InstanceRow] {
  const up = rows.filter((r) => isRunning(r) && r.ipv4.length > 0);
  const subnet = (r: InstanceRow): string => (r.ipv4[0] ?? '').split('.').slice(0, 3).join('.');
  for (const a of up) for (const b of up) if (a.location !== b.location && subnet(a) !== subnet(b)) return [a, b];
  for (const a of up) for (const b of up) if (a !== b && a.location === b.location) return [a, b];
  const [a, b] = up;
  if (!a || !b) throw new Error('Fewer than two running containers with an address');
  return [a, b];
}

/**
 * The "physical network" routes each member's instance subnet to that member, as a router
 * between real servers would (static routes inside the member namespaces only).
 */
async function routeInstanceSubnets(c: DemoCluster, rows: readonly InstanceRow[]): Promise<void> {
  const subnets = new Map<string, string>();
  for (const r of rows) if (r.ipv4[0]) subnets.set(r.location, `${r.ipv4[0].split('.').slice(0, 3).join('.')}.0/24`);
  for (const h of c.net.hosts) {
    for (const [member, subnet] of subnets) {
      if (member === h.name) continue;
      await run('ip', ['-n', h.ns, 'route', 'replace', subnet, 'via', c.host(member).address]);
    }
  }
}

async function printLogTails(): Promise<void> {
  for (const m of MEMBER_NAMES) {
    const res = await run('tail', ['-n', '15', join(DEMO_DIR, `${m}.log`)], { okCodes: [0, 1] });
    if (res.stdout) console.error(`\n--- last lines of ${m}.log ---\n${res.stdout}`);
  }
}

function printHowToContinue(): void {
  console.log(`
${bold('The cluster keeps running.')} Keep using it:
  alias shoal="node ${SHOAL_JS}"
  export SHOAL_DIR=${memberDir('m1')}        # or m2, m3: any member answers
  shoal list
  shoal launch busybox web5 --target m2
  shoal exec web5 -- sh
  ip netns exec ${DEMO_PREFIX}m1 sh                    # a shell on the "server" m1
Logs: ${DEMO_DIR}/m*.log
Take it all down (processes, containers, namespaces, bridge, ${DEMO_DIR}):
  npm run demo -- --down`);
}
