/**
 * Websocket routes (events, operation sockets) in one shape: checks run before the upgrade (so a
 * refusal is an ordinary HTTP error envelope), a plain GET gets 400, and a request forwarded to
 * another member (forward.ts opened `request.upstream`) is bridged instead of handled here.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { errors } from '../shared/index.js';
import type { Forwarder } from './forward.js';

/** True for an HTTP/1.1 websocket upgrade request. */
export function isUpgrade(request: FastifyRequest): boolean {
  const upgrade = request.headers.upgrade;
  return typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket';
}

/** Hooks of a websocket route (requests are untyped here: read `params`/`query` with the route's schema types). */
export interface WebsocketRouteHandlers {
  /** Runs before the upgrade (not for forwarded requests); throw to refuse with an HTTP error. */
  readonly check?: (request: FastifyRequest, reply: FastifyReply) => Promise<void> | void;
  /** Takes the upgraded socket. */
  readonly onSocket: (socket: WebSocket, request: FastifyRequest) => void;
}

/** Route options implementing {@link WebsocketRouteHandlers} (spread into `app.route`). */
export function websocketRouteOptions(forwarder: Forwarder | undefined, h: WebsocketRouteHandlers) {
  return {
    preValidation: async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      if (request.upstream) return;
      if (!isUpgrade(request)) throw errors.invalid('This endpoint requires a websocket connection');
      await h.check?.(request, reply);
    },
    handler: async (): Promise<never> => {
      throw errors.invalid('This endpoint requires a websocket connection');
    },
    wsHandler: (socket: WebSocket, request: FastifyRequest): void => {
      const upstream = request.upstream;
      if (upstream && forwarder) forwarder.bridge(socket, upstream);
      else h.onSocket(socket, request);
    },
  };
}
