/**
 * Member-to-member routes under /internal/cluster that are served by the member reached (never
 * forwarded), authenticated by the calling member's own certificate (trust type `server`):
 * - GET `/internal/cluster/ca-key`: the cluster CA key, for a member that became a voter without
 *   it (a promoted standby), so that any leader can sign joiners' certificates;
 * - POST `/internal/cluster/removed`: the leader tells a member it removed; the member resets itself;
 * - POST `/internal/cluster/events` `{events: Event[]}`: events published on the calling member,
 *   delivered to this member's `/1.0/events` listeners (not relayed again).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorCode, ShoalError } from '../../../shared/index.js';
import type { ApiDeps } from '../../deps.js';
import { sync } from '../../response.js';
import { Event, SyncResponse } from '../../types/index.js';
import { Type } from 'typebox';

export function clusterInternalRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/internal/cluster/ca-key', { config: { access: 'trusted', local: true } }, async (req) => {
      const id = req.identity;
      if (id.protocol !== 'cluster' || id.certificateType !== 'server') throw new ShoalError(ErrorCode.PermissionDenied, 'Only cluster members may ask for the CA key');
      if (!deps.cluster) throw new ShoalError(ErrorCode.FailedPrecondition, 'This server is not clustered');
      return sync({ ca_key: await deps.cluster.caKeyFor(id.username) });
    });

    app.post(
      '/internal/cluster/events',
      { config: { access: 'trusted', local: true }, schema: { body: Type.Object({ events: Type.Array(Event) }), response: { 200: SyncResponse(Type.Null()) } } },
      async (req) => {
        const id = req.identity;
        if (id.protocol !== 'cluster' || id.certificateType !== 'server') throw new ShoalError(ErrorCode.PermissionDenied, 'Only cluster members relay events');
        for (const e of req.body.events) deps.events.injectRemote(e);
        return sync(null);
      },
    );

    app.post('/internal/cluster/removed', { config: { access: 'trusted', local: true } }, async (req) => {
      const id = req.identity;
      if (id.protocol !== 'cluster' || id.certificateType !== 'server') throw new ShoalError(ErrorCode.PermissionDenied, 'Only the cluster leader may say this');
      if (!deps.cluster) throw new ShoalError(ErrorCode.FailedPrecondition, 'This server is not clustered');
      await deps.cluster.removedNotice(id.username);
      return sync(null);
    });
  };
}
