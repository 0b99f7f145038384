/**
 * `GET /1.0/instances/<n>/console`: the console log (what the instance's init wrote to its
 * console), raw, from the holder's agent (GetConsoleLog), for running and stopped instances
 * (LXD lxd/instance_console.go#instanceConsoleLogGet). Attaching to the console
 * (`POST …/console`) and clearing the log (`DELETE …/console`) need agent calls that do not exist
 * yet and are not served.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requestorOf } from '../../auth.js';
import { instanceUrl, locateInstance } from '../../instance-io/instance-ref.js';
import { CommonQuery, commonParams } from '../../query.js';
import { LifecycleAction } from '../../types/index.js';
import { IO_PREFIXES, NameParams, checkAccess, type IoDeps } from './common.js';

/** The route. */
export function consoleRoutes(d: IoDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    for (const kind of IO_PREFIXES) {
      app.get(
        `/1.0/${kind}/:name/console`,
        { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery } },
        async (req, reply) => {
          const { project } = commonParams(req.query);
          checkAccess(req.identity, project);
          const inst = await locateInstance(d.store, d.agents, project, req.params.name);
          const { log } = await inst.agent.unary('getConsoleLog', { project, name: inst.record.name }, { requestId: req.id });
          d.events.lifecycle(project, LifecycleAction.InstanceConsoleRetrieved, instanceUrl(project, inst.record.name), undefined, requestorOf(req.identity));
          return reply.type('application/octet-stream').header('Content-Disposition', 'inline;filename=console.log').send(Buffer.from(log, 'utf8'));
        },
      );
    }
  };
}
