/**
 * `/1.0/cluster/members` (LXD clusterNodesGet/Post) and `/1.0/cluster/members/<name>`:
 * - GET lists members (URLs, or objects with `?recursion=1`), Online/Offline from heartbeats;
 * - POST `{server_name}` issues a join token: an operation of class token (LXD), Running until
 *   the token is used, revoked (`DELETE /1.0/operations/<id>`) or expires
 *   (`cluster.join_token_expiry`); its metadata `{serverName, secret, fingerprint, addresses,
 *   expiresAt}` is what `lxc cluster add` turns into the token. The secret is only stored hashed.
 * - PUT/PATCH `/1.0/cluster/members/<name>` `{description, failure_domain, config, groups, roles}`
 *   (member-put.ts; automatic roles are the cluster's, `event-hub` is the user's);
 * - POST `/1.0/cluster/members/<name>/state {action}`: evacuate/restore (member-state.ts);
 * - DELETE `/1.0/cluster/members/<name>[?force=1]` removes a member (sync, as LXD); removing the
 *   leader first hands the leadership to another online voter and forwards the request to it;
 * - `POST /internal/cluster/accept` is the joiner's request (untrusted: the token's secret is the
 *   credential); it is served by the leader (followers forward it).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestorOf } from '../../auth.js';
import type { ApiDeps } from '../../deps.js';
import { CommonQuery, commonParams } from '../../query.js';
import { asyncResponse, sync } from '../../response.js';
import { ErrorCode, errors, isShoalError, ShoalError } from '../../../shared/index.js';
import { AsyncResponse, ClusterMember, ClusterMemberPut, ClusterMemberStatePost, ClusterMembersPost, LifecycleAction, SyncResponse } from '../../types/index.js';
import { checkIfMatch } from '../../response.js';
import { updateMember } from './member-put.js';
import { changeMemberState } from './member-state.js';
import type { ClusterMembership } from './port.js';

/** Operation `type` of join tokens. */
export const JOIN_TOKEN_OPERATION = 'cluster-join-token';

const JoinBody = Type.Object(
  { server_name: Type.String(), secret: Type.String(), csr: Type.String(), address: Type.String(), api_address: Type.String() },
  { additionalProperties: false },
);

function membership(deps: ApiDeps): ClusterMembership {
  if (!deps.cluster) throw new ShoalError(ErrorCode.FailedPrecondition, 'This server is not clustered');
  return deps.cluster;
}

export function clusterMemberRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/1.0/cluster/members',
      {
        config: { access: 'trusted' },
        schema: { querystring: CommonQuery, response: { 200: SyncResponse(Type.Union([Type.Array(ClusterMember), Type.Array(Type.String())])) } },
      },
      async (req) => {
        const { recursion } = commonParams(req.query);
        const all = await membership(deps).members();
        return recursion > 0 ? sync(all) : sync(all.map((m) => `/1.0/cluster/members/${m.server_name}`));
      },
    );

    app.get(
      '/1.0/cluster/members/:name',
      { config: { access: 'trusted' }, schema: { params: Type.Object({ name: Type.String() }), response: { 200: SyncResponse(ClusterMember) } } },
      async (req) => {
        const m = (await membership(deps).members()).find((x) => x.server_name === req.params.name);
        if (!m) throw errors.notFound(`Member "${req.params.name}" not found`);
        return sync(m);
      },
    );

    app.post(
      '/1.0/cluster/members',
      { config: { access: 'admin' }, schema: { body: ClusterMembersPost, response: { 202: AsyncResponse } } },
      async (req, reply) => {
        const cluster = membership(deps);
        const name = req.body.server_name;
        if (name === 'none') throw errors.invalid('Join token name cannot be "none"');
        // One live token per name (LXD): cancelling the old operation revokes its token.
        for (const op of deps.operations.list({ project: '', allProjects: true })) {
          const md = op.metadata as { serverName?: unknown } | null;
          if (op.class === 'token' && op.status_code === 103 && md?.serverName === name) {
            await deps.operations.cancel(op.id).catch((err: unknown) => req.log.warn({ err, op: op.id }, 'failed to cancel an older join token'));
          }
        }
        const g = await cluster.prepareJoinToken(name);
        let operationId = '';
        const op = await deps.operations.createToken({
          type: JOIN_TOKEN_OPERATION,
          description: 'Requesting a join token',
          project: '',
          resources: { cluster: ['/1.0/cluster'] },
          metadata: { serverName: g.serverName, secret: g.secret, fingerprint: g.fingerprint, addresses: [...g.addresses], expiresAt: new Date(g.expiresAt).toISOString() },
          secretKeys: ['secret'],
          requestId: req.id,
          expiresAt: g.expiresAt,
          onCancel: () => cluster.revokeJoinToken(name, operationId),
        });
        operationId = op.id;
        try {
          await cluster.recordJoinToken(g, op.id);
        } catch (err) {
          await deps.operations.cancel(op.id).catch((cancelErr: unknown) => req.log.warn({ err: cancelErr, op: op.id }, 'failed to cancel the operation of a failed join token'));
          throw err;
        }
        req.log.info({ op: op.id, peer: name }, 'join token issued');
        return asyncResponse(reply, deps.operations.get(op.id) ?? op);
      },
    );

    app.delete(
      '/1.0/cluster/members/:name',
      {
        config: { access: 'admin' },
        schema: { params: Type.Object({ name: Type.String() }), querystring: Type.Object({ force: Type.Optional(Type.String()) }), response: { 200: SyncResponse(Type.Null()) } },
      },
      async (req, reply) => {
        const cluster = membership(deps);
        const name = req.params.name;
        const force = req.query.force === '1' || req.query.force === 'true';
        if (name === deps.serverInfo.memberName()) {
          // This member leads (the request reached the leader): hand off, then let the new leader remove us.
          const next = await cluster.successor();
          if (!next) throw errors.precondition(`Member "${name}" leads the cluster and no other online database member can take over`);
          const target = deps.members?.lookup(next.name);
          if (!target || !deps.forwarder) throw errors.unavailable(`Member "${next.name}" has no known API address`);
          await cluster.handOff(next.raftId);
          req.log.info({ peer: name, leader: next.name }, 'leadership handed off before removing this member');
          deps.forwarder.proxy(req, reply, target, {});
          return reply;
        }
        await cluster.removeMember(name, force);
        deps.events.lifecycle('', LifecycleAction.ClusterMemberRemoved, `/1.0/cluster/members/${name}`, undefined, requestorOf(req.identity));
        return sync(null);
      },
    );

    for (const method of ['PUT', 'PATCH'] as const) {
      app.route({
        method,
        url: '/1.0/cluster/members/:name',
        config: { access: 'admin' },
        schema: { params: Type.Object({ name: Type.String() }), body: ClusterMemberPut },
        handler: async (req) => {
          if (!deps.state) throw new ShoalError(ErrorCode.FailedPrecondition, 'This server is not clustered');
          const name = req.params.name;
          await deps.state.update((tx) => updateMember(tx, name, req.body, method, (cur) => checkIfMatch(req, cur)));
          deps.events.lifecycle('', LifecycleAction.ClusterMemberUpdated, `/1.0/cluster/members/${name}`, undefined, requestorOf(req.identity));
          return sync(null);
        },
      });
    }

    app.post(
      '/1.0/cluster/members/:name/state',
      { config: { access: 'admin' }, schema: { params: Type.Object({ name: Type.String() }), body: ClusterMemberStatePost, response: { 202: AsyncResponse } } },
      async (req, reply) => {
        const store = deps.state;
        if (!store) throw new ShoalError(ErrorCode.FailedPrecondition, 'This server is not clustered');
        const { name } = req.params;
        const action = req.body.action;
        const op = await deps.operations.createTask({
          type: `cluster-member-${action}`,
          description: action === 'evacuate' ? 'Evacuating cluster member' : 'Restoring cluster member',
          project: '',
          resources: { cluster: [`/1.0/cluster/members/${name}`] },
          requestId: req.id,
          run: async () => {
            await store.update((tx) => changeMemberState(tx, name, action));
            deps.events.lifecycle('', LifecycleAction.ClusterMemberUpdated, `/1.0/cluster/members/${name}`, undefined, requestorOf(req.identity));
          },
        });
        return asyncResponse(reply, op);
      },
    );

    app.post('/internal/cluster/accept', { config: { access: 'untrusted' }, schema: { body: JoinBody } }, async (req) => {
      const { tokenOperation, acceptance } = await membership(deps).acceptJoin(req.body);
      try {
        await deps.operations.cancel(tokenOperation);
      } catch (err) {
        // The token is consumed in the database already; its operation may have expired or live
        // on a former leader. Nothing depends on cancelling it here.
        if (!isShoalError(err, ErrorCode.NotFound) && !isShoalError(err, ErrorCode.FailedPrecondition)) throw err;
      }
      deps.events.lifecycle('', LifecycleAction.ClusterMemberAdded, `/1.0/cluster/members/${req.body.server_name}`, undefined, requestorOf(req.identity));
      req.log.info({ peer: req.body.server_name, raftId: acceptance.raft_id }, 'join accepted');
      return sync(acceptance);
    });
  };
}
