/**
 * StateTrustTokenStore: pending trust tokens, cluster-wide, as raw keys `api/trust-tokens/<secret
 * hash>` in the replicated database (JSON; the secret itself is never stored). `take` is one
 * conditional transaction (the key still at the revision read), so a token is used once even when
 * two members receive it at the same time.
 */
import { ErrorCode, ShoalError } from '../../shared/index.js';
import { cmp, type StateStore } from '../../state/index.js';
import type { PendingTrustToken } from '../ports.js';
import type { TrustTokenStore } from '../ports.js';

/** Key prefix of pending trust tokens. */
export const TRUST_TOKEN_PREFIX = 'api/trust-tokens/';

const enc = new TextEncoder();
const dec = new TextDecoder();

function decode(value: Uint8Array): PendingTrustToken {
  const j = JSON.parse(dec.decode(value)) as PendingTrustToken & { expiresAt: number | null };
  return { ...j, expiresAt: j.expiresAt ?? undefined };
}

/** See the module comment. */
export class StateTrustTokenStore implements TrustTokenStore {
  constructor(private readonly store: StateStore) {}

  async add(token: PendingTrustToken): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(token.secretHash)) throw new ShoalError(ErrorCode.InvalidArgument, 'Invalid trust token: secret hash is not a SHA-256 digest');
    const key = TRUST_TOKEN_PREFIX + token.secretHash;
    const value = enc.encode(JSON.stringify({ ...token, expiresAt: token.expiresAt ?? null }));
    const res = await this.store.txn({ compare: [cmp.absent(key)], success: [{ kind: 'put', key, value }], failure: [] });
    if (!res.succeeded) throw new ShoalError(ErrorCode.AlreadyExists, 'Trust token already exists');
  }

  async take(secretHash: string): Promise<PendingTrustToken | undefined> {
    if (!/^[0-9a-f]{64}$/.test(secretHash)) return undefined;
    const key = TRUST_TOKEN_PREFIX + secretHash;
    const kv = (await this.store.read()).getKv(key);
    if (!kv) return undefined;
    const res = await this.store.txn({ compare: [cmp.modRevision(key, '=', kv.modRevision)], success: [{ kind: 'delete', key }], failure: [] });
    return res.succeeded ? decode(kv.value) : undefined;
  }

  async remove(operationId: string): Promise<void> {
    for (const t of await this.list()) {
      if (t.operationId !== operationId) continue;
      const key = TRUST_TOKEN_PREFIX + t.secretHash;
      await this.store.txn({ compare: [], success: [{ kind: 'delete', key }], failure: [] });
    }
  }

  async list(): Promise<readonly PendingTrustToken[]> {
    const { kvs } = (await this.store.read()).range(TRUST_TOKEN_PREFIX);
    return kvs.map((kv) => decode(kv.value));
  }
}
