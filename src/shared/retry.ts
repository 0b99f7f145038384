/** The one retry helper: it reads the error's `retryable` flag, never the call site's guess. */
import type { Clock } from './clock.js';
import { ErrorCode, ShoalError } from './errors.js';

/** How often and how long to retry. Delays grow by `factor` up to `maxDelayMs`, with ±20% jitter. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor?: number;
  /** Overrides the default test `err instanceof ShoalError && err.retryable`. */
  readonly isRetryable?: (err: unknown) => boolean;
}

/** Resolves after `ms`, or rejects with CANCELLED when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ShoalError(ErrorCode.Cancelled, 'Operation cancelled'));
      return;
    }
    const onAbort = (): void => {
      timer.dispose();
      reject(new ShoalError(ErrorCode.Cancelled, 'Operation cancelled'));
    };
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Calls `fn` until it succeeds, a non-retryable error is thrown, or attempts run out. */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  clock: Clock,
  signal?: AbortSignal,
): Promise<T> {
  const retryable = policy.isRetryable ?? ((err: unknown) => err instanceof ShoalError && err.retryable);
  let delay = policy.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= policy.attempts || !retryable(err) || signal?.aborted) throw err;
    }
    const jitter = 0.8 + 0.4 * ((attempt * 7919) % 100) / 100;
    await sleep(clock, Math.min(policy.maxDelayMs, delay) * jitter, signal);
    delay *= policy.factor ?? 2;
  }
}
