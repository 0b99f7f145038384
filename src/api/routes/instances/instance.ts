/**
 * `/1.0/instances/<name>`: GET (ETag), PUT/PATCH (If-Match; `restore`), DELETE, POST (rename),
 * and `/1.0/instances/<name>/state` GET (live, from the agent) / PUT (start, stop, restart,
 * freeze, unfreeze). Logic in src/api/instances/.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { checkProjectAccess, requestorOf, type Identity } from '../../auth.js';
import type { InstanceContext } from '../../instances/context.js';
import { changeState, deleteInstance, requireInstance } from '../../instances/lifecycle.js';
import { instanceEtag, renderInstance, renderState, statusOnlyState } from '../../instances/render.js';
import { postInstance, updateInstance } from '../../instances/update.js';
import { CommonQuery, commonParams } from '../../query.js';
import { asyncResponse, sync, withEtag } from '../../response.js';
import { errors } from '../../../shared/index.js';
import { instances } from '../../../state/index.js';
import { AsyncResponse, Instance, InstanceFull, InstancePost, InstancePut, InstanceState, InstanceStatePut, SyncResponse } from '../../types/index.js';
import { full } from './list.js';

const NameParams = Type.Object({ name: Type.String() });
/** `?recursion=1` on GET /1.0/instances/<name> gives InstanceFull (LXD). */
const GetQuery = CommonQuery;

/** The project of the request after the access check. */
export function projectOf(identity: Identity, query: CommonQuery): string {
  const { project } = commonParams(query);
  const denied = checkProjectAccess(identity, project);
  if (denied) throw denied;
  return project;
}

/** Registers the per-instance routes. */
export function instanceRoutes(ctx: InstanceContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/1.0/instances/:name',
      { config: { access: 'trusted' }, schema: { params: NameParams, querystring: GetQuery, response: { 200: SyncResponse(Type.Union([InstanceFull, Instance])) } } },
      async (req, reply) => {
        const project = projectOf(req.identity, req.query);
        const view = await ctx.store.view();
        const r = view.get(instances, project, req.params.name)?.record;
        if (!r) throw errors.notFound(`Instance "${req.params.name}" not found`);
        const inst = renderInstance(view, r);
        const body = commonParams(req.query).recursion > 0 ? await full(ctx, view, inst) : inst;
        return withEtag(reply, instanceEtag(r), sync(body));
      },
    );

    for (const [method, mode] of [['put', 'replace'], ['patch', 'merge']] as const) {
      app[method](
        '/1.0/instances/:name',
        { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, body: InstancePut, response: { 202: AsyncResponse } } },
        async (req, reply) => {
          const project = projectOf(req.identity, req.query);
          const op = await updateInstance(ctx, req, project, req.params.name, req.body, mode, req.id, requestorOf(req.identity));
          return asyncResponse(reply, ctx.operations.get(op.id) ?? op);
        },
      );
    }

    app.delete(
      '/1.0/instances/:name',
      { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, response: { 202: AsyncResponse } } },
      async (req, reply) => {
        const project = projectOf(req.identity, req.query);
        const op = await deleteInstance(ctx, project, req.params.name, req.id, requestorOf(req.identity));
        return asyncResponse(reply, ctx.operations.get(op.id) ?? op);
      },
    );

    app.post(
      '/1.0/instances/:name',
      { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, body: InstancePost, response: { 202: AsyncResponse } } },
      async (req, reply) => {
        const project = projectOf(req.identity, req.query);
        const { target } = commonParams(req.query);
        const { op, location } = await postInstance(ctx, project, req.params.name, req.body, target, req.id, requestorOf(req.identity));
        void reply.header('Location', location);
        return asyncResponse(reply, ctx.operations.get(op.id) ?? op);
      },
    );

    app.get(
      '/1.0/instances/:name/state',
      { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, response: { 200: SyncResponse(InstanceState) } } },
      async (req) => {
        const project = projectOf(req.identity, req.query);
        const r = await requireInstance(ctx, project, req.params.name);
        if (r.status === 'Creating') return sync(statusOnlyState(r.status));
        const res = await ctx.agent(r.location).unary('getInstanceState', { project, name: r.name }, { timeoutMs: 10_000 });
        return sync(res.state ? renderState(res.state) : statusOnlyState(r.status));
      },
    );

    app.put(
      '/1.0/instances/:name/state',
      { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, body: InstanceStatePut, response: { 202: AsyncResponse } } },
      async (req, reply) => {
        const project = projectOf(req.identity, req.query);
        const op = await changeState(ctx, project, req.params.name, req.body, req.id, requestorOf(req.identity));
        return asyncResponse(reply, ctx.operations.get(op.id) ?? op);
      },
    );
  };
}
