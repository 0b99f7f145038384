/**
 * Instance I/O routes (issue 7): exec, files, console log, logs. Served when the API has the
 * cluster database; host work goes to the agent of the member holding the instance.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiDeps } from '../../deps.js';
import { StateExecOutputStore } from '../../instance-io/exec-output-store.js';
import { ErrorCode, ShoalError } from '../../../shared/index.js';
import type { IoDeps } from './common.js';
import { consoleRoutes } from './console.js';
import { execRoutes } from './exec.js';
import { fileRoutes } from './files.js';
import { logRoutes } from './logs.js';

/** Registers every instance I/O route. Needs `deps.state`. */
export function instanceIoRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const store = deps.state;
  if (!store) throw new ShoalError(ErrorCode.Internal, 'Instance I/O needs the cluster database');
  const d: IoDeps = {
    store,
    agents: deps.agents,
    outputs: new StateExecOutputStore(store),
    operations: deps.operations,
    events: deps.events,
    clock: deps.clock,
    log: deps.log,
    api: deps,
  };
  return async (app) => {
    await app.register(execRoutes(d));
    await app.register(fileRoutes(d));
    await app.register(logRoutes(d));
    await app.register(consoleRoutes(d));
  };
}
