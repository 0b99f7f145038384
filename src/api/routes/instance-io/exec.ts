/**
 * `POST /1.0/instances/<name>/exec` (LXD lxd/instance_exec.go#instanceExecPost): checks the
 * request, finds the instance and checks with its agent that it runs, then creates a websocket
 * operation (`wait-for-websocket`, instance-io/exec-websocket.ts) or a task
 * (instance-io/exec-task.ts). Refusals happen before any operation exists.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errors } from '../../../shared/index.js';
import { execEnvironment } from '../../instance-io/exec-env.js';
import { runExecTask } from '../../instance-io/exec-task.js';
import { ExecWebsocketSession } from '../../instance-io/exec-websocket.js';
import { instanceUrl, locateInstance, requireRunning } from '../../instance-io/instance-ref.js';
import { CommonQuery, commonParams } from '../../query.js';
import { asyncResponse } from '../../response.js';
import { InstanceExecPost } from '../../types/index.js';
import { IO_PREFIXES, NameParams, checkAccess, type IoDeps } from './common.js';

/** The route. */
export function execRoutes(d: IoDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    for (const kind of IO_PREFIXES) {
      app.post(
        `/1.0/${kind}/:name/exec`,
        { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, body: InstanceExecPost } },
        async (req, reply) => {
          const { project } = commonParams(req.query);
          checkAccess(req.identity, project);
          const b = req.body;
          const waitForWs = b['wait-for-websocket'] === true;
          const interactive = b.interactive === true;
          const record = b['record-output'] === true;
          if (record && waitForWs) throw errors.invalid('Cannot use "record-output" in combination with "wait-for-websocket"');
          if (record && interactive) throw errors.invalid('Cannot use "interactive" in combination with "record-output"');

          const inst = await locateInstance(d.store, d.agents, project, req.params.name);
          await requireRunning(inst, AbortSignal.timeout(30_000), req.id);
          const name = inst.record.name;
          const environment = execEnvironment(b, inst.config);
          const pty = waitForWs && interactive;
          const start = {
            project,
            name,
            command: b.command,
            env: environment,
            // LXD runs in HOME when no cwd is given (/root for root).
            cwd: b.cwd || environment['HOME'] || '',
            ...(b.user === undefined ? {} : { uid: b.user }),
            ...(b.group === undefined ? {} : { gid: b.group }),
            pty,
            ...(pty && b.width && b.width > 0 ? { width: b.width } : {}),
            ...(pty && b.height && b.height > 0 ? { height: b.height } : {}),
          };
          const url = instanceUrl(project, name);
          const common = {
            type: 'instance-exec',
            description: 'Executing command',
            project,
            resources: { instances: [url], containers: [url] },
            requestId: req.id,
          };
          const log = d.log.child({ component: 'exec', instance: name, project, reqId: req.id });
          if (waitForWs) {
            const session = new ExecWebsocketSession({ agent: inst.agent, start, interactive, log, clock: d.clock, requestId: req.id });
            const op = await d.operations.createWebsocket({
              ...common,
              metadata: { fds: session.fds, command: b.command, environment, interactive },
              secretKeys: ['fds'],
              run: (ctx) => session.run(ctx),
              accepts: (secret) => session.accepts(secret),
              attach: (secret, socket) => session.attach(secret, socket),
            });
            return asyncResponse(reply, op);
          }
          const op = await d.operations.createTask({
            ...common,
            run: (ctx) =>
              runExecTask(ctx, { agent: inst.agent, start, project, instance: name, requestId: req.id, ...(record ? { record: d.outputs } : {}) }),
          });
          return asyncResponse(reply, op);
        },
      );
    }
  };
}
