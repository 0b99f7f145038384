/** `/1.0/storage-pools` and their volumes: one plugin for the routes index. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiDeps } from '../../deps.js';
import type { StateStore } from '../../../state/index.js';
import { storagePoolRoutes } from './pools.js';
import { storageVolumeRoutes } from './volumes.js';

/** Storage pools and volumes (served when the database is present). */
export function storageRoutes(deps: ApiDeps, store: StateStore): FastifyPluginAsyncTypebox {
  return async (app) => {
    await app.register(storagePoolRoutes(deps, store));
    await app.register(storageVolumeRoutes(deps, store));
  };
}
