/**
 * The LXD 5.0.2 side of the agent benchmark: Debian's `lxd` (installed with apt-get when missing),
 * started here with its own LXD_DIR under a temp dir, outbound fetches pointed at a closed loopback
 * port (https_proxy/http_proxy=http://127.0.0.1:9) and image auto-updates off. It gets the same
 * busybox image, a dir pool and a btrfs pool on a loop file, and a managed bridge (no NAT, no
 * firewall rules); instances have the same devices as ours (root disk + one bridged nic).
 * Driven through its REST API on the unix socket (the cheapest way in: no CLI process per call).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandExists, run } from '../../src/node-agent/exec.js';
import { releaseHostObjectsUnder } from '../../test/support/storage-cleanup.js';
import { onCleanup } from './cleanup.js';
import { SUBNETS, type BenchSide, type BenchStorage } from './side.js';
import { say } from './stats.js';

const POOLS: Readonly<Record<BenchStorage, string>> = { dir: 'bdir', btrfs: 'bbtrfs' };
const PROXY = 'http://127.0.0.1:9';

interface LxdResponse {
  readonly type: 'sync' | 'async' | 'error';
  readonly status_code?: number;
  readonly error?: string;
  readonly operation?: string;
  readonly metadata?: unknown;
}

/** Installs lxd (Debian 12: 5.0.2) and lxd-client when missing. Idempotent. */
export async function ensureLxd(): Promise<string> {
  if (!(await commandExists('lxd')) || !(await commandExists('lxc'))) {
    say('installing lxd and lxd-client with apt-get');
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update', '-qq'], { env, timeoutMs: 600_000 });
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'lxd', 'lxd-client'], { env, timeoutMs: 900_000 });
  }
  return (await run('lxd', ['--version'])).stdout.trim();
}

export class LxdSide implements BenchSide {
  readonly label = 'lxd';

  private constructor(
    private readonly socket: string,
    private readonly network: string,
    private readonly fingerprint: string,
  ) {}

  /** Starts LXD and prepares pools, network and image. Cleanup is registered. */
  static async setup(tag: string, tarball: Buffer, btrfsSize: string): Promise<LxdSide> {
    const lxdDir = await mkdtemp(join(tmpdir(), `shoal-${tag}-lxd-`));
    await chmod(lxdDir, 0o711);
    onCleanup(`LXD dir ${lxdDir}`, async () => {
      await releaseHostObjectsUnder(lxdDir);
      await rm(lxdDir, { recursive: true, force: true });
    });
    const tablesBefore = (await run('nft', ['list', 'tables'])).stdout;
    onCleanup('nft tables LXD added', async () => {
      // LXD names its table "lxd"; remove it only when this run's LXD created it.
      const after = (await run('nft', ['list', 'tables'])).stdout;
      for (const t of after.split('\n').map((l) => l.trim())) {
        if (t.endsWith(' lxd') && !tablesBefore.includes(t)) await run('nft', ['delete', ...t.split(' ').slice(1)]);
      }
    });
    const env: Record<string, string | undefined> = {
      ...process.env,
      LXD_DIR: lxdDir,
      https_proxy: PROXY,
      http_proxy: PROXY,
      HTTPS_PROXY: PROXY,
      HTTP_PROXY: PROXY,
    };
    delete env['no_proxy'];
    delete env['NO_PROXY'];
    const daemon: ChildProcess = spawn('lxd', ['--group', 'root', '--logfile', join(lxdDir, 'lxd.log')], {
      env,
      stdio: 'ignore',
      detached: true,
    });
    let exited = false;
    daemon.once('exit', () => (exited = true));
    onCleanup('LXD daemon', async () => {
      if (exited) return;
      try {
        await run('lxd', ['shutdown', '--timeout', '30'], { env: { LXD_DIR: lxdDir }, timeoutMs: 45_000 });
      } catch {
        if (daemon.pid) process.kill(-daemon.pid, 'SIGKILL');
      }
      await new Promise<void>((resolve) => (exited ? resolve() : daemon.once('exit', () => resolve())));
      // Whatever LXD left running under its dir (dnsmasq, forkfile, monitors).
      const ps = await run('sh', ['-c', 'for p in /proc/[0-9]*; do printf "%s " "${p#/proc/}"; tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done']);
      for (const line of ps.stdout.split('\n')) {
        if (!line.includes(lxdDir)) continue;
        try {
          process.kill(Number(line.split(' ')[0]), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
    await run('lxd', ['waitready', '--timeout', '60'], { env: { LXD_DIR: lxdDir }, timeoutMs: 70_000 });
    const socket = join(lxdDir, 'unix.socket');
    await stat(socket);
    const side = new LxdSide(socket, `${tag}l`, createHash('sha256').update(tarball).digest('hex'));

    await side.sync('PATCH', '/1.0', { config: { 'images.auto_update_interval': '0', 'images.remote_cache_expiry': '0' } });
    await side.sync('POST', '/1.0/storage-pools', { name: POOLS.dir, driver: 'dir', config: {} });
    await side.sync('POST', '/1.0/storage-pools', { name: POOLS.btrfs, driver: 'btrfs', config: { size: btrfsSize } });
    await side.sync('POST', '/1.0/networks', {
      name: side.network,
      type: 'bridge',
      config: {
        'ipv4.address': SUBNETS.lxd,
        'ipv4.nat': 'false',
        'ipv4.firewall': 'false',
        'ipv6.address': 'none',
        'ipv6.firewall': 'false',
      },
    });
    onCleanup('LXD objects', async () => {
      const names = ((await side.sync('GET', '/1.0/instances')) as string[]).map((u) => u.split('/').pop()!);
      for (const n of names) {
        await side.async('PUT', `/1.0/instances/${n}/state`, { action: 'stop', force: true }).catch(() => undefined);
        await side.async('DELETE', `/1.0/instances/${n}`);
      }
      await side.async('DELETE', `/1.0/images/${side.fingerprint}`).catch(() => undefined);
      await side.sync('DELETE', `/1.0/networks/${side.network}`);
      for (const p of Object.values(POOLS)) await side.sync('DELETE', `/1.0/storage-pools/${p}`);
    });
    await side.async('POST', '/1.0/images', tarball);
    return side;
  }

  async createStart(name: string, storage: BenchStorage): Promise<void> {
    await this.async('POST', '/1.0/instances', {
      name,
      type: 'container',
      source: { type: 'image', fingerprint: this.fingerprint },
      profiles: [],
      config: {},
      devices: {
        root: { type: 'disk', path: '/', pool: POOLS[storage] },
        eth0: { type: 'nic', network: this.network, name: 'eth0' },
      },
    });
    await this.async('PUT', `/1.0/instances/${name}/state`, { action: 'start', timeout: -1 });
  }

  async stop(name: string): Promise<void> {
    await this.async('PUT', `/1.0/instances/${name}/state`, { action: 'stop', force: true, timeout: -1 });
  }

  async delete(name: string): Promise<void> {
    await this.async('DELETE', `/1.0/instances/${name}`);
  }

  /** A synchronous call; returns its metadata. */
  private async sync(method: string, path: string, body?: unknown): Promise<unknown> {
    const r = await this.call(method, path, body);
    if (r.type === 'error') throw new Error(`LXD ${method} ${path}: ${r.error ?? 'error'}`);
    return r.metadata;
  }

  /** An asynchronous call; waits for its operation to finish and fails when it failed. */
  private async async(method: string, path: string, body?: unknown): Promise<unknown> {
    const r = await this.call(method, path, body);
    if (r.type === 'error') throw new Error(`LXD ${method} ${path}: ${r.error ?? 'error'}`);
    if (r.type !== 'async' || !r.operation) return r.metadata;
    const op = await this.call('GET', `${r.operation}/wait?timeout=600`);
    const md = op.metadata as { status_code?: number; err?: string } | undefined;
    if (op.type === 'error' || md?.status_code !== 200) throw new Error(`LXD ${method} ${path}: ${md?.err ?? op.error ?? 'failed'}`);
    return md;
  }

  private call(method: string, path: string, body?: unknown): Promise<LxdResponse> {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socket,
          path,
          method,
          headers: {
            ...(payload ? { 'Content-Length': payload.length } : {}),
            'Content-Type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json',
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as LxdResponse);
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}
