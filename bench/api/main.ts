/**
 * `npm run bench -- api` (bench/api/main.ts): the REST API under read load, ours beside LXD 5.0.2
 * in the same run. Ours: a real 3-member Shoal cluster (shoald processes) holding N instances.
 * LXD: Debian's 5.0.2, its own LXD_DIR, holding the same N instances. Both: busybox image from
 * the same locally built tarball, instances created stopped, a dir pool.
 *
 * Workload: `GET /1.0/instances?recursion=1` and `GET /1.0` by 1 and 32 closed-loop clients over
 * HTTPS with a trusted client certificate and keep-alive, each answer read and JSON-parsed. Our
 * clients spread round-robin over the members (client 0 on the leader, the rest alternate, so
 * with 32 clients two thirds of the requests go through a follower, which forwards non-local
 * requests to the leader); an extra row measures 1 client on a follower. Sides alternate per
 * figure. Prints a table and, as the LAST line, one JSON object.
 * Options: --seconds S (per figure, default 10), --instances N (default 100), --clients C (32),
 * --cpu-prof DIR (profile our members with `node --cpu-prof` and print where the time goes).
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { buildBusyboxImage } from '../../src/node-agent/images/busybox.js';
import { ensureLxd } from '../../test/support/lxd/lxd-daemon.js';
import { cleanupOnSignals, runAll } from '../agent/cleanup.js';
import { r1, say } from '../agent/stats.js';
import { makeClientCert } from '../../test/support/lxd/client-cert.js';
import { runLoad, type LoadResult, type LoadTarget } from './load.js';
import { setupLxd } from './lxd-side.js';
import { summariseProfiles } from './profile.js';
import { profilerEnv, toggleProfilers } from './profiler.js';
import { setupShoal } from './shoal-side.js';

interface Options {
  readonly seconds: number;
  readonly instances: number;
  readonly clients: number;
  readonly cpuProf: string | undefined;
}

function parseArgs(argv: readonly string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    seconds: Number(get('--seconds') ?? 10),
    instances: Number(get('--instances') ?? 100),
    clients: Number(get('--clients') ?? 32),
    cpuProf: get('--cpu-prof'),
  };
}

const RECURSION = '/1.0/instances?recursion=1';
const ROOT = '/1.0';

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  cleanupOnSignals();
  const tag = `ac${randomBytes(1).toString('hex')}`;
  say(`run tag ${tag}; ${opts.instances} instances, ${opts.seconds} s per figure, 1 and ${opts.clients} clients`);
  const lxdVersion = await ensureLxd(say);
  const image = await buildBusyboxImage({}, AbortSignal.timeout(120_000));
  const cert = await makeClientCert(tag);
  const profEnv = opts.cpuProf ? await mkdir(opts.cpuProf, { recursive: true }).then(() => profilerEnv(opts.cpuProf!)) : {};
  // Inherited by the shoald processes ShoalCluster starts (not by this process, already running).
  Object.assign(process.env, profEnv);
  say('setting up Shoal (3 members)');
  const shoal = await setupShoal(tag, cert, image.tarball, opts.instances);
  for (const k of Object.keys(profEnv)) delete process.env[k];
  const memberPids = shoal.cluster.members.map((m) => m.proc!.pid);
  say(`setting up LXD ${lxdVersion}`);
  const lxd = await setupLxd(tag, cert, image.tarball, opts.instances);

  const ours: LoadTarget = { addresses: shoal.addresses, certPem: cert.certPem, keyPem: cert.keyPem };
  const viaFollower: LoadTarget = { ...ours, addresses: shoal.addresses.slice(1) };
  const theirs: LoadTarget = { addresses: [lxd.address], certPem: cert.certPem, keyPem: cert.keyPem };
  const measure = async (label: string, t: LoadTarget, path: string, clients: number): Promise<LoadResult> => {
    const r = await runLoad(t, path, clients, opts.seconds);
    say(`${label.padEnd(6)} ${path} x${clients}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`);
    return r;
  };
  const measureOurs = async (t: LoadTarget, path: string, clients: number): Promise<LoadResult> => {
    if (opts.cpuProf) toggleProfilers(memberPids);
    try {
      return await measure('shoal', t, path, clients);
    } finally {
      if (opts.cpuProf) toggleProfilers(memberPids);
    }
  };
  const pair = async (path: string, clients: number): Promise<{ ours: LoadResult | undefined; lxd: LoadResult }> => {
    const o = path === RECURSION && !shoal.hasInstances ? undefined : await measureOurs(ours, path, clients);
    return { ours: o, lxd: await measure('lxd', theirs, path, clients) };
  };
  const rec1 = await pair(RECURSION, 1);
  const rec32 = await pair(RECURSION, opts.clients);
  const root1 = await pair(ROOT, 1);
  const root32 = await pair(ROOT, opts.clients);
  const recFollower = shoal.hasInstances ? await measureOurs(viaFollower, RECURSION, 1) : undefined;

  const fmt = (x: number | undefined, d = 0): string => (x === undefined ? 'n/a' : x.toFixed(d));
  const row = (label: string, o: LoadResult | undefined, l: LoadResult | undefined): string =>
    `${label.padEnd(44)}${fmt(o?.rps).padStart(9)}${fmt(o?.p99Ms, 2).padStart(10)}${fmt(l?.rps).padStart(9)}${fmt(l?.p99Ms, 2).padStart(10)}` +
    `${(o && l ? (o.rps / l.rps).toFixed(2) : 'n/a').padStart(10)}`;
  console.log(
    `API benchmark: ${opts.instances} stopped busybox instances; Shoal 3 members vs LXD ${lxdVersion} (one daemon); ` +
      `HTTPS keep-alive, trusted client certificate; ${opts.seconds} s per figure`,
  );
  console.log(`${''.padEnd(44)}${'rps'.padStart(9)}${'p99 ms'.padStart(10)}${'LXD rps'.padStart(9)}${'p99 ms'.padStart(10)}${'ours/LXD'.padStart(10)}`);
  console.log(row(`GET ${RECURSION} x1`, rec1.ours, rec1.lxd));
  console.log(row(`GET ${RECURSION} x${opts.clients}`, rec32.ours, rec32.lxd));
  console.log(row(`GET ${ROOT} x1`, root1.ours, root1.lxd));
  console.log(row(`GET ${ROOT} x${opts.clients}`, root32.ours, root32.lxd));
  console.log(row(`GET ${RECURSION} x1 via a follower`, recFollower, rec1.lxd));
  console.log(`goals: >= 10x LXD for recursion=1, >= 2x for GET /1.0 at ${opts.clients} clients`);

  if (opts.cpuProf) {
    await new Promise((r) => setTimeout(r, 2000)); // the last profiles are written after the signal
    const s = await summariseProfiles(opts.cpuProf);
    console.log(`CPU profile of the ${memberPids.length} members during our measured windows (${(s.totalMs / 1000).toFixed(1)} s sampled, idle excluded), self time:`);
    for (const [k, ms] of s.byPackage) console.log(`  ${((100 * ms) / s.totalMs).toFixed(1).padStart(5)}%  ${k}`);
    console.log('  top functions:');
    for (const [k, ms] of s.byFunction) console.log(`  ${((100 * ms) / s.totalMs).toFixed(1).padStart(5)}%  ${k}`);
  }

  const n = (r: LoadResult | undefined, k: 'rps' | 'p99Ms'): number | null => (r ? r1(r[k]) : null);
  console.log(
    JSON.stringify({
      rps_1: n(rec1.ours, 'rps'),
      rps_32: n(rec32.ours, 'rps'),
      p99_ms_32: n(rec32.ours, 'p99Ms'),
      lxd_rps_1: n(rec1.lxd, 'rps'),
      lxd_rps_32: n(rec32.lxd, 'rps'),
      lxd_p99_ms_32: n(rec32.lxd, 'p99Ms'),
      root_rps_32: n(root32.ours, 'rps'),
      lxd_root_rps_32: n(root32.lxd, 'rps'),
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
