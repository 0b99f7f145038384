/**
 * createApiDeps: what the daemon calls to get the API's dependencies over the replicated
 * database. The API supplies the state-backed ports it owns (trust store, trust tokens, operation
 * store, server config), the OperationManager and the EventHub; the daemon supplies only what needs
 * cluster knowledge (session contracts §2).
 */
import { systemClock, type Clock, type Logger } from '../shared/index.js';
import type { StateStore } from '../state/index.js';
import { StateOperationStore } from './adapters/operation-store.js';
import { StateServerConfig } from './adapters/server-config.js';
import { StateTrustStore } from './adapters/trust-store.js';
import { StateTrustTokenStore } from './adapters/trust-token-store.js';
import type { ApiDeps } from './deps.js';
import { EventHub } from './events/hub.js';
import { AgentImageLocator } from './images/locator.js';
import type { Forwarder } from './forward.js';
import { OperationManager } from './operations/manager.js';
import type { EventRelay, Leadership, MemberAgents, MemberDirectory, ServerInfo } from './ports.js';

export interface CreateApiDepsOptions {
  readonly store: StateStore;
  readonly log: Logger;
  /** Default systemClock. */
  readonly clock?: Clock;
  readonly serverInfo: ServerInfo;
  readonly leadership: Leadership;
  readonly members?: MemberDirectory;
  readonly relay?: EventRelay;
  readonly agents?: MemberAgents;
  readonly forwarder?: Forwarder;
  /** How long finished operations stay queryable (default 30 s). */
  readonly operationRetentionMs?: number;
  readonly defaultTrustTokenExpiry?: string;
}

/**
 * Builds the dependencies shared by every listener of one member. Call once; pass the result to
 * each `buildApp`. After this member becomes leader, call `deps.operations.recover(resumers)` to
 * pick up operations a previous leader left. `close` the OperationManager and EventHub at shutdown.
 */
export function createApiDeps(o: CreateApiDepsOptions): ApiDeps {
  const clock = o.clock ?? systemClock;
  const memberName = (): string => o.serverInfo.memberName();
  const events = new EventHub({ clock, memberName, log: o.log, ...(o.relay ? { relay: o.relay } : {}) });
  const operations = new OperationManager({
    store: new StateOperationStore(o.store),
    events,
    clock,
    log: o.log,
    memberName,
    ...(o.operationRetentionMs !== undefined ? { retentionMs: o.operationRetentionMs } : {}),
  });
  return {
    log: o.log,
    clock,
    serverInfo: o.serverInfo,
    serverConfig: new StateServerConfig(o.store, memberName),
    trust: new StateTrustStore(o.store),
    trustTokens: new StateTrustTokenStore(o.store),
    leadership: o.leadership,
    operations,
    events,
    state: o.store,
    ...(o.members ? { members: o.members } : {}),
    ...(o.agents ? { agents: o.agents, images: new AgentImageLocator({ store: o.store, agents: o.agents, log: o.log.child({ component: 'images' }) }) } : {}),
    ...(o.forwarder ? { forwarder: o.forwarder } : {}),
    ...(o.defaultTrustTokenExpiry !== undefined ? { defaultTrustTokenExpiry: o.defaultTrustTokenExpiry } : {}),
  };
}
