/**
 * ReadBarrier: linearizable reads for many callers with few ReadIndex rounds (etcd's
 * linearizableReadLoop). Callers that arrive while a round is in flight wait for the next round,
 * which starts when the current one ends, so every caller's barrier starts after it asked.
 */

/** What the barrier needs of Raft: resolve once this member applied up to a fresh read index. */
export interface ReadIndexer {
  readIndex(signal?: AbortSignal): Promise<void>;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export class ReadBarrier {
  private waiting: Waiter[] = [];
  private running = false;

  constructor(private readonly raft: ReadIndexer) {}

  /** Resolves when a read started after this call may be served from local state. */
  wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.running) void this.loop();
    });
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting;
        this.waiting = [];
        try {
          await this.raft.readIndex();
          for (const w of batch) w.resolve();
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
