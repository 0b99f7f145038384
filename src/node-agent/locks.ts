/**
 * Keyed shared/exclusive locks serializing the service's work per host object. Creating an
 * instance holds its own key exclusively and its pool and networks shared, so twenty creates run
 * in parallel while a network delete (exclusive on the network) waits for them and then sees
 * their nics. Keys are taken in sorted order, so two callers never deadlock.
 */

/** One key to hold and how. */
export interface LockRequest {
  readonly key: string;
  readonly mode: 'shared' | 'exclusive';
}

interface Waiter {
  readonly mode: 'shared' | 'exclusive';
  readonly grant: () => void;
}

interface KeyState {
  shared: number;
  exclusive: boolean;
  readonly queue: Waiter[];
}

/** Lock names used by the service. */
export const lockKey = {
  instance: (project: string, name: string): string => `instance/${project}/${name}`,
  network: (name: string): string => `network/${name}`,
  pool: (name: string): string => `pool/${name}`,
  volume: (pool: string, name: string): string => `volume/${pool}/${name}`,
  image: (fingerprint: string): string => `image/${fingerprint}`,
} as const;

/** FIFO-fair keyed readers/writer locks (a queued exclusive request blocks later shared ones). */
export class KeyedLock {
  private readonly keys = new Map<string, KeyState>();

  /** Runs `fn` while holding every requested key; releases them when it settles. */
  async with<T>(requests: readonly LockRequest[], fn: () => Promise<T>): Promise<T> {
    const merged = new Map<string, 'shared' | 'exclusive'>();
    for (const r of requests) {
      if (merged.get(r.key) !== 'exclusive') merged.set(r.key, r.mode);
    }
    const ordered = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const held: Array<[string, 'shared' | 'exclusive']> = [];
    try {
      for (const [key, mode] of ordered) {
        await this.acquire(key, mode);
        held.push([key, mode]);
      }
      return await fn();
    } finally {
      for (const [key, mode] of held.reverse()) this.release(key, mode);
    }
  }

  /** Number of keys currently held or waited on (for tests). */
  get size(): number {
    return this.keys.size;
  }

  private acquire(key: string, mode: 'shared' | 'exclusive'): Promise<void> {
    let st = this.keys.get(key);
    if (!st) {
      st = { shared: 0, exclusive: false, queue: [] };
      this.keys.set(key, st);
    }
    if (st.queue.length === 0 && canGrant(st, mode)) {
      take(st, mode);
      return Promise.resolve();
    }
    const state = st;
    return new Promise<void>((resolve) => {
      state.queue.push({ mode, grant: resolve });
    });
  }

  private release(key: string, mode: 'shared' | 'exclusive'): void {
    const st = this.keys.get(key);
    if (!st) return;
    if (mode === 'exclusive') st.exclusive = false;
    else st.shared--;
    while (st.queue.length > 0) {
      const next = st.queue[0];
      if (!next || !canGrant(st, next.mode)) break;
      st.queue.shift();
      take(st, next.mode);
      next.grant();
    }
    if (st.shared === 0 && !st.exclusive && st.queue.length === 0) this.keys.delete(key);
  }
}

function canGrant(st: KeyState, mode: 'shared' | 'exclusive'): boolean {
  return mode === 'shared' ? !st.exclusive : !st.exclusive && st.shared === 0;
}

function take(st: KeyState, mode: 'shared' | 'exclusive'): void {
  if (mode === 'exclusive') st.exclusive = true;
  else st.shared++;
}
