/**
 * Helpers of the real-process cluster-database tests: a per-test StateCluster in a temp dir, and
 * a transaction load that sends each transaction to the current leader (following NOT_LEADER
 * hints), counting acknowledged and failed transactions.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';
import type { Txn } from '../../../src/state/index.js';
import type { KvClusterOptions } from '../../support/kv-cluster.js';
import { sleep, StateCluster } from '../../support/state-cluster.js';

export async function newStateCluster(size: number, extra: Partial<KvClusterOptions> = {}): Promise<StateCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-state-it-'));
  return StateCluster.create({ dir, size, ...extra });
}

/** `writers` loops each sending `make(n)` (n unique across the load) to the leader until stopped. */
export class TxnLoad {
  acked = 0;
  failed = 0;
  sent = 0;
  private leader = 0;
  private running = true;
  private readonly done: Promise<void>[] = [];

  constructor(
    private readonly c: StateCluster,
    private readonly ids: () => readonly number[],
    writers: number,
    private readonly make: (n: number) => Txn,
  ) {
    for (let w = 0; w < writers; w++) this.done.push(this.writer());
  }

  private async writer(): Promise<void> {
    while (this.running) {
      const target = this.leader || this.ids()[0]!;
      const n = this.sent++;
      try {
        await this.c.txn(target, this.make(n), 2000);
        this.acked++;
      } catch (err) {
        this.failed++;
        const hint = isShoalError(err, ErrorCode.NotLeader) ? Number(err.details?.['leaderHint'] ?? 0) : 0;
        if (hint && this.ids().includes(hint)) this.leader = hint;
        else {
          const ids = this.ids();
          this.leader = ids[(ids.indexOf(target) + 1) % ids.length] ?? 0;
          await sleep(50);
        }
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.done);
  }
}
