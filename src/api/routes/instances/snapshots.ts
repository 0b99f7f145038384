/**
 * `/1.0/instances/<name>/snapshots` (GET list with recursion, POST create) and
 * `/1.0/instances/<name>/snapshots/<snap>` (GET with ETag, PUT/PATCH expires_at with If-Match,
 * POST rename, DELETE). Logic in src/api/instances/snapshots.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestorOf } from '../../auth.js';
import type { InstanceContext } from '../../instances/context.js';
import { requireInstance } from '../../instances/lifecycle.js';
import { instanceUrl, renderSnapshot, snapshotEtag } from '../../instances/render.js';
import { createSnapshot, deleteSnapshot, renameSnapshot, updateSnapshot } from '../../instances/snapshots.js';
import { CommonQuery, commonParams } from '../../query.js';
import { asyncResponse, checkIfMatch, sync, syncEmpty, withEtag } from '../../response.js';
import { errors } from '../../../shared/index.js';
import { instanceSnapshots, instances } from '../../../state/index.js';
import { AsyncResponse, EmptySyncResponse, InstanceSnapshot, InstanceSnapshotPost, InstanceSnapshotPut, InstanceSnapshotsPost, SyncResponse } from '../../types/index.js';
import { projectOf } from './instance.js';

const NameParams = Type.Object({ name: Type.String() });
const SnapParams = Type.Object({ name: Type.String(), snap: Type.String() });

/** Registers the snapshot routes. */
export function snapshotRoutes(ctx: InstanceContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/1.0/instances/:name/snapshots',
      { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, response: { 200: SyncResponse(Type.Union([Type.Array(Type.String()), Type.Array(InstanceSnapshot)])) } } },
      async (req) => {
        const project = projectOf(req.identity, req.query);
        const view = await ctx.store.view();
        const inst = view.get(instances, project, req.params.name)?.record;
        if (!inst) throw errors.notFound(`Instance "${req.params.name}" not found`);
        const snaps = view.list(instanceSnapshots, project, inst.name).map((s) => s.record);
        if (commonParams(req.query).recursion > 0) return sync(snaps.map((s) => renderSnapshot(view, s, inst.architecture)));
        return sync(snaps.map((s) => instanceUrl(project, inst.name, `/snapshots/${encodeURIComponent(s.name)}`)));
      },
    );

    app.post(
      '/1.0/instances/:name/snapshots',
      { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, body: InstanceSnapshotsPost, response: { 202: AsyncResponse } } },
      async (req, reply) => {
        const project = projectOf(req.identity, req.query);
        const op = await createSnapshot(ctx, project, req.params.name, req.body, req.id, requestorOf(req.identity));
        return asyncResponse(reply, ctx.operations.get(op.id) ?? op);
      },
    );

    app.get(
      '/1.0/instances/:name/snapshots/:snap',
      { config: { access: 'trusted' }, schema: { params: SnapParams, querystring: CommonQuery, response: { 200: SyncResponse(InstanceSnapshot) } } },
      async (req, reply) => {
        const project = projectOf(req.identity, req.query);
        const view = await ctx.store.view();
        const inst = view.get(instances, project, req.params.name)?.record;
        if (!inst) throw errors.notFound(`Instance "${req.params.name}" not found`);
        const s = view.get(instanceSnapshots, project, inst.name, req.params.snap)?.record;
        if (!s) throw errors.notFound(`Snapshot "${req.params.snap}" not found`);
        return withEtag(reply, snapshotEtag(s), sync(renderSnapshot(view, s, inst.architecture)));
      },
    );

    // LXD answers snapshot PUT/PATCH with an operation; the change is a database write, finished at once.
    for (const method of ['put', 'patch'] as const) {
      app[method](
        '/1.0/instances/:name/snapshots/:snap',
        { config: { access: 'trusted' }, schema: { params: SnapParams, querystring: CommonQuery, body: InstanceSnapshotPut, response: { 200: EmptySyncResponse } } },
        async (req) => {
          const project = projectOf(req.identity, req.query);
          await updateSnapshot(ctx, project, req.params.name, req.params.snap, req.body.expires_at, (cur) => checkIfMatch(req, snapshotEtag(cur)), requestorOf(req.identity));
          return syncEmpty();
        },
      );
    }

    app.post(
      '/1.0/instances/:name/snapshots/:snap',
      { config: { access: 'trusted' }, schema: { params: SnapParams, querystring: CommonQuery, body: InstanceSnapshotPost, response: { 202: AsyncResponse } } },
      async (req, reply) => {
        const project = projectOf(req.identity, req.query);
        const { op, location } = await renameSnapshot(ctx, project, req.params.name, req.params.snap, req.body, req.id, requestorOf(req.identity));
        void reply.header('Location', location);
        return asyncResponse(reply, ctx.operations.get(op.id) ?? op);
      },
    );

    app.delete(
      '/1.0/instances/:name/snapshots/:snap',
      { config: { access: 'trusted' }, schema: { params: SnapParams, querystring: CommonQuery, response: { 202: AsyncResponse } } },
      async (req, reply) => {
        const project = projectOf(req.identity, req.query);
        await requireInstance(ctx, project, req.params.name);
        const op = await deleteSnapshot(ctx, project, req.params.name, req.params.snap, req.id, requestorOf(req.identity));
        return asyncResponse(reply, ctx.operations.get(op.id) ?? op);
      },
    );
  };
}
