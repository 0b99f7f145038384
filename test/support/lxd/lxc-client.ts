/**
 * The stock `lxc` client (Debian `lxd-client` 5.0.2) with a throw-away configuration: LXD_CONF and
 * HOME point at /tmp/shoal-<tag>-lxc-*, so it generates its own client certificate there and never
 * reads or writes root's ~/.config/lxc. Proxies are cleared (test traffic stays on loopback).
 *
 *   const lxc = await LxcClient.create('ac');
 *   try { await lxc.ok(['remote', 'add', 'shoal', token]); } finally { await lxc.close(); }
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

/** What one `lxc` run printed. */
export interface LxcResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class LxcClient {
  private constructor(
    /** LXD_CONF (and HOME) of this client. */
    readonly dir: string,
  ) {}

  /** A client with an empty configuration directory. */
  static async create(tag: string): Promise<LxcClient> {
    return new LxcClient(await mkdtemp(join(tmpdir(), `shoal-${tag}-lxc-`)));
  }

  /** The client certificate and key `lxc` generated (after its first remote add), PEM. */
  async certificate(): Promise<{ certPem: string; keyPem: string }> {
    return {
      certPem: await readFile(join(this.dir, 'client.crt'), 'utf8'),
      keyPem: await readFile(join(this.dir, 'client.key'), 'utf8'),
    };
  }

  /**
   * Copies remote `name` (address and pinned server certificate) from `other`'s configuration,
   * without trust: this client presents its own certificate, which the server does not know.
   * Needs this client's certificate to exist (call after any `lxc` run that generated it).
   */
  async copyRemote(other: LxcClient, name: string): Promise<void> {
    const read = async (c: LxcClient): Promise<{ remotes?: Record<string, unknown> }> =>
      (parse(await readFile(join(c.dir, 'config.yml'), 'utf8').catch(() => '{}')) ?? {}) as { remotes?: Record<string, unknown> };
    const theirs = await read(other);
    const ours = await read(this);
    ours.remotes = { ...(ours.remotes ?? {}), [name]: theirs.remotes?.[name] };
    await writeFile(join(this.dir, 'config.yml'), stringify(ours));
    await mkdir(join(this.dir, 'servercerts'), { recursive: true });
    await writeFile(join(this.dir, 'servercerts', `${name}.crt`), await readFile(join(other.dir, 'servercerts', `${name}.crt`)));
  }

  /** Runs `lxc ARGS` (optionally feeding `input` on stdin); never throws on a non-zero exit. */
  run(args: readonly string[], o: { input?: string; timeoutMs?: number } = {}): Promise<LxcResult> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      LANG: 'C.UTF-8',
      HOME: this.dir,
      LXD_CONF: this.dir,
      // The local remote must never reach a real LXD on this machine.
      LXD_DIR: join(this.dir, 'no-local-lxd'),
    };
    return new Promise((resolve) => {
      const child = execFile('lxc', [...args], { env, timeout: o.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
      child.stdin?.end(o.input ?? '');
    });
  }

  /** Runs `lxc ARGS` and returns stdout; throws with stderr when it exits non-zero. */
  async ok(args: readonly string[], o: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.run(args, o);
    if (r.code !== 0) throw new Error(`lxc ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Runs `lxc ARGS`, expects failure, and returns stderr. */
  async fails(args: readonly string[], o: { input?: string } = {}): Promise<string> {
    const r = await this.run(args, o);
    if (r.code === 0) throw new Error(`lxc ${args.join(' ')} succeeded, expected a failure; stdout: ${r.stdout.trim()}`);
    return r.stderr;
  }

  /** Removes the configuration directory (client key included). Safe to call twice. */
  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
