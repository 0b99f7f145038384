/**
 * The compatibility suite's fixture: a real 3-member ShoalCluster (tag `ac`) and the stock `lxc`
 * client (Debian lxd-client 5.0.2, throw-away LXD_CONF) with remote `shoal` added through a trust
 * token, as a user would. Plus raw HTTPS calls with that client's certificate (for requests lxc
 * never sends: bad JSON, unknown keys) and pylxd (Debian python3-pylxd, run by /usr/bin/python3).
 * `close()` removes everything, also after a failed start.
 */
import { execFile } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import https from 'node:https';
import { trustTokenOf } from '../../../src/cli/commands/trust.js';
import type { Operation } from '../../../src/api/types/index.js';
import { LxcClient } from '../../support/lxd/lxc-client.js';
import { ShoalCluster, type ShoalMember } from '../../support/shoald-cluster.js';

/** Helper tag of this suite (names, temp dirs). */
export const TAG = 'ac';

/** A raw HTTPS answer. */
export interface RawResponse {
  readonly status: number;
  readonly body: { type: string; error_code: number; error: string; metadata: unknown };
}

export class CompatEnv {
  private constructor(
    readonly cluster: ShoalCluster,
    readonly lxc: LxcClient,
  ) {}

  /** Starts the cluster and adds remote `shoal` (member 1's HTTPS address) to a fresh lxc config. */
  static async start(members = 3): Promise<CompatEnv> {
    const cluster = await ShoalCluster.start({ members, tag: TAG });
    let lxc: LxcClient | undefined;
    try {
      // Unprivileged containers need every directory above their rootfs traversable (mkdtemp makes 0700).
      await chmod(cluster.root, 0o711);
      lxc = await LxcClient.create(TAG);
      const env = new CompatEnv(cluster, lxc);
      await lxc.ok(['remote', 'add', 'shoal', await env.trustToken('compat')]);
      return env;
    } catch (err) {
      await lxc?.close();
      await cluster.close();
      throw err;
    }
  }

  /** The member the `shoal` remote points at. */
  get via(): ShoalMember {
    return this.cluster.members[0]!;
  }

  /** A trust token for client `name` (`POST /1.0/certificates {token: true}` over the unix socket). */
  async trustToken(name: string): Promise<string> {
    const res = await this.cluster.request(this.via, 'POST', '/1.0/certificates', { token: true, name, type: 'client' });
    if (res.status !== 202) throw new Error(`Trust token request failed: ${res.status} ${res.body.error}`);
    const token = trustTokenOf(res.body.metadata as Operation);
    if (!token) throw new Error('Incomplete trust token operation');
    return token;
  }

  /** An HTTPS request to `member` with the lxc client's (trusted) certificate; `body` is sent verbatim. */
  async raw(method: string, path: string, body?: string, member: ShoalMember = this.via): Promise<RawResponse> {
    const { certPem, keyPem } = await this.lxc.certificate();
    return httpsCall(member.apiAddress, { certPem, keyPem }, method, path, body);
  }

  /** Runs a pylxd program (Python source) with `ENDPOINT`, `CERT`, `KEY` set; returns the JSON of its last stdout line. */
  pylxd(source: string, cert: { cert: string; key: string }): Promise<unknown> {
    return runPython(source, { ENDPOINT: `https://${this.via.apiAddress}`, CERT: cert.cert, KEY: cert.key });
  }

  /** Removes everything. Safe to call twice. */
  async close(): Promise<void> {
    await this.lxc.close();
    await this.cluster.close();
  }
}

/** One HTTPS request with a client certificate (the server's certificate is not verified, as lxc pins it). */
export function httpsCall(
  address: string,
  cert: { certPem: string; keyPem: string } | undefined,
  method: string,
  path: string,
  body?: string,
): Promise<RawResponse> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host,
        port: Number(port),
        method,
        path,
        rejectUnauthorized: false,
        ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}),
        headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 60_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as RawResponse['body'] });
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs Python source with Debian's python3 (where python3-pylxd is installed); parses its last stdout line as JSON. */
export function runPython(source: string, env: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      '/usr/bin/python3',
      ['-'],
      { env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: '/nonexistent', ...env }, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`python3 failed: ${stderr.trim().split('\n').slice(-5).join('\n')}`));
          return;
        }
        const last = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(last));
        } catch {
          reject(new Error(`python3 printed no JSON: ${stdout.slice(-500)} ${stderr.slice(-500)}`));
        }
      },
    );
    child.stdin?.end(source);
  });
}
