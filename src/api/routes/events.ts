/**
 * `GET /1.0/events` (LXD lxd/events.go): a websocket of JSON text frames `{type, timestamp,
 * metadata, location, project}`. `?type=a,b` picks types (default: all the caller may see;
 * `logging` is for administrators), `?project=` or `?all-projects=true` the scope. Served by the
 * member that receives it: the hub there carries every member's events.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { checkProjectAccess, isAdmin, notAuthorized, type Identity } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import type { EventFilter } from '../events/hub.js';
import { isTrue } from '../query.js';
import { websocketRouteOptions } from '../websocket.js';
import { errors } from '../../shared/index.js';
import { EVENT_TYPES, type EventType } from '../types/index.js';

const EventsQuery = Type.Object({
  type: Type.Optional(Type.String()),
  project: Type.Optional(Type.String()),
  'all-projects': Type.Optional(Type.String()),
  target: Type.Optional(Type.String()),
});

/** A listener whose unsent data exceeds this is too slow and is disconnected. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** Routes of `/1.0/events`. */
export function eventRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.route({
      method: 'GET',
      url: '/1.0/events',
      config: { access: 'trusted', local: true },
      schema: { querystring: EventsQuery },
      ...websocketRouteOptions(deps.forwarder, {
        check: (req) => {
          eventFilter(req.identity, req.query as Record<string, string | undefined>);
        },
        onSocket: (socket, req) => {
          const filter = eventFilter(req.identity, req.query as Record<string, string | undefined>);
          const sub = deps.events.subscribe(filter, (event) => {
            if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
              req.log.warn({ bufferedBytes: socket.bufferedAmount }, 'event listener too slow; disconnected');
              sub.dispose();
              socket.terminate();
              return;
            }
            socket.send(JSON.stringify(event));
          });
          socket.on('close', () => sub.dispose());
          req.log.debug({ types: filter.types, project: filter.allProjects ? '*' : filter.project }, 'event listener connected');
        },
      }),
    });
  };
}

/** Parses and authorises the listener's filter (LXD's rules and messages). */
export function eventFilter(identity: Identity, query: Readonly<Record<string, string | undefined>>): EventFilter {
  const allProjects = isTrue(query['all-projects']);
  const project = query['project'] ?? '';
  if (allProjects && project !== '') throw errors.invalid('Cannot specify a project when requesting all projects');
  const scope = allProjects ? '' : project || 'default';
  if (!allProjects) {
    const denied = checkProjectAccess(identity, scope);
    if (denied) throw denied;
  } else if (identity.restricted) {
    throw notAuthorized();
  }
  const raw = (query['type'] ?? '').split(',').filter((t) => t !== '');
  let types: EventType[];
  if (raw.length === 0) {
    types = EVENT_TYPES.filter((t) => t !== 'logging' || isAdmin(identity));
  } else {
    for (const t of raw) {
      if (!(EVENT_TYPES as readonly string[]).includes(t)) throw errors.invalid(`"${t}" isn't a supported event type`);
    }
    types = raw as EventType[];
    if (types.includes('logging') && !isAdmin(identity)) throw notAuthorized();
  }
  return { types, project: scope, allProjects };
}
