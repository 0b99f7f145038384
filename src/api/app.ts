/**
 * `buildApp(deps, listener)`: the fastify application for one listener (no `listen`). Call it
 * once per listener with the same {@link ApiDeps}: the HTTPS listener gets a TlsAuthenticator and
 * the member certificate, the unix socket a UnixAuthenticator (server.ts does both).
 *
 * Request pipeline: genReqId (`x-request-id` or a UUID) → authenticate (identity) → access check
 * (route `config.access`) → routing (forward.ts: serve here or forward) → validation (TypeBox
 * schemas from api/types) → handler → serialization. Errors leave through errors.ts only.
 */
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { errors } from '../shared/index.js';
import { checkAccess, type Authenticator } from './auth.js';
import type { ApiDeps } from './deps.js';
import { onError, onNotFound } from './errors.js';
import { routeRequest } from './forward.js';
import { apiRoutes } from './routes/index.js';
import { isUpgrade } from './websocket.js';
import './fastify-types.js';

/** How one listener differs from another. */
export interface ListenerOptions {
  /** Establishes who is calling (TlsAuthenticator for HTTPS, UnixAuthenticator for the socket). */
  readonly authenticator: Authenticator;
  /** Serve HTTPS with this certificate, requesting (not verifying) client certificates. */
  readonly https?: { readonly certPem: string; readonly keyPem: string };
  /** Name in logs (`https`, `unix`). */
  readonly name?: string;
  /** Maximum JSON body size in bytes (default 16 MiB). Upload routes set their own limits. */
  readonly bodyLimit?: number;
}

const CONTAINERS_PREFIX = /^\/1\.0\/containers(?=$|[/?])/;

/** `/1.0/containers…` → `/1.0/instances…` (LXD serves both); other URLs unchanged. */
export function containersAlias(url: string): string {
  return CONTAINERS_PREFIX.test(url) ? url.replace(CONTAINERS_PREFIX, '/1.0/instances') : url;
}

/** Builds the app. Ready after `await app.ready()` (inject/listen do that). */
export function buildApp(deps: ApiDeps, listener: ListenerOptions) {
  const tls = listener.https;
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'api', ...(listener.name ? { listener: listener.name } : {}) }),
    genReqId: requestIdOf,
    // Per-request lines come from our onResponse hook at debug (CONVENTIONS: nothing above debug per request).
    logController: new LogController({ requestIdLogLabel: 'reqId', disableRequestLogging: true }),
    // Shutdown must not wait for long polls (/wait, events): their handlers see the close and end.
    forceCloseConnections: true,
    bodyLimit: listener.bodyLimit ?? 16 * 1024 * 1024,
    // LXD's older name for instances: clients without the `instances` extension (pylxd 2.2's
    // `client.containers`) use /1.0/containers/**; both names serve the same routes.
    rewriteUrl: (req) => containersAlias(req.url ?? '/'),
    ...(tls
      ? {
          serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) =>
            https.createServer(
              { cert: tls.certPem, key: tls.keyPem, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
              handler,
            ),
        }
      : {}),
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  app.setErrorHandler(onError);
  app.setNotFoundHandler(onNotFound);
  app.decorateRequest('identity', null as never);
  app.decorateRequest('upstream', null);

  // LXD reads every body as JSON whatever its Content-Type (curl -d sends form encoding), and an
  // empty body is "no body" (the route's schema decides whether that is acceptable).
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, text, done) => {
    // An unknown path is a 404 whatever its body (lxc pushing a file to a missing route read "Invalid JSON").
    if (req.is404) return done(null, undefined);
    const s = typeof text === 'string' ? text : text.toString('utf8');
    if (s.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(s, rejectProtoKeys));
    } catch (err) {
      done(errors.invalid(`Invalid JSON in request body: ${err instanceof Error ? err.message : String(err)}`), undefined);
    }
  });

  app.addHook('onRequest', async (request) => {
    request.identity = await listener.authenticator.authenticate(request.raw);
  });
  app.addHook('onRequest', async (request) => {
    if (request.is404) return;
    const denied = checkAccess(request.identity, request.routeOptions.config.access ?? 'admin');
    if (denied) throw denied;
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) return;
    const route = routeRequest(request, {
      leadership: deps.leadership,
      members: deps.members,
      memberName: () => deps.serverInfo.memberName(),
    });
    if (route.kind === 'here') return;
    const forwarder = deps.forwarder;
    if (!forwarder) throw errors.unavailable('This member cannot forward requests (no member certificate)');
    if (isUpgrade(request)) {
      request.upstream = await forwarder.openWebSocket(request, route.to);
      return;
    }
    forwarder.proxy(request, reply, route.to);
    return reply;
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      { method: request.method, url: request.url, statusCode: reply.statusCode, durationMs: Math.round(reply.elapsedTime) },
      'request served',
    );
  });

  void app.register(websocket, {
    options: { maxPayload: 16 * 1024 * 1024 },
    errorHandler: (err, socket, request) => {
      request.log.debug({ err }, 'websocket error');
      socket.terminate();
    },
  });
  void app.register(apiRoutes(deps));
  return app;
}

/** The fastify application type (never annotate as FastifyInstance: the logger and provider differ). */
export type App = ReturnType<typeof buildApp>;

function requestIdOf(req: IncomingMessage | FastifyRequest['raw']): string {
  const h = req.headers['x-request-id'];
  const v = Array.isArray(h) ? h[0] : h;
  return v && /^[A-Za-z0-9._:-]{1,128}$/.test(v) ? v : randomUUID();
}

function rejectProtoKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new SyntaxError('forbidden key "__proto__"');
  return value;
}
