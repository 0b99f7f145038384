/**
 * Helpers of the real-process Raft KV tests: a per-test cluster with guaranteed clean-up, a
 * concurrent writer load that records acknowledged keys, and convergence checks.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';
import { KvCluster, sleep, type KvClusterOptions } from '../../support/kv-cluster.js';

/** Creates a cluster in a fresh temp dir; register `destroy` in afterEach. */
export async function newCluster(size: number, extra: Partial<KvClusterOptions> = {}): Promise<KvCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-kv-it-'));
  return KvCluster.create({ dir, size, ...extra });
}

/** Writers putting unique keys to whichever member is leader; a failed write is never retried with the same key. */
export class WriteLoad {
  readonly acked = new Set<string>();
  failures = 0;
  private leader = 0;
  private running = true;
  private readonly done: Promise<void>[] = [];

  constructor(
    private readonly c: KvCluster,
    private readonly ids: () => readonly number[],
    writers: number,
    private readonly prefix = 'w',
  ) {
    for (let w = 0; w < writers; w++) this.done.push(this.writer(w));
  }

  private async writer(w: number): Promise<void> {
    let i = 0;
    while (this.running) {
      const key = `${this.prefix}${w}-${i++}`;
      const target = this.leader || this.ids()[0]!;
      try {
        await this.c.put(target, key, `value-${key}`, 1000);
        this.acked.add(key);
      } catch (err) {
        this.failures++;
        const hint = isShoalError(err, ErrorCode.NotLeader) ? Number(err.details?.['leaderHint'] ?? 0) : 0;
        if (hint && this.ids().includes(hint)) {
          this.leader = hint;
        } else {
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

/** Waits until members `ids` report the same applied index and state digest; returns the digest. */
export async function converge(c: KvCluster, ids: readonly number[], timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const st = await Promise.all(ids.map((id) => c.status(id, true, 5000).catch(() => undefined)));
    if (st.every((s) => s !== undefined)) {
      const applied = new Set(st.map((s) => s!.applied));
      const digests = new Set(st.map((s) => s!.digest));
      if (applied.size === 1 && digests.size === 1) return st[0]!.digest;
      last = JSON.stringify(st.map((s) => [s!.id, s!.applied, s!.digest.slice(0, 8)]));
    }
    if (Date.now() > deadline) assert.fail(`members ${ids.join(',')} did not converge: ${last}`);
    await sleep(200);
  }
}
