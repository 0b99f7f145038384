/**
 * `npm run bench -- cli` (bench/cli/main.ts): wall time of listing N instances from the command
 * line. Ours: `shoal list` against a real 3-member Shoal cluster (bench/api's setup: shoald
 * processes, N stopped busybox instances placed by the scheduler). Anchor: the stock `lxc list`
 * (Debian lxd-client) against LXD 5.0.2 holding the same N instances from the same tarball
 * (bench/api's LXD side), and the stock `lxc list` against Shoal. All three over HTTPS to the
 * server (Shoal: the leader) with the same trusted client certificate, one fresh process per
 * list (TLS handshake included), default columns, output to a pipe.
 * `shoal` runs as users run it: node on the compiled dist/src/cli/main.js (under tsx the sources
 * are bundled once with esbuild first, so tsx's compile time is not counted). One warm-up run per
 * command, then R rounds alternating the three; figures are medians. Last line: JSON
 * `list_ms, lxd_list_ms, lxc_on_shoal_list_ms`. Options: --instances N (100), --runs R (7).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildBusyboxImage } from '../../src/node-agent/images/busybox.js';
import { saveConfig } from '../../src/cli/client/config.js';
import { makeClientCert } from '../../test/support/lxd/client-cert.js';
import { LxcClient } from '../../test/support/lxd/lxc-client.js';
import { ensureLxd } from '../../test/support/lxd/lxd-daemon.js';
import { cleanupOnSignals, onCleanup, runAll } from '../agent/cleanup.js';
import { median, nowMs, r1, say } from '../agent/stats.js';
import { setupLxd } from '../api/lxd-side.js';
import { setupShoal } from '../api/shoal-side.js';

interface Options {
  readonly instances: number;
  readonly runs: number;
}

function parseArgs(argv: readonly string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return { instances: Number(get('--instances') ?? 100), runs: Number(get('--runs') ?? 7) };
}

/** Runs a command to completion; its wall time in ms and stdout. Throws on a non-zero exit. */
function timedRun(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; stdout: string }> {
  const t0 = nowMs();
  return new Promise((ok, fail) =>
    execFile(file, [...args], { env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const ms = nowMs() - t0;
      if (err) fail(new Error(`${file} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else ok({ ms, stdout });
    }),
  );
}

/** The node arguments that run `shoal`: the compiled CLI, or (from the sources) an esbuild bundle of it. */
async function shoalCommand(scratch: string): Promise<string[]> {
  const compiled = resolve(import.meta.dirname, '../../src/cli/main.js');
  if (existsSync(compiled)) return [compiled];
  const repo = resolve(import.meta.dirname, '../..');
  const out = join(scratch, 'shoal.mjs');
  await timedRun(join(repo, 'node_modules', '.bin', 'esbuild'), [join(repo, 'src/cli/main.ts'), '--bundle', '--platform=node', '--format=esm', '--packages=external', `--outfile=${out}`, '--log-level=warning'], process.env);
  // The bundle resolves its packages from the repository's node_modules: keep it inside the repo.
  return [out];
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  cleanupOnSignals();
  const tag = `cc${randomBytes(1).toString('hex')}`;
  say(`run tag ${tag}; ${opts.instances} instances, ${opts.runs} rounds`);
  const lxdVersion = await ensureLxd(say);
  const image = await buildBusyboxImage({}, AbortSignal.timeout(120_000));
  const cert = await makeClientCert(tag);
  const repo = resolve(import.meta.dirname, '../..');
  const scratch = await mkdtemp(join(repo, 'node_modules', '.cache', `shoal-${tag}-`));
  onCleanup('scratch dir', () => rm(scratch, { recursive: true, force: true }));
  const conf = await mkdtemp(join(tmpdir(), `shoal-${tag}-conf-`));
  onCleanup('client config dirs', () => rm(conf, { recursive: true, force: true }));
  say('setting up Shoal (3 members)');
  const shoal = await setupShoal(tag, cert, image.tarball, opts.instances);
  if (!shoal.hasInstances) throw new Error('Shoal has no /1.0/instances: nothing to list');
  say(`setting up LXD ${lxdVersion}`);
  const lxd = await setupLxd(tag, cert, image.tarball, opts.instances);

  // The stock lxc with the benchmark's (already trusted) certificate: one remote per server.
  const lxc = await LxcClient.create(tag);
  onCleanup('lxc client dir', () => lxc.close());
  await writeFile(join(lxc.dir, 'client.crt'), cert.certPem);
  await writeFile(join(lxc.dir, 'client.key'), cert.keyPem, { mode: 0o600 });
  await lxc.ok(['remote', 'add', 'lxd', `https://${lxd.address}`, '--accept-certificate']);
  await lxc.ok(['remote', 'add', 'shoal', `https://${shoal.leader.apiAddress}`, '--accept-certificate']);
  // shoal with the same certificate and the server certificate lxc pinned, remote "shoal" the default.
  const shoalConf = join(conf, 'shoal');
  await mkdir(join(shoalConf, 'servercerts'), { recursive: true, mode: 0o700 });
  await writeFile(join(shoalConf, 'client.crt'), cert.certPem);
  await writeFile(join(shoalConf, 'client.key'), cert.keyPem, { mode: 0o600 });
  await copyFile(join(lxc.dir, 'servercerts', 'shoal.crt'), join(shoalConf, 'servercerts', 'shoal.crt'));
  await saveConfig({ confDir: shoalConf, shoalDir: '/nonexistent/shoal-bench' }, { defaultRemote: 'shoal', remotes: { shoal: { addr: `https://${shoal.leader.apiAddress}`, protocol: 'shoal' } }, aliases: {} });

  const shoalArgs = await shoalCommand(scratch);
  const shoalEnv: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: shoalConf, SHOAL_CONF: shoalConf, SHOAL_DIR: '/nonexistent/shoal-bench' };
  const lxcList = async (remote: string): Promise<{ ms: number; stdout: string }> => {
    const t0 = nowMs();
    const stdout = await lxc.ok(['list', `${remote}:`]);
    return { ms: nowMs() - t0, stdout };
  };
  const commands = {
    shoal: () => timedRun(process.execPath, [...shoalArgs, 'list'], shoalEnv),
    lxd: () => lxcList('lxd'),
    lxcOnShoal: () => lxcList('shoal'),
    // Client start-up alone (no request): how much of a list is the client's own cost.
    shoalStartup: () => timedRun(process.execPath, [...shoalArgs, 'remote', 'list'], shoalEnv),
    lxcStartup: async () => {
      const t0 = nowMs();
      const stdout = await lxc.ok(['remote', 'list']);
      return { ms: nowMs() - t0, stdout };
    },
  } as const;
  const times: Record<keyof typeof commands, number[]> = { shoal: [], lxd: [], lxcOnShoal: [], shoalStartup: [], lxcStartup: [] };
  for (const [k, run] of Object.entries(commands) as Array<[keyof typeof commands, () => Promise<{ ms: number; stdout: string }>]>) {
    const { stdout } = await run(); // warm-up (the lxc clients write their configuration here)
    if (k === 'shoalStartup' || k === 'lxcStartup') continue;
    const rows = stdout.split('\n').filter((l) => l.includes(`${tag}-i`)).length;
    if (rows !== opts.instances) throw new Error(`${k} listed ${rows} instances, expected ${opts.instances}:\n${stdout.slice(0, 2000)}`);
  }
  for (let i = 0; i < opts.runs; i++) {
    for (const [k, run] of Object.entries(commands) as Array<[keyof typeof commands, () => Promise<{ ms: number; stdout: string }>]>) {
      times[k].push((await run()).ms);
    }
  }
  const m = { shoal: median(times.shoal), lxd: median(times.lxd), lxcOnShoal: median(times.lxcOnShoal) };
  const fmt = (xs: number[]): string => `${r1(median(xs)).toFixed(1).padStart(9)}${r1(Math.min(...xs)).toFixed(1).padStart(9)}${r1(Math.max(...xs)).toFixed(1).padStart(9)}`;
  console.log(`CLI benchmark: list ${opts.instances} stopped busybox instances, default columns, HTTPS, one process per list; Shoal 3 members vs LXD ${lxdVersion} (one daemon); ${opts.runs} rounds`);
  console.log(`${''.padEnd(36)}${'median'.padStart(9)}${'min'.padStart(9)}${'max'.padStart(9)}  (ms)`);
  console.log(`${'shoal list (Shoal)'.padEnd(36)}${fmt(times.shoal)}`);
  console.log(`${'lxc list (LXD)'.padEnd(36)}${fmt(times.lxd)}`);
  console.log(`${'lxc list (Shoal)'.padEnd(36)}${fmt(times.lxcOnShoal)}`);
  console.log(`${'shoal start-up (remote list)'.padEnd(36)}${fmt(times.shoalStartup)}`);
  console.log(`${'lxc start-up (remote list)'.padEnd(36)}${fmt(times.lxcStartup)}`);
  console.log(`load average during the run: ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
  console.log(`shoal list / lxc list on LXD: ${(m.shoal / m.lxd).toFixed(2)} (goal < 1)`);
  console.log(JSON.stringify({ list_ms: r1(m.shoal), lxd_list_ms: r1(m.lxd), lxc_on_shoal_list_ms: r1(m.lxcOnShoal) }));
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
