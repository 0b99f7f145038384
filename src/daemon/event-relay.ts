/**
 * The API's EventRelay port (src/api/ports.ts) between members: every event published on this
 * member is queued and pushed, in batches every 50 ms, to every other member's
 * `POST /internal/cluster/events` (HTTPS, authenticated by this member's certificate), where it
 * enters that member's hub with `injectRemote` (delivered, not relayed again). So a listener of
 * `/1.0/events` on any member sees the whole cluster's events, each once. LXD's full-mesh event
 * mode, pushed instead of pulled: no member keeps a listener open on every other one.
 *
 * Delivery is best effort, as in LXD: a member that cannot be reached misses the batch (logged at
 * debug level); order is kept per destination. The queue is bounded (oldest dropped first).
 */
import type { EventRelay } from '../api/index.js';
import type { api } from '../api/index.js';
import { errorMessage, type Disposable, type Logger } from '../shared/index.js';
import type { MemberHttps } from './member-https.js';

const FLUSH_MS = 50;
const MAX_QUEUED = 10_000;
/** Events per request (well under the API's 1 MiB body limit for ordinary events). */
const BATCH = 200;

export interface MemberEventRelayOptions {
  readonly https: MemberHttps;
  /** API URLs (`https://host:port`) of the other members, now. */
  readonly peers: () => readonly string[];
  readonly log: Logger;
}

export class MemberEventRelay implements EventRelay, Disposable {
  private queue: api.Event[] = [];
  private timer: NodeJS.Timeout | undefined;
  private dropped = 0;
  /** Per destination, the send in flight (batches to one member go out in order). */
  private readonly inflight = new Map<string, Promise<void>>();
  private disposed = false;

  constructor(private readonly o: MemberEventRelayOptions) {}

  send(event: api.Event): void {
    if (this.disposed) return;
    this.queue.push(event);
    if (this.queue.length > MAX_QUEUED) {
      this.queue.shift();
      this.dropped++;
    }
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    this.timer = undefined;
    const events = this.queue;
    this.queue = [];
    if (this.dropped > 0) {
      this.o.log.warn({ dropped: this.dropped }, 'event relay queue overflowed; oldest events dropped');
      this.dropped = 0;
    }
    if (events.length === 0) return;
    const batches: api.Event[][] = [];
    for (let i = 0; i < events.length; i += BATCH) batches.push(events.slice(i, i + BATCH));
    for (const url of this.o.peers()) {
      const prev = this.inflight.get(url) ?? Promise.resolve();
      const next = prev
        .then(async () => {
          for (const b of batches) await this.o.https.call('POST', `${url}/internal/cluster/events`, 3000, { events: b });
        })
        .then(
          () => undefined,
          (err: unknown) => this.o.log.debug({ peer: url, events: events.length, err: errorMessage(err) }, 'events not relayed to a member'),
        );
      this.inflight.set(url, next);
      void next.finally(() => {
        if (this.inflight.get(url) === next) this.inflight.delete(url);
      });
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.queue = [];
  }
}
