/**
 * Join tokens in the database: only the SHA-256 of the secret is stored (the same digest as
 * src/cluster/join-token.ts `hashJoinSecret`, checked by a test), one live token per member name,
 * single use, with an expiry. The cluster module issues and verifies tokens through these.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ErrorCode, ShoalError } from '../shared/index.js';
import type { WriteTx } from './store/write-tx.js';
import { joinTokens, members, type JoinTokenRecord } from './tables/cluster.js';

/** SHA-256 hex of the secret's UTF-8 bytes. */
export function joinSecretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * Records a token for `serverName`, replacing a previous one (LXD: re-issuing cancels the old
 * token). ALREADY_EXISTS when a member of that name exists.
 */
export function putJoinToken(tx: WriteTx, t: { serverName: string; secret: string; expiresAt: string; createdAt: string; operation: string }): JoinTokenRecord {
  if (tx.get(members, t.serverName)) throw new ShoalError(ErrorCode.AlreadyExists, `Member "${t.serverName}" already exists`);
  const record: JoinTokenRecord = {
    server_name: t.serverName,
    secret_hash: joinSecretDigest(t.secret),
    expires_at: t.expiresAt,
    created_at: t.createdAt,
    operation: t.operation,
  };
  tx.put(joinTokens, record);
  return record;
}

/**
 * Uses up the token of `serverName` if `secret` matches and it has not expired at `now` (epoch
 * ms): deletes it and returns it. PERMISSION_DENIED otherwise, without saying which check failed.
 */
export function consumeJoinToken(tx: WriteTx, serverName: string, secret: string, now: number): JoinTokenRecord {
  const denied = (): ShoalError => new ShoalError(ErrorCode.PermissionDenied, `No valid join token for member "${serverName}"`);
  const stored = tx.get(joinTokens, serverName);
  if (!stored) throw denied();
  const a = Buffer.from(joinSecretDigest(secret), 'hex');
  const b = Buffer.from(stored.record.secret_hash, 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw denied();
  if (Date.parse(stored.record.expires_at) <= now) throw denied();
  tx.delete(joinTokens, serverName);
  return stored.record;
}
