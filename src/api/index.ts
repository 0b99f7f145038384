/**
 * The public REST API: LXD 1.0 wire shapes over fastify. See README.md for the request pipeline,
 * the ports the daemon implements and the route pattern resource work follows.
 */
export { buildApp, type App, type ListenerOptions } from './app.js';
export { startApiServer, type ApiServer, type ApiServerOptions } from './server.js';
export type { ApiDeps } from './deps.js';
export { createApiDeps, type CreateApiDepsOptions } from './create-deps.js';
export { StateTrustStore } from './adapters/trust-store.js';
export { StateTrustTokenStore, TRUST_TOKEN_PREFIX } from './adapters/trust-token-store.js';
export { StateOperationStore, RESUME_KEY } from './adapters/operation-store.js';
export { StateServerConfig } from './adapters/server-config.js';
export type * from './ports.js';
export {
  TlsAuthenticator,
  UnixAuthenticator,
  checkAccess,
  checkProjectAccess,
  isAdmin,
  requestorOf,
  type AccessLevel,
  type Authenticator,
  type Identity,
} from './auth.js';
export { Forwarder, routeRequest, type MemberTls } from './forward.js';
export { OperationManager, type OperationManagerOptions } from './operations/manager.js';
export { MemoryOperationStore } from './operations/memory-store.js';
export type * from './operations/types.js';
export { EventHub, type EventFilter, type EventHubOptions, type EventListener } from './events/hub.js';
export { loggingEventStream } from './events/logging.js';
export { TRUST_TOKEN_OPERATION, trustTokenRevokers } from './routes/certificates-post.js';
export { encodeTrustToken, decodeTrustToken } from './certificates/trust-token.js';
export { PreconditionFailedError, HTTP_STATUS_OF_CODE, errorEnvelope } from './errors.js';
export { parseFilter, matchFilter, type FilterClause } from './filter.js';
export { commonParams, CommonQuery, type CommonParams } from './query.js';
export { expiryFrom } from './expiry.js';
export { raiseWarning, raiseWarningTx, resolveWarnings, resolveWarningsTx, type WarningMatch, type WarningSpec } from './warnings/index.js';
export * as api from './types/index.js';
