/** The /1.0/cluster routes (members, groups, join tokens, the joiner's accept call, member-to-member calls). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiDeps } from '../../deps.js';
import { clusterInfoRoutes } from './cluster.js';
import { clusterGroupRoutes } from './groups.js';
import { clusterInternalRoutes } from './internal.js';
import { clusterMemberRoutes } from './members.js';

export { JOIN_TOKEN_OPERATION } from './members.js';
export type * from './port.js';

export function clusterRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    await app.register(clusterInfoRoutes(deps));
    await app.register(clusterMemberRoutes(deps));
    await app.register(clusterInternalRoutes(deps));
    await app.register(clusterGroupRoutes(deps));
  };
}
