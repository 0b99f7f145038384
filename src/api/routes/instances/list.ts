/**
 * `GET /1.0/instances` (recursion 0/1/2, `filter`, `project`, `all-projects`) and
 * `POST /1.0/instances` (async create, src/api/instances/create.ts). recursion 0 and 1 are served
 * from the database alone — no agent is called (the API benchmark's goal depends on it);
 * recursion 2 adds each instance's live state from its agent (`container_full`), snapshots and
 * (empty) backups.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { checkProjectAccess, requestorOf, type Identity } from '../../auth.js';
import { matchFilter } from '../../filter.js';
import { createInstance, dryRunInstance } from '../../instances/create.js';
import type { InstanceContext } from '../../instances/context.js';
import { renderInstance, renderSnapshot, renderState, instanceUrl, listInstances, statusOnlyState } from '../../instances/render.js';
import { CommonQuery, commonParams } from '../../query.js';
import { asyncResponse, sync } from '../../response.js';
import { instanceSnapshots, projects, type StateView } from '../../../state/index.js';
import { AsyncResponse, InstancesPost, SyncResponse, type Instance as InstanceT, type InstanceFull as InstanceFullT } from '../../types/index.js';

/** Projects `identity` may see among `names` (restricted certificates see only theirs). */
function visible(identity: Identity, names: readonly string[]): Set<string> {
  return new Set(names.filter((p) => checkProjectAccess(identity, p) === undefined));
}

/** POST's query: the common parameters and Shoal's `dry-run`. */
const CreateQuery = Type.Object({ ...CommonQuery.properties, 'dry-run': Type.Optional(Type.String()) });

/** `?dry-run=1`'s answer (src/api/instances/create.ts DryRunResult). */
const DryRun = Type.Object({
  placed: Type.Boolean(),
  member: Type.String(),
  explanation: Type.String(),
  rejections: Type.Array(Type.Object({ member: Type.String(), reason: Type.String() })),
});

/** Registers the collection routes. */
export function instanceListRoutes(ctx: InstanceContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/1.0/instances',
      {
        config: { access: 'trusted' },
        // The recursion picks one of three item shapes (URL, Instance, InstanceFull), typed by the
        // handler. An anyOf here makes fast-json-stringify validate every item against each branch:
        // ~3x slower at 1,000 instances (measured), and this listing is the API benchmark's hot path.
        schema: { querystring: CommonQuery, response: { 200: SyncResponse(Type.Array(Type.Unknown())) } },
      },
      async (req) => {
        const q = commonParams(req.query);
        const view = await ctx.store.view();
        let allowed: Set<string> | undefined;
        if (q.allProjects) {
          allowed = visible(req.identity, view.list(projects).map((p) => p.record.name));
        } else {
          const denied = checkProjectAccess(req.identity, q.project);
          if (denied) throw denied;
          view.require(projects, q.project);
        }
        const records = listInstances(view, q.allProjects ? undefined : q.project).filter((r) => !allowed || allowed.has(r.project));
        const rendered = records.map((r) => renderInstance(view, r)).filter((i) => matchFilter(i, q.filter));
        if (q.recursion === 0) return sync<string[]>(rendered.map((i) => instanceUrl(i.project, i.name)));
        if (q.recursion === 1) return sync<InstanceT[]>(rendered);
        return sync<InstanceFullT[]>(await Promise.all(rendered.map((i) => full(ctx, view, i))));
      },
    );

    app.post(
      '/1.0/instances',
      {
        config: { access: 'trusted' },
        schema: { querystring: CreateQuery, body: InstancesPost, response: { 200: SyncResponse(DryRun), 202: AsyncResponse } },
      },
      async (req, reply) => {
        const q = commonParams(req.query);
        const denied = checkProjectAccess(req.identity, q.project);
        if (denied) throw denied;
        // Shoal: `?dry-run=1` answers where the instance would go and why, and records nothing.
        const dry = req.query['dry-run'];
        if (dry === '1' || dry === 'true') {
          const r = await dryRunInstance(ctx, { project: q.project, body: req.body, target: q.target });
          return sync({ ...r, rejections: r.rejections.map((x) => ({ ...x })) });
        }
        const op = await createInstance(ctx, { project: q.project, body: req.body, target: q.target, requestId: req.id, requestor: requestorOf(req.identity) });
        return asyncResponse(reply, ctx.operations.get(op.id) ?? op);
      },
    );
  };
}

/**
 * `InstanceFull`: the instance, its live state from its agent (a state with only the recorded
 * status when the agent cannot answer: member offline, instance still being created), its
 * snapshots, no backups. A stopped instance has no processes, addresses or usage to report, so its
 * state is the recorded status without asking the agent (disk usage of stopped instances is in
 * `GET …/state`): `lxc list` over many stopped instances costs no agent round trips.
 */
export async function full(ctx: InstanceContext, view: StateView, i: InstanceT): Promise<InstanceFullT> {
  let state = statusOnlyState(i.status);
  if (i.status !== 'Creating' && i.status !== 'Stopped') {
    try {
      const res = await ctx.agent(i.location).unary('getInstanceState', { project: i.project, name: i.name }, { timeoutMs: 5_000 });
      if (res.state) state = renderState(res.state);
    } catch (err) {
      // Listing must not fail because one member is down: show what the database knows.
      ctx.log.debug({ err, instance: i.name, member: i.location }, 'instance state unavailable');
    }
  }
  const snapshots = view.list(instanceSnapshots, i.project, i.name).map((s) => renderSnapshot(view, s.record, i.architecture));
  return { ...i, backups: [], state, snapshots };
}
