/**
 * The event hub behind `/1.0/events` (LXD lxd/events). Local components publish operation,
 * lifecycle and logging events; subscribers (websocket listeners) receive those matching their
 * types and project. Every member must deliver the whole cluster's events, so local events also
 * go to an {@link EventRelay} (the cluster wiring sends them to other members), and events
 * received from other members enter through {@link EventHub.injectRemote}, which delivers them
 * locally without relaying them again.
 *
 * Project rule (LXD): an event with a project reaches listeners of that project and
 * all-projects listeners; an event without a project reaches everyone.
 * Delivery is synchronous and in publish order; listeners must not block (queue and send).
 */
import { toDisposable, type Clock, type Disposable, type Logger } from '../../shared/index.js';
import type { EventRelay } from '../ports.js';
import type { Event, EventLifecycleRequestor, EventType, Operation } from '../types/index.js';

/** What a listener wants. */
export interface EventFilter {
  readonly types: readonly EventType[];
  /** Ignored when `allProjects`. */
  readonly project: string;
  readonly allProjects: boolean;
  /** Members whose events this listener must not receive (a member subscribing for fan-in excludes itself). */
  readonly excludeLocations?: readonly string[];
}

/** Receives events; must not throw or block. */
export type EventListener = (event: Event) => void;

/** Options of {@link EventHub}. */
export interface EventHubOptions {
  readonly clock: Clock;
  /** This member's name, stamped as `location` on local events. */
  readonly memberName: () => string;
  readonly log: Logger;
  readonly relay?: EventRelay;
}

interface Subscription {
  readonly filter: EventFilter;
  readonly listener: EventListener;
}

/** Publish/subscribe for API events. Safe to use from any component; `close()` drops all listeners. */
export class EventHub {
  private readonly subs = new Set<Subscription>();

  constructor(private readonly options: EventHubOptions) {}

  /** Number of current subscriptions. */
  get subscriberCount(): number {
    return this.subs.size;
  }

  /** Registers `listener`; disposing unregisters it (idempotent). */
  subscribe(filter: EventFilter, listener: EventListener): Disposable {
    const sub: Subscription = { filter, listener };
    this.subs.add(sub);
    return toDisposable(() => this.subs.delete(sub));
  }

  /**
   * Publishes an event that happened on this member: stamps `timestamp` and `location`, delivers
   * it locally and hands it to the relay. Returns the stamped event.
   */
  publish(type: EventType, metadata: unknown, project?: string): Event {
    const event: Event = {
      type,
      timestamp: new Date(this.options.clock.now()).toISOString(),
      metadata,
      location: this.options.memberName(),
      ...(project ? { project } : {}),
    };
    this.deliver(event, true);
    if (this.options.relay) {
      try {
        this.options.relay.send(event);
      } catch (err) {
        // Local delivery already happened; a relay failure must not fail the publisher.
        this.options.log.warn({ err }, 'event relay failed');
      }
    }
    return event;
  }

  /** Delivers an event received from another member (not relayed again). */
  injectRemote(event: Event): void {
    this.deliver(event, false);
  }

  /** Publishes an `operation` event carrying the operation. */
  operation(op: Operation, project: string): Event {
    return this.publish('operation', op, project);
  }

  /** Publishes a `lifecycle` event (`action` from LifecycleAction, `source` the object's URL). */
  lifecycle(
    project: string,
    action: string,
    source: string,
    context?: Readonly<Record<string, unknown>>,
    requestor?: EventLifecycleRequestor,
  ): Event {
    return this.publish(
      'lifecycle',
      { action, source, ...(context ? { context } : {}), ...(requestor ? { requestor } : {}) },
      project,
    );
  }

  /** Publishes a `logging` event (LXD sends its own log lines to admin listeners). */
  logging(level: string, message: string, context: Readonly<Record<string, string>>): Event {
    return this.publish('logging', { message, level, context });
  }

  /** Drops every subscription. */
  close(): void {
    this.subs.clear();
  }

  private deliver(event: Event, local: boolean): void {
    for (const sub of [...this.subs]) {
      const f = sub.filter;
      if (event.project && !f.allProjects && event.project !== f.project) continue;
      if (!f.types.includes(event.type as EventType)) continue;
      if (!local && event.location !== undefined && f.excludeLocations?.includes(event.location)) continue;
      try {
        sub.listener(event);
      } catch (err) {
        // One broken listener must not starve the others; it is dropped.
        this.options.log.warn({ err }, 'event listener failed; unsubscribed');
        this.subs.delete(sub);
      }
    }
  }
}
