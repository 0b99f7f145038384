/**
 * `GET /1.0/cluster` (LXD clusterGet): whether this server is clustered and its member name —
 * what `lxc cluster list/add/…` read first. A Shoal server is always a cluster (of one or more);
 * `member_config` (keys a joiner must supply, e.g. a pool's `source`) is empty: Shoal's joiners
 * create the cluster's pools and networks with the cluster-wide config. `PUT /1.0/cluster`
 * (LXD's enable/join) is refused with what to do instead.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ApiDeps } from '../../deps.js';
import { sync } from '../../response.js';
import { errors } from '../../../shared/index.js';
import { SyncResponse } from '../../types/index.js';

const Cluster = Type.Object({
  server_name: Type.String(),
  enabled: Type.Boolean(),
  member_config: Type.Array(Type.Object({ entity: Type.String(), name: Type.String(), key: Type.String(), value: Type.String(), description: Type.String() })),
});

export function clusterInfoRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/1.0/cluster', { config: { access: 'trusted', local: true }, schema: { response: { 200: SyncResponse(Cluster) } } }, async () =>
      sync({ server_name: deps.serverInfo.memberName(), enabled: true, member_config: [] }),
    );
    app.put('/1.0/cluster', { config: { access: 'admin' } }, async () => {
      throw errors.invalid('This server is already a cluster member: new servers join with `shoald init --join TOKEN` (token from `shoal cluster add NAME`)');
    });
  };
}
