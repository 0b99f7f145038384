/**
 * What the instance logic needs, gathered once per app from ApiDeps: the cluster database (the
 * leader's store: routes are served by the leader), the members' agents, events, operations, and
 * the image locator when the API has one.
 */
import { ErrorCode, ShoalError, type Clock, type Logger } from '../../shared/index.js';
import type { StateStore } from '../../state/index.js';
import type { ApiDeps } from '../deps.js';
import type { EventHub } from '../events/hub.js';
import type { OperationManager } from '../operations/manager.js';
import type { EventLifecycleRequestor } from '../types/index.js';
import { agentsOf, type Agent } from './host.js';
import type { InstanceImages } from './images.js';

/** Shared by the instance routes of one app. */
export interface InstanceContext {
  readonly store: StateStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly events: EventHub;
  readonly operations: OperationManager;
  /** The agent of `member` (NOT_FOUND unknown member; UNAVAILABLE when the API has no agents). */
  agent(member: string): Agent;
  /** Cluster-wide image locator (api-images); absent: images resolve from the database and must be on the member. */
  readonly images: InstanceImages | undefined;
}

/** Builds the context; INTERNAL when the API has no cluster database (the routes are not registered then). */
export function instanceContext(deps: ApiDeps, images?: InstanceImages): InstanceContext {
  const store = deps.state;
  if (!store) throw new ShoalError(ErrorCode.Internal, 'Instances need the cluster database');
  return {
    store,
    clock: deps.clock,
    log: deps.log.child({ component: 'api-instances' }),
    events: deps.events,
    operations: deps.operations,
    agent: (member) => agentsOf(deps).client(member),
    images,
  };
}

/** Emits a lifecycle event for an instance (or one of its snapshots) after the change committed. */
export function instanceEvent(
  ctx: InstanceContext,
  project: string,
  action: string,
  source: string,
  requestor: EventLifecycleRequestor | undefined,
  context?: Readonly<Record<string, unknown>>,
): void {
  ctx.events.lifecycle(project, action, source, context, requestor);
}
