/**
 * ReadBarrier: linearizable reads for many callers with few ReadIndex rounds (etcd's
 * linearizableReadLoop batches the same way). Callers that arrive within one turn of the event
 * loop share one round, started right after that turn, so every caller's round starts after it
 * asked. Rounds may overlap: a caller never waits for an older round to finish first, which would
 * add up to a whole round of latency under load.
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
  private scheduled = false;

  constructor(private readonly raft: ReadIndexer) {}

  /** Resolves when a read started after this call may be served from local state. */
  wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.round());
    });
  }

  private round(): void {
    this.scheduled = false;
    const batch = this.waiting;
    this.waiting = [];
    this.raft.readIndex().then(
      () => {
        for (const w of batch) w.resolve();
      },
      (err: unknown) => {
        for (const w of batch) w.reject(err);
      },
    );
  }
}
