/**
 * `shoal remote add`: as LXD's, with a trust token (`remote add NAME TOKEN`: the token names the
 * server's addresses and certificate fingerprint, so nothing is trusted on first use) or with an
 * address (`remote add NAME HOST[:PORT] --token T | --accept-certificate`). The client presents
 * its certificate and the token; the server trusts it, and the server's certificate is pinned
 * in `servercerts/NAME.crt`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, ShoalError } from '../../shared/errors.js';
import type { CertificateAddToken, ServerUntrusted } from '../../api/types/index.js';
import { ShoalClient } from './client.js';
import { ensureClientCertificate } from './client-cert.js';
import { allRemotes, derToPem, type CliConfig, type CliPaths } from './config.js';
import { Transport } from './transport.js';

/** Decodes a trust token (base64 JSON); undefined when `text` is not one. */
export function decodeTrustToken(text: string): CertificateAddToken | undefined {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.length < 16) return undefined;
  try {
    const o = JSON.parse(Buffer.from(t, 'base64').toString('utf8')) as Partial<CertificateAddToken>;
    if (typeof o.client_name !== 'string' || typeof o.fingerprint !== 'string' || typeof o.secret !== 'string') return undefined;
    if (!Array.isArray(o.addresses) || o.addresses.length === 0) return undefined;
    return {
      client_name: o.client_name,
      fingerprint: o.fingerprint,
      secret: o.secret,
      addresses: o.addresses.filter((a): a is string => typeof a === 'string'),
      expires_at: typeof o.expires_at === 'string' ? o.expires_at : '0001-01-01T00:00:00Z',
    };
  } catch {
    // Not base64 JSON: the caller treats the argument as an address.
    return undefined;
  }
}

/** What `remote add` was given. */
export interface RemoteAddRequest {
  readonly name: string;
  /** A trust token, or an address `host[:port]` / `https://host[:port]`. */
  readonly target: string;
  /** A token given with `--token` next to an address. */
  readonly token?: string | undefined;
  /** Trust the server's certificate without a token's fingerprint. */
  readonly acceptCertificate?: boolean;
  readonly project?: string | undefined;
  readonly now: number;
}

/** Adds the remote; returns the new configuration (the caller saves it). */
export async function addRemote(config: CliConfig, paths: CliPaths, req: RemoteAddRequest): Promise<CliConfig> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(req.name)) throw new ShoalError(ErrorCode.InvalidArgument, `Invalid remote name "${req.name}"`);
  if (allRemotes(config, paths)[req.name]) throw new ShoalError(ErrorCode.AlreadyExists, `Remote "${req.name}" already exists`);
  const tokenText = req.token ?? (decodeTrustToken(req.target) ? req.target : undefined);
  const token = tokenText === undefined ? undefined : decodeTrustToken(tokenText);
  if (tokenText !== undefined && !token) throw new ShoalError(ErrorCode.InvalidArgument, 'Invalid trust token');
  const addresses = req.token !== undefined || !token ? [normalizeAddress(req.target)] : token.addresses.map(normalizeAddress);
  if (!token && !req.acceptCertificate) {
    throw new ShoalError(ErrorCode.InvalidArgument, 'A trust token is needed (or --accept-certificate with a trusted certificate)');
  }
  const pair = await ensureClientCertificate(paths.confDir, req.now);
  const failures: string[] = [];
  for (const address of addresses) {
    const transport = new Transport({
      kind: 'https',
      address,
      certPem: pair.certPem,
      keyPem: pair.keyPem,
      serverFingerprint: token?.fingerprint,
    });
    const client = new ShoalClient(transport);
    try {
      const server = await client.get<ServerUntrusted>('/1.0');
      if (server.auth !== 'trusted') {
        if (!tokenText) throw new ShoalError(ErrorCode.PermissionDenied, 'The server does not trust this client and no token was given');
        await client.send('POST', '/1.0/certificates', { type: 'client', trust_token: tokenText });
        const again = await client.get<ServerUntrusted>('/1.0');
        if (again.auth !== 'trusted') throw new ShoalError(ErrorCode.PermissionDenied, 'The server did not trust this client');
      }
      const der = transport.peerCertificate;
      if (!der) throw new ShoalError(ErrorCode.Internal, `No certificate seen from "${address}"`);
      await mkdir(join(paths.confDir, 'servercerts'), { recursive: true, mode: 0o700 });
      await writeFile(join(paths.confDir, 'servercerts', `${req.name}.crt`), derToPem(der));
      return {
        ...config,
        remotes: {
          ...config.remotes,
          [req.name]: { addr: `https://${address}`, protocol: 'shoal', ...(req.project ? { project: req.project } : {}) },
        },
      };
    } catch (err) {
      if (err instanceof ShoalError && err.code !== ErrorCode.Unavailable && err.code !== ErrorCode.Unauthenticated) throw err;
      failures.push(err instanceof Error ? err.message : String(err));
    } finally {
      transport.close();
    }
  }
  throw new ShoalError(ErrorCode.Unavailable, `Failed adding remote "${req.name}": ${failures.join('; ')}`);
}

/** `https://h:p/` → `h:p`; a missing port is 8443. */
export function normalizeAddress(text: string): string {
  const a = text.replace(/^https:\/\//, '').replace(/\/+$/, '');
  if (/^\[[^\]]+\]:\d+$/.test(a) || /^[^:[\]]+:\d+$/.test(a)) return a;
  if (/^\[[^\]]+\]$/.test(a) || /^[^:]+$/.test(a)) return `${a}:8443`;
  if (a.includes(':')) return `[${a}]:8443`;
  return a;
}
