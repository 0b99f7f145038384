/**
 * Join tokens, encoded exactly as LXD encodes them (shared/api/cluster.go
 * ClusterMemberJoinToken.String): standard padded base64 of the JSON object
 * `{ server_name, fingerprint, addresses, secret, expires_at }`, so `lxc cluster add` output and
 * Shoal's are interchangeable. Decoding is strict (swarmkit's ParseJoinToken): every field must be
 * present, well-formed and non-empty, or the token is rejected with one INVALID_ARGUMENT error.
 *
 * The secret is 32 random bytes (64 hex). Only its SHA-256 is stored in the cluster database; the
 * secret has full entropy, so a plain hash cannot be brute-forced and no slow KDF is needed.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCode, ShoalError } from '../shared/errors.js';

/** A decoded join token. */
export interface JoinToken {
  /** Name the joining member will have. */
  readonly serverName: string;
  /** SHA-256 (hex) of the cluster certificate's DER; the joiner refuses any other certificate. */
  readonly fingerprint: string;
  /** host:port of members that can take the join (the joiner tries them in order). */
  readonly addresses: readonly string[];
  /** 64 hex characters. */
  readonly secret: string;
  /** Expiry, epoch milliseconds. */
  readonly expiresAt: number;
}

const HEX64 = /^[0-9a-f]{64}$/;
const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const MEMBER_NAME = /^[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

/** Encodes `token` as LXD does. Throws INVALID_ARGUMENT if a field is malformed. */
export function encodeJoinToken(token: JoinToken): string {
  const problem = checkToken(token);
  if (problem) throw invalid(problem);
  const json = JSON.stringify({
    server_name: token.serverName,
    fingerprint: token.fingerprint,
    addresses: token.addresses,
    secret: token.secret,
    expires_at: new Date(token.expiresAt).toISOString(),
  });
  return Buffer.from(json, 'utf8').toString('base64');
}

/** Decodes and validates a token. Throws INVALID_ARGUMENT "Invalid join token: …". Does not check expiry. */
export function decodeJoinToken(encoded: string): JoinToken {
  const text = encoded.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) throw invalid('not base64');
  const raw = Buffer.from(text, 'base64');
  // Reject non-canonical encodings (which decode to the same bytes) so a token has one spelling.
  if (raw.toString('base64') !== text) throw invalid('not base64');
  let obj: unknown;
  try {
    obj = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw invalid('not JSON', err);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw invalid('not a JSON object');
  const o = obj as Record<string, unknown>;
  const known = new Set(['server_name', 'fingerprint', 'addresses', 'secret', 'expires_at']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw invalid(`unknown field "${k}"`);
  const { server_name, fingerprint, addresses, secret, expires_at } = o;
  if (typeof server_name !== 'string') throw invalid('missing server_name');
  if (typeof fingerprint !== 'string') throw invalid('missing fingerprint');
  if (!Array.isArray(addresses) || !addresses.every((a): a is string => typeof a === 'string')) {
    throw invalid('missing addresses');
  }
  if (typeof secret !== 'string') throw invalid('missing secret');
  if (typeof expires_at !== 'string') throw invalid('missing expires_at');
  const expiresAt = Date.parse(expires_at);
  if (!RFC3339.test(expires_at) || !Number.isFinite(expiresAt)) throw invalid('bad expires_at');
  const token: JoinToken = { serverName: server_name, fingerprint, addresses, secret, expiresAt };
  const problem = checkToken(token);
  if (problem) throw invalid(problem);
  return token;
}

function checkToken(t: JoinToken): string | null {
  if (!MEMBER_NAME.test(t.serverName)) return `bad server_name "${t.serverName}"`;
  if (!HEX64.test(t.fingerprint)) return 'bad fingerprint';
  if (t.addresses.length === 0) return 'no addresses';
  for (const a of t.addresses) if (!ADDRESS.test(a)) return `bad address "${a}"`;
  if (!HEX64.test(t.secret)) return 'bad secret';
  if (!Number.isFinite(t.expiresAt)) return 'bad expires_at';
  return null;
}

function invalid(why: string, cause?: unknown): ShoalError {
  return new ShoalError(ErrorCode.InvalidArgument, `Invalid join token: ${why}`, cause === undefined ? {} : { cause });
}

/** A new random secret: 32 bytes as 64 lowercase hex characters. */
export function newJoinSecret(): string {
  return randomBytes(32).toString('hex');
}

/** What the cluster database stores instead of the secret. */
export function hashJoinSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time check of a presented secret against a stored hash. */
export function joinSecretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashJoinSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
