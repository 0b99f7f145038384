/**
 * Every route plugin of the API, in registration order. Resource work adds its plugin here
 * (see ../README.md for the pattern).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiDeps } from '../deps.js';
import { certificateRoutes } from './certificates.js';
import { clusterRoutes } from './cluster/index.js';
import { eventRoutes } from './events.js';
import { instanceIoRoutes } from './instance-io/index.js';
import { instancesRoutes } from './instances/index.js';
import { metricsRoutes } from './metrics/index.js';
import { networkRoutes } from './networks/index.js';
import { imageRoutes } from './images/index.js';
import { operationRoutes } from './operations.js';
import { profileRoutes } from './profiles.js';
import { projectRoutes } from './projects.js';
import { resourceRoutes } from './resources/index.js';
import { rootRoutes } from './root.js';
import { storageRoutes } from './storage/index.js';
import { warningRoutes } from './warnings/index.js';

/** All route plugins, given the shared deps. */
export function apiRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    await app.register(rootRoutes(deps));
    await app.register(operationRoutes(deps));
    await app.register(eventRoutes(deps));
    await app.register(certificateRoutes(deps));
    await app.register(clusterRoutes(deps));
    if (deps.state) {
      await app.register(profileRoutes(deps));
      await app.register(projectRoutes(deps, deps.state));
      await app.register(instanceIoRoutes(deps));
      await app.register(storageRoutes(deps, deps.state));
      await app.register(instancesRoutes(deps));
      await app.register(networkRoutes(deps, deps.state));
      await app.register(imageRoutes(deps, deps.state));
      await app.register(warningRoutes(deps, deps.state));
      await app.register(metricsRoutes(deps, deps.state));
      await app.register(resourceRoutes(deps));
    }
  };
}
