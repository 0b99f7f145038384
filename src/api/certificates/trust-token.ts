/**
 * Trust tokens as lxc reads them (shared/api/certificate.go CertificateAddToken,
 * shared/util.go CertificateTokenDecode): standard padded base64 of
 * `{"client_name","fingerprint","addresses","secret","expires_at"}`. lxc builds the token itself
 * from the token operation's metadata; the server only decodes what comes back as `password`
 * (lxc 5.0) or `trust_token`. Secrets are 32 random bytes in hex, stored only as their SHA-256
 * (the same scheme as cluster join tokens, whose helpers this reuses).
 */
import { hashJoinSecret, newJoinSecret } from '../../cluster/join-token.js';
import { ErrorCode, ShoalError } from '../../shared/index.js';
import { ZERO_TIME, type CertificateAddToken } from '../types/index.js';

/** A new token secret (64 hex characters). */
export function newTrustTokenSecret(): string {
  return newJoinSecret();
}

/** What the trust-token store keeps instead of the secret. */
export function hashTrustTokenSecret(secret: string): string {
  return hashJoinSecret(secret);
}

/** Encodes a token the way lxc does (for the `shoal` CLI and tests). `expiresAt` undefined = never. */
export function encodeTrustToken(token: {
  clientName: string;
  fingerprint: string;
  addresses: readonly string[];
  secret: string;
  expiresAt: number | undefined;
}): string {
  const body: CertificateAddToken = {
    client_name: token.clientName,
    fingerprint: token.fingerprint,
    addresses: [...token.addresses],
    secret: token.secret,
    expires_at: token.expiresAt === undefined ? ZERO_TIME : new Date(token.expiresAt).toISOString(),
  };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64');
}

/**
 * Decodes a trust token; returns undefined when `text` is not one (so the caller can try other
 * token kinds). A token needs a non-empty client name, fingerprint, secret and addresses, as LXD
 * requires.
 */
export function decodeTrustToken(text: string): CertificateAddToken | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(trimmed, 'base64').toString('utf8'));
  } catch {
    // Not JSON inside: not a trust token (the caller reports the failure).
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const nonEmpty = (k: string): string | undefined => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);
  const clientName = nonEmpty('client_name');
  const fingerprint = nonEmpty('fingerprint');
  const secret = nonEmpty('secret');
  const addresses = o['addresses'];
  if (!clientName || !fingerprint || !secret) return undefined;
  if (!Array.isArray(addresses) || addresses.length === 0 || !addresses.every((a) => typeof a === 'string')) return undefined;
  const expiresAt = typeof o['expires_at'] === 'string' ? o['expires_at'] : ZERO_TIME;
  return { client_name: clientName, fingerprint, addresses: addresses as string[], secret, expires_at: expiresAt };
}

/** True when `text` decodes as a cluster join token (`server_name` instead of `client_name`). */
export function looksLikeJoinToken(text: string): boolean {
  try {
    const o = JSON.parse(Buffer.from(text.trim(), 'base64').toString('utf8')) as Record<string, unknown>;
    return typeof o['server_name'] === 'string' && o['server_name'] !== '';
  } catch {
    // Not a join token either.
    return false;
  }
}

/** Throws when a token's `expires_at` (not Go's zero time) is past. */
export function checkNotExpired(expiresAt: number | undefined, now: number): void {
  if (expiresAt !== undefined && now >= expiresAt) throw new ShoalError(ErrorCode.PermissionDenied, 'Token has expired');
}
