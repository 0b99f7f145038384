/**
 * Image secrets (LXD `POST /1.0/images/<fp>/secret`): a token operation whose metadata carries a
 * random secret; `GET /1.0/images/<fp>?secret=` and `/export?secret=` accept it from untrusted
 * callers. The export uses it up (the operation is cancelled, as LXD does); it also ends when
 * cancelled or after `ttlMs`. Secrets live in this member's memory (the leader serves images):
 * a leader change invalidates them, which only costs the client a new secret.
 */
import { ErrorCode, isShoalError, randomHex } from '../../shared/index.js';
import type { OperationManager } from '../operations/manager.js';
import type { Operation } from '../types/index.js';
import { imageUrl } from './records.js';

interface Entry {
  readonly fingerprint: string;
  readonly operationId: string;
}

export class ImageSecrets {
  private readonly bySecret = new Map<string, Entry>();

  constructor(
    private readonly operations: OperationManager,
    private readonly now: () => number,
    private readonly ttlMs = 24 * 3600_000,
  ) {}

  /** Creates a secret for `fingerprint` and returns its token operation (metadata `secret`, `fingerprint`). */
  async create(project: string, fingerprint: string, requestId: string): Promise<Operation> {
    const secret = randomHex(32);
    const op = await this.operations.createToken({
      type: 'image-secret',
      description: 'Image download token',
      project,
      resources: { images: [imageUrl(project, fingerprint)] },
      metadata: { secret, fingerprint },
      secretKeys: ['secret'],
      requestId,
      expiresAt: this.now() + this.ttlMs,
      onCancel: async () => {
        this.bySecret.delete(secret);
      },
    });
    this.bySecret.set(secret, { fingerprint, operationId: op.id });
    return op;
  }

  /** True when `secret` is live and was made for `fingerprint`. */
  valid(secret: string, fingerprint: string): boolean {
    return this.bySecret.get(secret)?.fingerprint === fingerprint;
  }

  /** Uses the secret up (single use): it is removed and its operation cancelled. */
  async consume(secret: string): Promise<void> {
    const e = this.bySecret.get(secret);
    if (!e) return;
    this.bySecret.delete(secret);
    try {
      await this.operations.cancel(e.operationId);
    } catch (err) {
      // Already ended (expired, cancelled): nothing is left to revoke.
      if (!isShoalError(err, ErrorCode.NotFound) && !isShoalError(err, ErrorCode.FailedPrecondition)) throw err;
    }
  }
}
