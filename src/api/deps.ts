/** Everything the API needs, passed to {@link buildApp} (the daemon wires the real implementations). */
import type { Clock, Logger } from '../shared/index.js';
import type { EventHub } from './events/hub.js';
import type { ImageLocator } from './images/locator.js';
import type { Forwarder } from './forward.js';
import type { OperationManager } from './operations/manager.js';
import type { ClusterMembership } from './routes/cluster/port.js';
import type { StateStore } from '../state/index.js';
import type { Leadership, MemberAgents, MemberDirectory, ServerConfig, ServerInfo, TrustStore, TrustTokenStore } from './ports.js';

/**
 * Shared by every listener of one member: build it once and pass it to each `buildApp` call
 * (HTTPS and unix socket), so both see the same operations and events.
 */
export interface ApiDeps {
  /** Root logger; the app takes `child({component: 'api'})`. */
  readonly log: Logger;
  readonly clock: Clock;
  readonly serverInfo: ServerInfo;
  readonly serverConfig: ServerConfig;
  readonly trust: TrustStore;
  readonly trustTokens: TrustTokenStore;
  readonly leadership: Leadership;
  /** For `?target=` forwarding; absent on a member that is not clustered. */
  readonly members?: MemberDirectory;
  readonly operations: OperationManager;
  readonly events: EventHub;
  /** Proxies to other members; absent when this member never forwards (not clustered). */
  readonly forwarder?: Forwarder;
  /** Membership and join tokens for the /1.0/cluster routes; absent when not clustered. */
  readonly cluster?: ClusterMembership;
  /**
   * Expiry of trust tokens when `core.remote_token_expiry` is unset, as an LXD expiry expression
   * (default "1d"; "" = never, which is LXD's default).
   */
  readonly defaultTrustTokenExpiry?: string;
  /** The cluster database; resource routes (/1.0/profiles, /1.0/projects, …) are served only when present. */
  readonly state?: StateStore;
  /** Host work on members; routes that need it answer 501 without it. */
  readonly agents?: MemberAgents;
  /** Finds images and copies them to the member that needs them (present when state and agents are). */
  readonly images?: ImageLocator;
}
