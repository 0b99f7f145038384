/** The /1.0/cluster routes (members, join tokens, the joiner's accept call). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiDeps } from '../../deps.js';
import { clusterInternalRoutes } from './internal.js';
import { clusterMemberRoutes } from './members.js';

export { JOIN_TOKEN_OPERATION } from './members.js';
export type * from './port.js';

export function clusterRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    await app.register(clusterMemberRoutes(deps));
    await app.register(clusterInternalRoutes(deps));
  };
}
