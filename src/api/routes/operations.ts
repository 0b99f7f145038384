/**
 * `/1.0/operations` (LXD lxd/operations.go): list (keyed by lower-cased status), get, cancel
 * (DELETE), wait, and the websocket of exec/console operations. Operations live on the leader
 * (forward.ts sends these requests there), so the listing is complete without fan-out.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { checkProjectAccess, notAuthorized, requestorOf } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { CommonQuery, commonParams } from '../query.js';
import { sync, syncEmpty } from '../response.js';
import { websocketRouteOptions } from '../websocket.js';
import { ErrorCode, ShoalError, errors } from '../../shared/index.js';
import {
  EmptySyncResponse,
  LifecycleAction,
  Operation,
  OperationUrlsByStatus,
  OperationsByStatus,
  SyncResponse,
  type Operation as OperationT,
} from '../types/index.js';
import { visible, visibleOperation } from './operation-access.js';
import { operationWaitRoute } from './operation-wait.js';

const IdParams = Type.Object({ id: Type.String() });

/** Routes of `/1.0/operations`. */
export function operationRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/1.0/operations',
      {
        config: { access: 'trusted' },
        schema: {
          querystring: CommonQuery,
          response: { 200: SyncResponse(Type.Union([OperationsByStatus, OperationUrlsByStatus])) },
        },
      },
      async (req) => {
        const params = commonParams(req.query);
        if (!params.allProjects) {
          const denied = checkProjectAccess(req.identity, params.project);
          if (denied) throw denied;
        }
        const ops = deps.operations
          .list({ project: params.project, allProjects: params.allProjects })
          .filter((op) => visible(deps, req.identity, op));
        const byStatus: Record<string, OperationT[]> = {};
        for (const op of ops) (byStatus[op.status.toLowerCase()] ??= []).push(op);
        if (params.recursion > 0) return sync(byStatus);
        const urls: Record<string, string[]> = {};
        for (const [k, list] of Object.entries(byStatus)) urls[k] = list.map((op) => `/1.0/operations/${op.id}`);
        return sync(urls);
      },
    );

    app.get(
      '/1.0/operations/:id',
      { config: { access: 'trusted' }, schema: { params: IdParams, response: { 200: SyncResponse(Operation) } } },
      async (req) => sync(visibleOperation(deps, req.identity, req.params.id)),
    );

    app.delete(
      '/1.0/operations/:id',
      { config: { access: 'trusted' }, schema: { params: IdParams, response: { 200: EmptySyncResponse } } },
      async (req) => {
        const op = visibleOperation(deps, req.identity, req.params.id);
        await deps.operations.cancel(op.id);
        const project = deps.operations.projectOf(op.id) || 'default';
        deps.events.lifecycle(project, LifecycleAction.OperationCancelled, `/1.0/operations/${op.id}`, undefined, requestorOf(req.identity));
        return syncEmpty();
      },
    );

    await app.register(operationWaitRoute(deps));

    const WebsocketQuery = Type.Object({ secret: Type.Optional(Type.String()) });
    app.route({
      method: 'GET',
      url: '/1.0/operations/:id/websocket',
      config: { access: 'untrusted' },
      schema: { params: IdParams, querystring: WebsocketQuery },
      ...websocketRouteOptions(deps.forwarder, {
        check: (req) => {
          const { id } = req.params as { id: string };
          const { secret } = req.query as { secret?: string };
          if (!secret) throw errors.invalid('Missing secret');
          if (!deps.operations.get(id)) throw new ShoalError(ErrorCode.NotFound, 'Operation not found');
          if (!deps.operations.acceptsWebsocket(id, secret)) throw notAuthorized();
        },
        onSocket: (socket, req) => {
          const { id } = req.params as { id: string };
          const { secret } = req.query as { secret: string };
          deps.operations.attachWebsocket(id, secret, socket);
        },
      }),
    });
  };
}
