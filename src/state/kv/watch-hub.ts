/**
 * WatchHub: the event history of the state machine and its in-process watchers (etcd's watchable
 * store, in memory). Every command that changes keys appends its events at its revision; watchers
 * subscribe to a key prefix from a revision and receive the history from there, then live events,
 * in revision order, always asynchronously (never inside the caller of watch() or apply()).
 *
 * Retention is bounded: beyond `maxEvents` the oldest revisions are dropped and become compacted.
 * A watch from a compacted revision fails with FAILED_PRECONDITION naming the oldest revision
 * still available (details.compactRevision); so does a live watch when the state is replaced by a
 * snapshot (the events in between are unknown). The history is not persisted: after a restart the
 * revision the state machine starts at counts as compacted.
 */
import { ErrorCode, ShoalError, toDisposable, type Disposable } from '../../shared/index.js';
import type { KeyValueView } from './record.js';

/** One change. For a delete, `kv` is the key with an empty value at the delete's revision. */
export interface KvEvent {
  readonly type: 'put' | 'delete';
  readonly revision: number;
  readonly kv: KeyValueView;
  /** The key before the change (absent for a creation). */
  readonly prev?: KeyValueView;
}

/** What a watcher is called with. `error` ends the watch (compaction or restore). */
export interface WatchObserver {
  next(events: readonly KvEvent[]): void;
  error?(err: ShoalError): void;
}

/** Called when an observer throws; the watch is cancelled (an observer must not throw). */
export type ObserverFailure = (err: unknown, prefix: string) => void;

interface Watcher {
  readonly prefix: string;
  readonly observer: WatchObserver;
  queue: KvEvent[];
  scheduled: boolean;
  closed: boolean;
  failure: ShoalError | undefined;
}

/** Default number of events kept for watchers that start in the past. */
export const DEFAULT_HISTORY_EVENTS = 20_000;

export class WatchHub {
  /** Events by revision, oldest first. Invariant: revisions strictly increase. */
  private history: { revision: number; events: readonly KvEvent[] }[] = [];
  private head = 0;
  private eventCount = 0;
  private readonly watchers = new Set<Watcher>();
  /** Events at or below this revision are no longer available. */
  private compacted: number;

  constructor(
    startRevision: number,
    private readonly maxEvents: number = DEFAULT_HISTORY_EVENTS,
    private readonly onObserverFailure: ObserverFailure = () => undefined,
  ) {
    this.compacted = startRevision;
  }

  /** The highest revision whose events are gone (watch from compactRevision + 1 onwards). */
  get compactRevision(): number {
    return this.compacted;
  }

  /** Number of live watchers. */
  get size(): number {
    return this.watchers.size;
  }

  /** Appends the events of one revision and hands them to matching watchers. */
  record(revision: number, events: readonly KvEvent[]): void {
    if (events.length === 0) return;
    this.history.push({ revision, events });
    this.eventCount += events.length;
    while (this.eventCount > this.maxEvents && this.head < this.history.length - 1) {
      const old = this.history[this.head++]!;
      this.eventCount -= old.events.length;
      this.compacted = old.revision;
    }
    if (this.head > 1024 && this.head * 2 > this.history.length) {
      this.history = this.history.slice(this.head);
      this.head = 0;
    }
    for (const w of this.watchers) {
      const mine = events.filter((e) => e.kv.key.startsWith(w.prefix));
      if (mine.length > 0) this.enqueue(w, mine);
    }
  }

  /**
   * Watches keys under `prefix` (`''` = all). With `fromRevision`, events at revisions >= it are
   * replayed first; throws FAILED_PRECONDITION if that history was compacted. Without it, only
   * events after this call are delivered. Dispose to stop.
   */
  watch(prefix: string, fromRevision: number | undefined, observer: WatchObserver): Disposable {
    if (fromRevision !== undefined && fromRevision <= this.compacted) throw compactedError(prefix, fromRevision, this.compacted);
    const w: Watcher = { prefix, observer, queue: [], scheduled: false, closed: false, failure: undefined };
    if (fromRevision !== undefined) {
      const past: KvEvent[] = [];
      for (let i = this.head; i < this.history.length; i++) {
        const h = this.history[i]!;
        if (h.revision < fromRevision) continue;
        for (const e of h.events) if (e.kv.key.startsWith(prefix)) past.push(e);
      }
      if (past.length > 0) this.enqueue(w, past);
    }
    this.watchers.add(w);
    return toDisposable(() => {
      w.closed = true;
      this.watchers.delete(w);
    });
  }

  /**
   * Forgets the history: the state jumped to `revision` (a snapshot was restored). Every watcher
   * gets FAILED_PRECONDITION (it must re-read and watch again) and is removed.
   */
  reset(revision: number): void {
    const missed = this.compacted < revision ? this.compacted + 1 : revision;
    this.history = [];
    this.head = 0;
    this.eventCount = 0;
    this.compacted = revision;
    for (const w of this.watchers) {
      w.failure = compactedError(w.prefix, missed, revision);
      this.schedule(w);
    }
    this.watchers.clear();
  }

  private enqueue(w: Watcher, events: readonly KvEvent[]): void {
    for (const e of events) w.queue.push(e);
    this.schedule(w);
  }

  private schedule(w: Watcher): void {
    if (w.scheduled) return;
    w.scheduled = true;
    queueMicrotask(() => this.flush(w));
  }

  private flush(w: Watcher): void {
    w.scheduled = false;
    const events = w.queue;
    w.queue = [];
    try {
      if (!w.closed && events.length > 0) w.observer.next(events);
      if (w.failure && !w.closed) {
        w.closed = true;
        w.observer.error?.(w.failure);
      }
    } catch (err) {
      w.closed = true;
      this.watchers.delete(w);
      this.onObserverFailure(err, w.prefix);
    }
  }
}

function compactedError(prefix: string, from: number, compacted: number): ShoalError {
  return new ShoalError(
    ErrorCode.FailedPrecondition,
    `Cannot watch "${prefix}" from revision ${from}: revisions up to ${compacted} were compacted`,
    { details: { compactRevision: compacted, fromRevision: from } },
  );
}
