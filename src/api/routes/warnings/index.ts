/**
 * `/1.0/warnings` (LXD lxd/warnings.go): list (`?project=` narrows, recursion, filter), get,
 * PUT/PATCH of the status (only `new` or `acknowledged` may be set, as in LXD) and delete.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestorOf } from '../../auth.js';
import type { ApiDeps } from '../../deps.js';
import { matchFilter } from '../../filter.js';
import { CommonQuery, commonParams } from '../../query.js';
import { sync, syncEmpty, withEtag } from '../../response.js';
import { listWarnings, toApiWarning } from '../../warnings/warnings.js';
import { errors } from '../../../shared/index.js';
import { warnings, type StateStore } from '../../../state/index.js';
import { EmptySyncResponse, LifecycleAction, SyncResponse, Warning, WarningPut } from '../../types/index.js';

const UuidParams = Type.Object({ uuid: Type.String() });

/** Routes of `/1.0/warnings`. */
export function warningRoutes(deps: ApiDeps, store: StateStore): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/1.0/warnings',
      { config: { access: 'trusted' }, schema: { querystring: CommonQuery, response: { 200: SyncResponse(Type.Union([Type.Array(Warning), Type.Array(Type.String())])) } } },
      async (req) => {
        const q = commonParams(req.query);
        const view = await store.view();
        const all = listWarnings(view, req.query.project ? q.project : undefined)
          .map(toApiWarning)
          .filter((w) => matchFilter(w, q.filter));
        return sync(q.recursion > 0 ? all : all.map((w) => `/1.0/warnings/${w.uuid}`));
      },
    );

    app.get(
      '/1.0/warnings/:uuid',
      { config: { access: 'trusted' }, schema: { params: UuidParams, querystring: CommonQuery, response: { 200: SyncResponse(Warning) } } },
      async (req, reply) => {
        const w = toApiWarning((await store.view()).require(warnings, req.params.uuid).record);
        return withEtag(reply, { status: w.status }, sync(w));
      },
    );

    for (const method of ['put', 'patch'] as const) {
      app[method](
        '/1.0/warnings/:uuid',
        { config: { access: 'admin' }, schema: { params: UuidParams, querystring: CommonQuery, body: WarningPut, response: { 200: EmptySyncResponse } } },
        async (req) => {
          const status = req.body.status;
          if (status !== 'new' && status !== 'acknowledged') throw errors.invalid('Status may only be set to "new" or "acknowledged"');
          let project = '';
          await store.update((tx) => {
            const cur = tx.require(warnings, req.params.uuid).record;
            project = cur.project;
            tx.put(warnings, { ...cur, status });
          });
          const action = status === 'acknowledged' ? LifecycleAction.WarningAcknowledged : LifecycleAction.WarningReset;
          deps.events.lifecycle(project, action, `/1.0/warnings/${req.params.uuid}`, undefined, requestorOf(req.identity));
          return syncEmpty();
        },
      );
    }

    app.delete(
      '/1.0/warnings/:uuid',
      { config: { access: 'admin' }, schema: { params: UuidParams, querystring: CommonQuery, response: { 200: EmptySyncResponse } } },
      async (req) => {
        let project = '';
        await store.update((tx) => {
          project = tx.require(warnings, req.params.uuid).record.project;
          tx.delete(warnings, req.params.uuid);
        });
        deps.events.lifecycle(project, LifecycleAction.WarningDeleted, `/1.0/warnings/${req.params.uuid}`, undefined, requestorOf(req.identity));
        return syncEmpty();
      },
    );
  };
}
