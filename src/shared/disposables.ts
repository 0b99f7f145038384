/** Lifetimes: everything that owns a timer, stream, server or child process is disposable. */

/** Something with a synchronous release. Idempotent: a second `dispose()` does nothing. */
export interface Disposable {
  dispose(): void;
}

/** Something with an asynchronous release. Idempotent: a second `close()` resolves at once. */
export interface AsyncDisposable {
  close(): Promise<void>;
}

/** Builds a Disposable from a function, guarding against double release. */
export function toDisposable(fn: () => void): Disposable {
  let done = false;
  return {
    dispose(): void {
      if (done) return;
      done = true;
      fn();
    },
  };
}

/**
 * Owns a set of disposables and releases them in reverse order of registration (vscode
 * `DisposableStore`). After `close()`, adding disposes the new item at once.
 */
export class DisposableStore implements AsyncDisposable {
  private readonly items: Array<Disposable | AsyncDisposable> = [];
  private closed = false;

  /** Registers `item` and returns it. */
  add<T extends Disposable | AsyncDisposable>(item: T): T {
    if (this.closed) {
      void releaseOne(item);
      return item;
    }
    this.items.push(item);
    return item;
  }

  /** Releases everything in reverse order; collects failures and throws the first after all ran. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let first: unknown;
    for (const item of this.items.reverse()) {
      try {
        await releaseOne(item);
      } catch (err) {
        first ??= err;
      }
    }
    this.items.length = 0;
    if (first !== undefined) throw first;
  }
}

async function releaseOne(item: Disposable | AsyncDisposable): Promise<void> {
  if ('dispose' in item) item.dispose();
  else await item.close();
}
