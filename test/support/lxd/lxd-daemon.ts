/**
 * A throw-away LXD 5.0.2 daemon (Debian's `lxd`) for benchmarks and compatibility tests: started
 * with its own LXD_DIR under /tmp/shoal-<tag>-lxd-*, its outbound fetches (image servers) pointed
 * at the closed loopback port 127.0.0.1:9 so no traffic leaves the machine, image auto-updates
 * off. Driven through its REST API on the unix socket. `close()` removes everything it made: the
 * daemon (clean shutdown, SIGKILL of its process group otherwise), whatever it left running under
 * its dir (dnsmasq, forkfile, monitors), the nftables table named `lxd` when this daemon created
 * it, loop devices and mounts under its dir, and the dir.
 *
 *   const lxd = await LxdDaemon.start('ac');
 *   try { await lxd.sync('GET', '/1.0'); } finally { await lxd.close(); }
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandExists, run } from '../../../src/node-agent/exec.js';
import { releaseHostObjectsUnder } from '../storage-cleanup.js';

/** Where LXD's outbound HTTP(S) goes: a closed loopback port (nothing leaves the machine). */
export const CLOSED_PROXY = 'http://127.0.0.1:9';

/** One LXD REST answer (envelope). */
export interface LxdResponse {
  readonly type: 'sync' | 'async' | 'error';
  readonly status_code?: number;
  readonly error_code?: number;
  readonly error?: string;
  readonly operation?: string;
  readonly metadata?: unknown;
}

/**
 * Installs lxd (Debian 12: 5.0.2) and lxd-client with apt-get when either is missing (idempotent;
 * scripts/setup.sh lists both). Returns `lxd --version`.
 */
export async function ensureLxd(onInstall?: (msg: string) => void): Promise<string> {
  if (!(await commandExists('lxd')) || !(await commandExists('lxc'))) {
    onInstall?.('installing lxd and lxd-client with apt-get');
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update', '-qq'], { env, timeoutMs: 600_000 });
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'lxd', 'lxd-client'], { env, timeoutMs: 900_000 });
  }
  return (await run('lxd', ['--version'])).stdout.trim();
}

/** A running LXD daemon with its own dir. */
export class LxdDaemon {
  private closed: Promise<void> | undefined;

  private constructor(
    /** LXD_DIR. */
    readonly dir: string,
    private readonly daemon: ChildProcess,
    private readonly exited: { value: boolean },
    private readonly tablesBefore: string,
  ) {}

  /** The daemon's unix socket (full trust). */
  get socket(): string {
    return join(this.dir, 'unix.socket');
  }

  /**
   * Starts LXD and waits until it is ready; auto-updates of images are turned off. On failure
   * everything made so far is removed before the error is thrown.
   */
  static async start(tag: string): Promise<LxdDaemon> {
    const dir = await mkdtemp(join(tmpdir(), `shoal-${tag}-lxd-`));
    await chmod(dir, 0o711);
    const tablesBefore = (await run('nft', ['list', 'tables'])).stdout;
    const env: Record<string, string | undefined> = {
      ...process.env,
      LXD_DIR: dir,
      https_proxy: CLOSED_PROXY,
      http_proxy: CLOSED_PROXY,
      HTTPS_PROXY: CLOSED_PROXY,
      HTTP_PROXY: CLOSED_PROXY,
    };
    delete env['no_proxy'];
    delete env['NO_PROXY'];
    const child = spawn('lxd', ['--group', 'root', '--logfile', join(dir, 'lxd.log')], { env, stdio: 'ignore', detached: true });
    const exited = { value: false };
    child.once('exit', () => (exited.value = true));
    const lxd = new LxdDaemon(dir, child, exited, tablesBefore);
    try {
      await run('lxd', ['waitready', '--timeout', '60'], { env: { LXD_DIR: dir }, timeoutMs: 70_000 });
      await stat(lxd.socket);
      await lxd.sync('PATCH', '/1.0', { config: { 'images.auto_update_interval': '0', 'images.remote_cache_expiry': '0' } });
      return lxd;
    } catch (err) {
      await lxd.close();
      throw err;
    }
  }

  /** A synchronous call; returns its metadata, throws on an error envelope. */
  async sync(method: string, path: string, body?: unknown): Promise<unknown> {
    const r = await this.call(method, path, body);
    if (r.type === 'error') throw new Error(`LXD ${method} ${path}: ${r.error ?? 'error'}`);
    return r.metadata;
  }

  /** An asynchronous call; waits for its operation to finish and throws when it failed. */
  async async(method: string, path: string, body?: unknown): Promise<unknown> {
    const r = await this.call(method, path, body);
    if (r.type === 'error') throw new Error(`LXD ${method} ${path}: ${r.error ?? 'error'}`);
    if (r.type !== 'async' || !r.operation) return r.metadata;
    const op = await this.call('GET', `${r.operation}/wait?timeout=600`);
    const md = op.metadata as { status_code?: number; err?: string } | undefined;
    if (op.type === 'error' || md?.status_code !== 200) throw new Error(`LXD ${method} ${path}: ${md?.err ?? op.error ?? 'failed'}`);
    return md;
  }

  /** One REST call on the unix socket; a Buffer body is sent as application/octet-stream. */
  call(method: string, path: string, body?: unknown): Promise<LxdResponse> {
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

  /** Stops the daemon and removes everything it made. Safe to call twice. */
  close(): Promise<void> {
    this.closed ??= this.teardown();
    return this.closed;
  }

  private async teardown(): Promise<void> {
    if (!this.exited.value) {
      try {
        await run('lxd', ['shutdown', '--timeout', '30'], { env: { LXD_DIR: this.dir }, timeoutMs: 45_000 });
      } catch {
        // Not answering: kill its process group (it was started detached, so the group is its own).
        if (this.daemon.pid) process.kill(-this.daemon.pid, 'SIGKILL');
      }
      await new Promise<void>((resolve) => (this.exited.value ? resolve() : this.daemon.once('exit', () => resolve())));
    }
    // Whatever LXD left running under its dir (dnsmasq, forkfile, monitors).
    const ps = await run('sh', ['-c', 'for p in /proc/[0-9]*; do printf "%s " "${p#/proc/}"; tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done']);
    for (const line of ps.stdout.split('\n')) {
      if (!line.includes(this.dir)) continue;
      try {
        process.kill(Number(line.split(' ')[0]), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // LXD names its nftables table "lxd"; remove it only when this daemon created it.
    const after = (await run('nft', ['list', 'tables'])).stdout;
    for (const t of after.split('\n').map((l) => l.trim())) {
      if (t.endsWith(' lxd') && !this.tablesBefore.includes(t)) await run('nft', ['delete', ...t.split(' ').slice(1)]);
    }
    await releaseHostObjectsUnder(this.dir);
    await rm(this.dir, { recursive: true, force: true });
  }
}
