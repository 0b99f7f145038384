/**
 * Database writes of the instance routes that must survive a leader hiccup. A transaction cut
 * off by UNAVAILABLE / DEADLINE_EXCEEDED / NOT_LEADER may still commit (placement README), so
 * before retrying or reporting failure the writer re-reads and asks `settled(view)` whether the
 * change is already there.
 */
import { sleep, type Clock } from '../../shared/index.js';
import { instances, type InstanceRecord, type StateStore, type StateView, type WriteTx } from '../../state/index.js';
import { isAmbiguous } from './host.js';

const ATTEMPTS = 4;

/**
 * Runs `store.update(fn)`. After an ambiguous failure it waits, re-reads (linearizable) and
 * returns if `settled(view)`; otherwise it tries again (4 attempts), then rethrows the last error.
 * Other errors are thrown at once.
 */
export async function updateSettled<R>(
  store: StateStore,
  clock: Clock,
  fn: (tx: WriteTx) => R,
  settled: (view: StateView) => boolean,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await store.update(fn);
      return;
    } catch (err) {
      if (!isAmbiguous(err) || attempt >= ATTEMPTS) throw err;
      await sleep(clock, 250 * attempt);
      try {
        if (settled(await store.view())) return;
      } catch (readErr) {
        // Still no leader: the next attempt (or the last error) decides.
        if (!isAmbiguous(readErr)) throw readErr;
      }
    }
  }
}

/**
 * Records an observed status (and the agent's volatile keys, when given) on the instance, writing
 * only a change. No-op when the instance is gone. Survives a cut-off commit (see above).
 */
export async function writeStatus(
  store: StateStore,
  clock: Clock,
  project: string,
  name: string,
  status: InstanceRecord['status'],
  config?: (current: Readonly<Record<string, string>>) => Record<string, string> | undefined,
): Promise<void> {
  const target = (cur: InstanceRecord): InstanceRecord | undefined => {
    const nextConfig = config?.(cur.config);
    if (cur.status === status && !nextConfig) return undefined;
    return { ...cur, status, ...(nextConfig ? { config: nextConfig } : {}), ...(status === 'Running' ? { last_used_at: new Date(clock.now()).toISOString() } : {}) };
  };
  await updateSettled(
    store,
    clock,
    (tx) => {
      const cur = tx.get(instances, project, name)?.record;
      const next = cur && target(cur);
      if (next) tx.put(instances, next);
    },
    (view) => {
      const cur = view.get(instances, project, name)?.record;
      return !cur || cur.status === status;
    },
  );
}
