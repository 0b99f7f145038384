/**
 * Who is calling, and what they may do. Each listener has an {@link Authenticator}: the unix
 * socket trusts everyone who can open it (file mode 0660, as LXD's), the HTTPS listener trusts a
 * client certificate whose SHA-256 fingerprint is in the {@link TrustStore} (LXD: requested, not
 * CA-verified). A cluster member (trust type `server`) forwarding a request for a client passes
 * the client's identity in the `x-shoal-forwarded-identity` header; only members are believed.
 *
 * Access levels, declared per route as `config.access` (default `admin`):
 * - `untrusted`: anyone (`GET /1.0`, `POST /1.0/certificates`, operation wait/websocket with a secret);
 * - `trusted`: any trusted caller; restricted certificates are limited to their projects by the handler;
 * - `admin`: trusted and not restricted (server config, certificate management);
 * - `metrics`: trusted callers and `metrics` certificates.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ErrorCode, ShoalError } from '../shared/index.js';
import type { TrustStore } from './ports.js';
import type { CertificateType, EventLifecycleRequestor } from './types/index.js';

/** The caller of one request. */
export interface Identity {
  readonly trusted: boolean;
  /** `unix`: local socket; `tls`: client certificate; `cluster`: a member acting for itself. */
  readonly protocol: 'unix' | 'tls' | 'cluster';
  /** The certificate fingerprint (tls), member name (cluster) or local user (unix). */
  readonly username: string;
  /** Remote address (`ip:port`), `@` for the unix socket. */
  readonly address: string;
  /** Fingerprint of the presented client certificate, trusted or not. */
  readonly fingerprint: string | undefined;
  /** PEM of the presented client certificate (untrusted callers adding themselves need it). */
  readonly certificate: string | undefined;
  /** Trust-store type of the certificate, when it is in the store. */
  readonly certificateType: CertificateType | undefined;
  /** True for restricted certificates: only `projects` are accessible, admin endpoints are not. */
  readonly restricted: boolean;
  readonly projects: readonly string[];
  /** The member that forwarded this request on the caller's behalf. */
  readonly forwardedBy: string | undefined;
}

/** Route access levels (see module comment). */
export type AccessLevel = 'untrusted' | 'trusted' | 'admin' | 'metrics';

/** Establishes the identity of a request from its raw transport. Called once per request. */
export interface Authenticator {
  authenticate(raw: IncomingMessage): Promise<Identity>;
}

/** Header carrying a forwarded caller's identity (member → leader only). */
export const FORWARDED_IDENTITY_HEADER = 'x-shoal-forwarded-identity';

const NOBODY: Omit<Identity, 'address'> = {
  trusted: false,
  protocol: 'tls',
  username: '',
  fingerprint: undefined,
  certificate: undefined,
  certificateType: undefined,
  restricted: false,
  projects: [],
  forwardedBy: undefined,
};

/** The unix socket: full trust (whoever can open the socket is an administrator). */
export class UnixAuthenticator implements Authenticator {
  constructor(private readonly username = 'root') {}

  authenticate(_raw: IncomingMessage): Promise<Identity> {
    return Promise.resolve({ ...NOBODY, trusted: true, protocol: 'unix', username: this.username, address: '@' });
  }
}

/** HTTPS with client certificates checked against the trust store. */
export class TlsAuthenticator implements Authenticator {
  constructor(private readonly trust: TrustStore) {}

  async authenticate(raw: IncomingMessage): Promise<Identity> {
    const address = remoteAddress(raw);
    const peer = peerCertificate(raw.socket as Partial<TLSSocket>);
    if (!peer) return { ...NOBODY, address };
    const { fingerprint, certificate } = peer;
    const entry = await this.trust.get(fingerprint);
    const presented = { ...NOBODY, address, username: fingerprint, fingerprint, certificate };
    if (!entry) return presented;
    if (entry.type === 'server') {
      const forwarded = raw.headers[FORWARDED_IDENTITY_HEADER];
      if (typeof forwarded === 'string') return { ...decodeForwardedIdentity(forwarded), forwardedBy: entry.name };
      return { ...presented, trusted: true, protocol: 'cluster', username: entry.name, certificateType: 'server' };
    }
    if (entry.type === 'metrics') return { ...presented, certificateType: 'metrics' };
    return {
      ...presented,
      trusted: true,
      certificateType: entry.type,
      restricted: entry.restricted,
      projects: [...entry.projects],
    };
  }
}

/** Encodes an identity for {@link FORWARDED_IDENTITY_HEADER} (base64url JSON). */
export function encodeForwardedIdentity(identity: Identity): string {
  const { forwardedBy: _ignored, ...rest } = identity;
  return Buffer.from(JSON.stringify(rest), 'utf8').toString('base64url');
}

/** Decodes {@link FORWARDED_IDENTITY_HEADER}. Throws INVALID_ARGUMENT when malformed. */
export function decodeForwardedIdentity(header: string): Identity {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch (err) {
    throw new ShoalError(ErrorCode.InvalidArgument, 'Invalid forwarded identity', { cause: err });
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const protocol = o['protocol'];
  const type = str('certificateType');
  if (
    typeof o['trusted'] !== 'boolean' ||
    (protocol !== 'unix' && protocol !== 'tls' && protocol !== 'cluster') ||
    str('username') === undefined ||
    str('address') === undefined ||
    typeof o['restricted'] !== 'boolean' ||
    !Array.isArray(o['projects']) ||
    !o['projects'].every((p) => typeof p === 'string') ||
    (type !== undefined && type !== 'client' && type !== 'server' && type !== 'metrics')
  ) {
    throw new ShoalError(ErrorCode.InvalidArgument, 'Invalid forwarded identity');
  }
  return {
    trusted: o['trusted'],
    protocol,
    username: str('username')!,
    address: str('address')!,
    fingerprint: str('fingerprint'),
    certificate: str('certificate'),
    certificateType: type,
    restricted: o['restricted'],
    projects: o['projects'] as string[],
    forwardedBy: undefined,
  };
}

/** True for trusted, unrestricted callers. */
export function isAdmin(identity: Identity): boolean {
  return identity.trusted && !identity.restricted;
}

/** PERMISSION_DENIED "not authorized" (LXD `response.Forbidden(nil)`) unless `identity` meets `level`. */
export function checkAccess(identity: Identity, level: AccessLevel): ShoalError | undefined {
  const ok =
    level === 'untrusted' ||
    (level === 'trusted' && identity.trusted) ||
    (level === 'admin' && isAdmin(identity)) ||
    (level === 'metrics' && (identity.trusted || identity.certificateType === 'metrics'));
  return ok ? undefined : notAuthorized();
}

/** PERMISSION_DENIED unless `identity` may use `project` (restricted certificates list theirs). */
export function checkProjectAccess(identity: Identity, project: string): ShoalError | undefined {
  if (!identity.trusted) return notAuthorized();
  if (identity.restricted && !identity.projects.includes(project)) return notAuthorized();
  return undefined;
}

/** LXD's message for refused callers. */
export function notAuthorized(): ShoalError {
  return new ShoalError(ErrorCode.PermissionDenied, 'not authorized');
}

/** The lifecycle-event requestor of an identity. */
export function requestorOf(identity: Identity): EventLifecycleRequestor {
  return { username: identity.username, protocol: identity.protocol, address: identity.address };
}

/** A connection's client certificate: its DER (to notice a renegotiated one), fingerprint and PEM. */
interface PeerCertificate {
  readonly der: Buffer;
  readonly fingerprint: string;
  readonly certificate: string;
}

const peerCertificates = new WeakMap<object, PeerCertificate>();

/**
 * The client certificate of a TLS connection, computed once per keep-alive connection: turning
 * the peer certificate into a JS object (`getPeerCertificate`) and re-encoding it as PEM on every
 * request was the largest CPU cost of small GETs (bench/api profile). The DER is compared on each
 * request, so a certificate changed by renegotiation is never mistaken for the cached one.
 */
function peerCertificate(socket: Partial<TLSSocket>): PeerCertificate | undefined {
  const x509 = typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
  if (!x509) return undefined;
  const der = x509.raw;
  const cached = peerCertificates.get(socket);
  if (cached?.der.equals(der)) return cached;
  const peer = { der, fingerprint: createHash('sha256').update(der).digest('hex'), certificate: x509.toString() };
  peerCertificates.set(socket, peer);
  return peer;
}

function remoteAddress(raw: IncomingMessage): string {
  const s = raw.socket;
  if (!s.remoteAddress) return '';
  return s.remoteFamily === 'IPv6' ? `[${s.remoteAddress}]:${s.remotePort ?? 0}` : `${s.remoteAddress}:${s.remotePort ?? 0}`;
}
