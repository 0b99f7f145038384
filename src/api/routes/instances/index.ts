/**
 * `/1.0/instances/**` except exec, console, files and logs (api-exec's instance-io routes):
 * list/create, get/edit/delete/rename, state, snapshots. Served when the API has the cluster
 * database; host work goes to the members' agents (`deps.agents`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiDeps } from '../../deps.js';
import { instanceContext } from '../../instances/context.js';
import { backupRoutes } from './backups.js';
import { instanceRoutes } from './instance.js';
import { instanceListRoutes } from './list.js';
import { snapshotRoutes } from './snapshots.js';

/** All instance routes over `deps` (images through `deps.images`, the cluster image locator, when there is one). */
export function instancesRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const ctx = instanceContext(deps, deps.images);
  return async (app) => {
    await app.register(instanceListRoutes(ctx));
    await app.register(instanceRoutes(ctx));
    await app.register(snapshotRoutes(ctx));
    await app.register(backupRoutes(ctx));
  };
}
