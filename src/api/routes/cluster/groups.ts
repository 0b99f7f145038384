/**
 * `/1.0/cluster/groups` (LXD clusterGroups*) over the replicated `cluster-groups` table: list
 * (recursion), get (ETag), create, PUT (replace) / PATCH (merge) with If-Match, rename, delete.
 * Group `default` holds every member and cannot be renamed or deleted; members must exist (the
 * table's integrity rules). Every check runs inside the transaction: a refused request writes
 * nothing. Lifecycle events `cluster-group-*` after the commit.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestorOf } from '../../auth.js';
import type { ApiDeps } from '../../deps.js';
import { CommonQuery, commonParams } from '../../query.js';
import { checkIfMatch, created, sync, withEtag } from '../../response.js';
import { ErrorCode, ShoalError, errors } from '../../../shared/index.js';
import { clusterGroups, type ClusterGroupRecord, type StateStore } from '../../../state/index.js';
import { ClusterGroup, ClusterGroupPost, ClusterGroupPut, ClusterGroupsPost, LifecycleAction, SyncResponse } from '../../types/index.js';

const NameParams = Type.Object({ name: Type.String() });
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function checkName(name: string): void {
  if (!GROUP_NAME.test(name)) throw errors.invalid(`Invalid cluster group name "${name}"`);
}

const toApi = (r: ClusterGroupRecord): ClusterGroup => ({ name: r.name, description: r.description, members: [...r.members] });
const editable = (r: ClusterGroupRecord): unknown => ({ description: r.description, members: [...r.members] });

/** Routes of `/1.0/cluster/groups` (served when `deps.state` is present). */
export function clusterGroupRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const need = (): StateStore => {
    if (!deps.state) throw new ShoalError(ErrorCode.FailedPrecondition, 'This server is not clustered');
    return deps.state;
  };
  return async (app) => {
    app.get(
      '/1.0/cluster/groups',
      { config: { access: 'trusted' }, schema: { querystring: CommonQuery, response: { 200: SyncResponse(Type.Union([Type.Array(ClusterGroup), Type.Array(Type.String())])) } } },
      async (req) => {
        const { recursion } = commonParams(req.query);
        const all = (await need().view()).list(clusterGroups).map((g) => toApi(g.record));
        return recursion > 0 ? sync(all) : sync(all.map((g) => `/1.0/cluster/groups/${g.name}`));
      },
    );

    app.get('/1.0/cluster/groups/:name', { config: { access: 'trusted' }, schema: { params: NameParams, response: { 200: SyncResponse(ClusterGroup) } } }, async (req, reply) => {
      const g = (await need().view()).require(clusterGroups, req.params.name).record;
      return withEtag(reply, editable(g), sync(toApi(g)));
    });

    app.post('/1.0/cluster/groups', { config: { access: 'admin' }, schema: { body: ClusterGroupsPost } }, async (req, reply) => {
      const b = req.body;
      checkName(b.name);
      await need().update((tx) => tx.create(clusterGroups, { name: b.name, description: b.description ?? '', members: [...new Set(b.members ?? [])], config: {} }));
      deps.events.lifecycle('', LifecycleAction.ClusterGroupCreated, `/1.0/cluster/groups/${b.name}`, undefined, requestorOf(req.identity));
      return created(reply, `/1.0/cluster/groups/${b.name}`);
    });

    for (const method of ['PUT', 'PATCH'] as const) {
      app.route({
        method,
        url: '/1.0/cluster/groups/:name',
        config: { access: 'admin' },
        schema: { params: NameParams, body: ClusterGroupPut },
        handler: async (req) => {
          const b = req.body;
          const name = req.params.name;
          await need().update((tx) => {
            const cur = tx.require(clusterGroups, name).record;
            checkIfMatch(req, editable(cur));
            const members = b.members ?? (method === 'PUT' ? [] : cur.members);
            if (name === 'default' && cur.members.some((m) => !members.includes(m))) throw errors.invalid('Members cannot be taken out of cluster group "default"');
            tx.update(clusterGroups, { ...cur, description: b.description ?? (method === 'PUT' ? '' : cur.description), members: [...new Set(members)] });
          });
          deps.events.lifecycle('', LifecycleAction.ClusterGroupUpdated, `/1.0/cluster/groups/${name}`, undefined, requestorOf(req.identity));
          return sync(null);
        },
      });
    }

    app.post('/1.0/cluster/groups/:name', { config: { access: 'admin' }, schema: { params: NameParams, body: ClusterGroupPost } }, async (req, reply) => {
      const from = req.params.name;
      const to = req.body.name;
      checkName(to);
      if (from === 'default') throw errors.invalid('Cluster group "default" cannot be renamed');
      await need().update((tx) => {
        const cur = tx.require(clusterGroups, from).record;
        tx.create(clusterGroups, { ...cur, name: to });
        tx.delete(clusterGroups, from);
      });
      deps.events.lifecycle('', LifecycleAction.ClusterGroupRenamed, `/1.0/cluster/groups/${to}`, { old_name: from }, requestorOf(req.identity));
      return created(reply, `/1.0/cluster/groups/${to}`);
    });

    app.delete('/1.0/cluster/groups/:name', { config: { access: 'admin' }, schema: { params: NameParams } }, async (req) => {
      const name = req.params.name;
      if (name === 'default') throw errors.invalid('Cluster group "default" cannot be deleted');
      await need().update((tx) => {
        tx.require(clusterGroups, name);
        tx.delete(clusterGroups, name);
      });
      deps.events.lifecycle('', LifecycleAction.ClusterGroupDeleted, `/1.0/cluster/groups/${name}`, undefined, requestorOf(req.identity));
      return sync(null);
    });
  };
}
