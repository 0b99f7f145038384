/**
 * `GET /`, `GET|PUT|PATCH /1.0` (LXD lxd/api_1.0.go). `GET /1.0` is answered by the member that
 * receives it (its own environment; `?target=` asks another member) and must stay cheap: the Go
 * client calls it on every connection. Untrusted callers get only the `ServerUntrusted` fields.
 */
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { isAdmin, requestorOf } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { CommonQuery, commonParams } from '../query.js';
import type { ApiRequest } from '../route.js';
import { checkIfMatch, sync, syncEmpty, withEtag, type SyncEnvelope } from '../response.js';
import {
  API_EXTENSIONS,
  EmptySyncResponse,
  LifecycleAction,
  ServerConfigMap,
  ServerEnvironment,
  ServerPut,
  ServerUntrusted,
  SyncResponse,
  type Server,
} from '../types/index.js';

/** `GET /1.0` metadata: the untrusted fields, plus `config` and `environment` for trusted callers. */
const ServerGetMetadata = Type.Object({
  ...ServerUntrusted.properties,
  config: Type.Optional(ServerConfigMap),
  environment: Type.Optional(ServerEnvironment),
});

const serverGetSchema = { querystring: CommonQuery, response: { 200: SyncResponse(ServerGetMetadata) } };
const serverPutSchema = { querystring: CommonQuery, body: ServerPut, response: { 200: EmptySyncResponse } };

/** Routes of `/` and `/1.0`. */
export function rootRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/',
      { config: { access: 'untrusted', local: true }, schema: { response: { 200: SyncResponse(Type.Array(Type.String())) } } },
      async () => sync(['/1.0']),
    );
    app.get('/1.0', { config: { access: 'untrusted', local: true, memberTarget: true }, schema: serverGetSchema }, (req, reply) =>
      serverGet(deps, req, reply),
    );
    app.put('/1.0', { config: { access: 'admin', memberTarget: true }, schema: serverPutSchema }, (req) =>
      serverPut(deps, req, 'replace'),
    );
    app.patch('/1.0', { config: { access: 'admin', memberTarget: true }, schema: serverPutSchema }, (req) =>
      serverPut(deps, req, 'merge'),
    );
  };
}

/** The untrusted part of `GET /1.0`. */
export function serverUntrusted(trusted: boolean): Static<typeof ServerUntrusted> {
  return {
    api_extensions: [...API_EXTENSIONS],
    api_status: 'stable',
    api_version: '1.0',
    auth: trusted ? 'trusted' : 'untrusted',
    public: false,
    auth_methods: ['tls'],
  };
}

/** `GET /1.0`: ETag over the config (LXD). */
export async function serverGet(
  deps: ApiDeps,
  req: ApiRequest<typeof serverGetSchema>,
  reply: FastifyReply,
): Promise<SyncEnvelope<Server | Static<typeof ServerUntrusted>>> {
  if (!req.identity.trusted) return sync(serverUntrusted(false));
  const { project } = commonParams(req.query);
  const config = isAdmin(req.identity) ? { ...(await deps.serverConfig.get()) } : {};
  const server: Server = { ...serverUntrusted(true), config, environment: deps.serverInfo.environment(project) };
  return withEtag(reply, config, sync(server));
}

/** `PUT /1.0` (replace) and `PATCH /1.0` (merge); If-Match is checked against the current config. */
export async function serverPut(
  deps: ApiDeps,
  req: ApiRequest<typeof serverPutSchema>,
  mode: 'replace' | 'merge',
): Promise<SyncEnvelope<Record<string, never>>> {
  const raw = req.body?.config;
  if (mode === 'merge' && (raw === undefined || raw === null)) return syncEmpty();
  const changes: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) changes[k] = v === null ? '' : String(v);
  await deps.serverConfig.update(changes, mode, (current) => checkIfMatch(req, current));
  deps.events.lifecycle('', LifecycleAction.ConfigUpdated, '/1.0', undefined, requestorOf(req.identity));
  return syncEmpty();
}
