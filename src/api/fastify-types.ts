/** What Shoal adds to fastify's request and route config types (module augmentation). */
import type { WebSocket } from 'ws';
import type { AccessLevel, Identity } from './auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook before anything else runs. */
    identity: Identity;
    /** For a websocket request forwarded to another member: the open upstream socket to bridge to. */
    upstream: WebSocket | null;
  }
  interface FastifyContextConfig {
    /** Who may call the route (default `admin`). */
    access?: AccessLevel;
    /** Served by the member that receives it, never forwarded to the leader (GET /1.0, /1.0/events). */
    local?: boolean;
    /**
     * `?target=<member>` names the member that must serve the request (member-local config,
     * resources, per-member pool state): it is forwarded there, and served locally there.
     */
    memberTarget?: boolean;
  }
}

export {};
