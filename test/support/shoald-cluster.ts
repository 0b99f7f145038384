/**
 * ShoalCluster: N real `shoald` processes on 127.0.0.1, each with its own SHOAL_DIR
 * (/tmp/shoal-<tag>-*), bootstrapped with `shoald init --auto` and grown with join tokens
 * (`POST /1.0/cluster/members` then `shoald init --join`). Exposes each member's dir, sockets and
 * addresses, REST calls over a member's unix socket, kill/restart, and `close()` that removes
 * everything it made: processes (by PID), LXC containers under the members' LXC paths, mounts and
 * loop devices under their dirs, the bridges it asked for, and the dirs.
 *
 *   const c = await ShoalCluster.start({ members: 3 });
 *   try { const res = await c.request(c.members[1]!, 'GET', '/1.0/cluster/members?recursion=1'); … }
 *   finally { await c.close(); }
 */
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeJoinToken } from '../../src/cluster/index.js';
import { freePorts } from './free-port.js';
import { ManagedProcess } from './processes.js';
import { releaseHostObjectsUnder } from './storage-cleanup.js';

const REPO = resolve(import.meta.dirname, '../..');
const SHOALD_SRC = join(REPO, 'src/daemon/shoald.ts');

let bundle: Promise<string> | undefined;
/**
 * shoald bundled once per test process with esbuild (tsx's own compiler; packages stay external
 * and resolve from the repo's node_modules). Starting it takes about a second where
 * `node --import tsx` takes many on a loaded machine. SHOALD_TSX=1 runs the sources through tsx.
 */
function shoaldCommand(): Promise<string[]> {
  if (process.env['SHOALD_TSX'] === '1') return Promise.resolve(['--import', 'tsx', SHOALD_SRC]);
  bundle ??= (async () => {
    const dir = join(REPO, 'node_modules', '.cache', 'shoald-cluster');
    await mkdir(dir, { recursive: true });
    const out = join(dir, `shoald-${process.pid}.mjs`);
    await run(join(REPO, 'node_modules', '.bin', 'esbuild'), [SHOALD_SRC, '--bundle', '--platform=node', '--format=esm', '--packages=external', `--outfile=${out}`, '--log-level=warning']);
    process.once('exit', () => rmSync(out, { force: true }));
    return out;
  })();
  return bundle.then((out) => [out]);
}

export interface ShoalClusterOptions {
  /** Members to start (bootstrap + joins). Default 1. */
  readonly members?: number;
  /** Helper tag for names and temp dirs (≤ 4 characters). Default `scl`. */
  readonly tag?: string;
  /** Storage pool `default` on the bootstrap member. Default `dir`; `none` for no pool. */
  readonly storageBackend?: 'dir' | 'btrfs' | 'none';
  /** Bridge network on the bootstrap member: name and ipv4.address (CIDR, inside your test subnet). */
  readonly network?: { readonly bridge: string; readonly ipv4: string };
  /** Cluster config set right after bootstrap (e.g. `cluster.offline_threshold`). */
  readonly config?: Readonly<Record<string, string>>;
  /** shoald log level. Default `info`. */
  readonly logLevel?: string;
}

export interface ShoalMember {
  readonly name: string;
  readonly dir: string;
  readonly unixSocket: string;
  readonly controlSocket: string;
  /** Cluster address (gRPC, mutual TLS). */
  readonly address: string;
  /** REST API over HTTPS. */
  readonly apiAddress: string;
  readonly logFile: string;
  proc: ManagedProcess | undefined;
}

/** A REST answer. */
export interface RestResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: { type: string; status_code: number; error_code: number; error: string; metadata: unknown; operation: string };
}

export class ShoalCluster {
  readonly members: ShoalMember[] = [];
  private readonly bridges: string[] = [];
  private counter = 0;

  private constructor(
    readonly root: string,
    readonly tag: string,
    private readonly logLevel: string,
  ) {}

  /** Starts the cluster; on failure everything made so far is removed before the error is thrown. */
  static async start(opts: ShoalClusterOptions = {}): Promise<ShoalCluster> {
    const tag = opts.tag ?? 'scl';
    const root = await mkdtemp(join(tmpdir(), `shoal-${tag}-`));
    // Traversable by others, as /var/lib is: unprivileged containers and dnsmasq (user nobody)
    // reach their files under each member's dir (mkdtemp makes 0700).
    await chmod(root, 0o711);
    const c = new ShoalCluster(root, tag, opts.logLevel ?? 'info');
    try {
      const first = await c.spawnMember();
      const args = ['init', '--auto', '--name', first.name, '--address', first.address, '--api-address', first.apiAddress];
      const backend = opts.storageBackend ?? 'dir';
      if (backend !== 'none') args.push('--storage-backend', backend);
      if (opts.network) {
        c.bridges.push(opts.network.bridge);
        args.push('--network-bridge', opts.network.bridge, '--network-ipv4', opts.network.ipv4);
      }
      await c.shoald(first, args, { check: true });
      if (opts.config && Object.keys(opts.config).length > 0) {
        const res = await c.request(first, 'PATCH', '/1.0', { config: opts.config });
        if (res.status !== 200) throw new Error(`Setting cluster config failed: ${res.body.error}`);
      }
      for (let i = 1; i < (opts.members ?? 1); i++) await c.addMember();
      return c;
    } catch (err) {
      await c.close();
      throw err;
    }
  }

  /** Member by name or index. */
  member(which: string | number): ShoalMember {
    const m = typeof which === 'number' ? this.members[which] : this.members.find((x) => x.name === which);
    if (!m) throw new Error(`No member ${String(which)}`);
    return m;
  }

  /** Issues a join token for a new member on `via` (default: the first running member) and joins it. */
  async addMember(via?: ShoalMember): Promise<ShoalMember> {
    const m = await this.spawnMember();
    await this.join(m, via);
    return m;
  }

  /** `POST /1.0/cluster/members` on `via`; returns the encoded token (as `lxc cluster add` builds it). */
  async issueToken(name: string, via?: ShoalMember): Promise<string> {
    const on = via ?? this.members.find((x) => x.proc?.running);
    if (!on) throw new Error('No running member to issue a token');
    const res = await this.request(on, 'POST', '/1.0/cluster/members', { server_name: name });
    if (res.status !== 202) throw new Error(`Token request failed: ${res.status} ${res.body.error}`);
    const md = (res.body.metadata as { metadata: Record<string, unknown> }).metadata;
    return encodeJoinToken({
      serverName: md['serverName'] as string,
      fingerprint: md['fingerprint'] as string,
      addresses: md['addresses'] as string[],
      secret: md['secret'] as string,
      expiresAt: Date.parse(md['expiresAt'] as string),
    });
  }

  /** Starts a new, uninitialized shoald and waits until it answers. */
  async spawnMember(): Promise<ShoalMember> {
    const i = ++this.counter;
    const [p1, p2] = await freePorts(2);
    const dir = join(this.root, `m${i}`);
    const m: ShoalMember = {
      name: `${this.tag}${i}`,
      dir,
      unixSocket: join(dir, 'unix.socket'),
      controlSocket: join(dir, 'control.socket'),
      address: `127.0.0.1:${p1}`,
      apiAddress: `127.0.0.1:${p2}`,
      logFile: join(this.root, `m${i}.log`),
      proc: undefined,
    };
    this.members.push(m);
    await this.startProcess(m);
    return m;
  }

  /** (Re)starts a member's process from its dir and waits for `shoald waitready`. */
  async restart(m: ShoalMember): Promise<void> {
    if (m.proc?.running) throw new Error(`${m.name} is running`);
    await this.startProcess(m);
  }

  private async startProcess(m: ShoalMember): Promise<void> {
    m.proc = ManagedProcess.spawn(m.name, process.execPath, [...(await shoaldCommand()), '--log-level', this.logLevel], {
      logFile: m.logFile,
      env: { ...process.env, SHOAL_DIR: m.dir },
      cwd: REPO,
    });
    await this.shoald(m, ['waitready', '--timeout', '60'], { check: true });
  }

  /**
   * Kills a member and wipes its state dir (its containers first), then starts an uninitialized
   * daemon there: a machine reinstalled after a forced removal. Join it again with {@link join}.
   */
  async wipe(m: ShoalMember): Promise<void> {
    await m.proc?.kill('SIGKILL');
    await destroyContainers(join(m.dir, 'containers'));
    await killDnsmasqUnder(m.dir);
    await releaseHostObjectsUnder(m.dir);
    await rm(m.dir, { recursive: true, force: true });
    await this.startProcess(m);
  }

  /** `shoald init --join` of an uninitialized member `m` (under its name) with a new token from `via`. */
  async join(m: ShoalMember, via?: ShoalMember): Promise<void> {
    const token = await this.issueToken(m.name, via);
    await this.shoald(m, ['init', '--join', token, '--name', m.name, '--address', m.address, '--api-address', m.apiAddress], { check: true });
  }

  /** The database's records under `prefix` (`shoald db dump`) on `via`, as key → record. */
  async dump(via: ShoalMember, prefix = ''): Promise<Map<string, Record<string, unknown>>> {
    const out = await this.shoald(via, ['db', 'dump', ...(prefix ? [prefix] : [])], { check: true });
    const rows = JSON.parse(out.stdout) as Array<{ key: string; value: { record?: Record<string, unknown> } | number | string }>;
    return new Map(rows.map((r) => [r.key, typeof r.value === 'object' && r.value.record ? r.value.record : { raw: r.value }]));
  }

  /** kill -9 (default) or SIGTERM a member, by PID. */
  async kill(m: ShoalMember, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await m.proc?.kill(signal);
  }

  /** Runs `shoald ARGS` against a member's dir. */
  async shoald(m: ShoalMember, args: readonly string[], o: { check?: boolean; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const cmd = await shoaldCommand();
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [...cmd, ...args],
        { cwd: REPO, env: { ...process.env, SHOAL_DIR: m.dir }, timeout: o.timeoutMs ?? 120_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          if (o.check && code !== 0) reject(new Error(`shoald ${args[0] ?? ''} on ${m.name} exited ${code}: ${stderr.trim()}`));
          else resolve({ code, stdout, stderr });
        },
      );
    });
  }

  /** A REST call over the member's unix socket (full trust). */
  request(m: ShoalMember, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<RestResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        { socketPath: m.unixSocket, method, path, timeout: timeoutMs, headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {} },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as RestResponse['body'] });
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} on ${m.name} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** The members' records as `GET /1.0/cluster/members?recursion=1` on `via` shows them. */
  async list(via: ShoalMember): Promise<Array<{ server_name: string; status: string; roles: string[]; database: boolean; message: string }>> {
    const res = await this.request(via, 'GET', '/1.0/cluster/members?recursion=1');
    if (res.status !== 200) throw new Error(`GET /1.0/cluster/members on ${via.name}: ${res.status} ${res.body.error}`);
    return res.body.metadata as Array<{ server_name: string; status: string; roles: string[]; database: boolean; message: string }>;
  }

  /** The member that currently leads (asked through `via`), polling until one is known. */
  async leader(via: ShoalMember, timeoutMs = 20_000): Promise<ShoalMember> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const l = (await this.list(via)).find((x) => x.roles.includes('database-leader'));
        if (l) return this.member(l.server_name);
      } catch {
        // No leader yet (election in progress): ask again.
      }
      if (Date.now() > deadline) throw new Error(`No leader seen through ${via.name}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Removes everything the cluster made. Safe to call twice and after a failed start. */
  async close(): Promise<void> {
    for (const m of this.members) await m.proc?.kill('SIGKILL');
    for (const m of this.members) await destroyContainers(join(m.dir, 'containers'));
    for (const m of this.members) if (existsSync(m.dir)) await killDnsmasqUnder(m.dir);
    for (const b of this.bridges) await run('ip', ['link', 'del', b]).catch(() => undefined); // absent when never created
    await releaseHostObjectsUnder(this.root);
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Polls `fn` every 250 ms until it returns a value (errors count as "not yet"); throws after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function run(cmd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, (err, stdout) => (err ? reject(err) : resolve(stdout))));
}

/** Stops and destroys every LXC container under `lxcpath` (only this cluster's own LXC path). */
async function destroyContainers(lxcpath: string): Promise<void> {
  if (!existsSync(lxcpath)) return;
  for (const name of await readdir(lxcpath)) {
    if (!existsSync(join(lxcpath, name, 'config'))) continue;
    await run('lxc-stop', ['-P', lxcpath, '-n', name, '-k']).catch(() => undefined); // already stopped
    await run('lxc-destroy', ['-P', lxcpath, '-n', name, '-f']).catch(() => undefined); // the dir goes with rm below
  }
}

/** Kills dnsmasq processes whose pid files live under `dir` (the members' managed networks). */
async function killDnsmasqUnder(dir: string): Promise<void> {
  const nets = join(dir, 'networks');
  if (!existsSync(nets)) return;
  for (const n of await readdir(nets)) {
    for (const f of ['dnsmasq.pid', 'pid']) {
      const pidFile = join(nets, n, f);
      if (!existsSync(pidFile)) continue;
      const pid = Number((await readFile(pidFile, 'utf8')).trim());
      if (Number.isSafeInteger(pid) && pid > 1) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }
}
