/**
 * Instance logs (LXD lxd/instance_logs.go):
 * - `GET /1.0/instances/<n>/logs`: the log files LXD would list (`lxc.log`, `lxc.conf`, …). The
 *   node agent exposes none of them yet, so the list is empty; asking for one of LXD's names is a
 *   404, any other name a 400 ("Log file name … not valid").
 * - `GET /1.0/instances/<n>/logs/exec-output`: the recorded outputs of `record-output` execs;
 *   `GET|DELETE …/exec-output/<file>` reads (raw) or removes one.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errors } from '../../../shared/index.js';
import { requestorOf } from '../../auth.js';
import { isExecOutputFileName } from '../../instance-io/exec-output-store.js';
import { checkInstanceName, instanceUrl } from '../../instance-io/instance-ref.js';
import { CommonQuery, commonParams } from '../../query.js';
import { sync, syncEmpty } from '../../response.js';
import { EmptySyncResponse, LifecycleAction, SyncResponse } from '../../types/index.js';
import { instances } from '../../../state/index.js';
import { IO_PREFIXES, NameParams, checkAccess, type IoDeps } from './common.js';

/** LXD's readable instance log names (validLogFileName). */
const LXD_LOG_NAMES = new Set(['lxc.conf', 'qemu.conf', 'edk2.log', 'lxc.log', 'qemu.log', 'qemu.early.log']);

const FileParams = Type.Object({ name: Type.String(), file: Type.String() });

/** The routes. */
export function logRoutes(d: IoDeps): FastifyPluginAsyncTypebox {
  const requireInstance = async (project: string, name: string): Promise<void> => {
    checkInstanceName(name);
    (await d.store.view()).require(instances, project, name);
  };

  return async (app) => {
    for (const kind of IO_PREFIXES) {
      app.get(
        `/1.0/${kind}/:name/logs`,
        { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, response: { 200: SyncResponse(Type.Array(Type.String())) } } },
        async (req) => {
          const { project } = commonParams(req.query);
          checkAccess(req.identity, project);
          await requireInstance(project, req.params.name);
          return sync([] as string[]);
        },
      );

      app.get(
        `/1.0/${kind}/:name/logs/:file`,
        { config: { access: 'trusted' }, schema: { params: FileParams, querystring: CommonQuery } },
        async (req) => {
          const { project } = commonParams(req.query);
          checkAccess(req.identity, project);
          await requireInstance(project, req.params.name);
          const file = req.params.file;
          if (!LXD_LOG_NAMES.has(file)) throw errors.invalid(`Log file name "${file}" not valid`);
          throw errors.notFound(`Log file "${file}" not found`);
        },
      );

      app.get(
        `/1.0/${kind}/:name/logs/exec-output`,
        { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, response: { 200: SyncResponse(Type.Array(Type.String())) } } },
        async (req) => {
          const { project } = commonParams(req.query);
          checkAccess(req.identity, project);
          await requireInstance(project, req.params.name);
          const files = await d.outputs.list(project, req.params.name);
          return sync(files.map((f) => instanceUrl(project, req.params.name, `/logs/exec-output/${f}`)));
        },
      );

      app.get(
        `/1.0/${kind}/:name/logs/exec-output/:file`,
        { config: { access: 'trusted' }, schema: { params: FileParams, querystring: CommonQuery } },
        async (req, reply) => {
          const { project } = commonParams(req.query);
          checkAccess(req.identity, project);
          await requireInstance(project, req.params.name);
          const file = req.params.file;
          if (!isExecOutputFileName(file)) throw errors.invalid(`Exec record-output file name "${file}" not valid`);
          const data = await d.outputs.get(project, req.params.name, file);
          if (!data) throw errors.notFound(`Exec record-output file "${file}" not found`);
          d.events.lifecycle(project, LifecycleAction.InstanceLogRetrieved, instanceUrl(project, req.params.name, `/logs/exec-output/${file}`), undefined, requestorOf(req.identity));
          return reply.type('application/octet-stream').header('Content-Disposition', `inline;filename=${file}`).send(Buffer.from(data));
        },
      );

      app.delete(
        `/1.0/${kind}/:name/logs/exec-output/:file`,
        { config: { access: 'trusted' }, schema: { params: FileParams, querystring: CommonQuery, response: { 200: EmptySyncResponse } } },
        async (req) => {
          const { project } = commonParams(req.query);
          checkAccess(req.identity, project);
          await requireInstance(project, req.params.name);
          const file = req.params.file;
          if (!isExecOutputFileName(file)) throw errors.invalid(`Exec record-output file name "${file}" not valid`);
          if (!(await d.outputs.delete(project, req.params.name, file))) throw errors.notFound(`Exec record-output file "${file}" not found`);
          d.events.lifecycle(project, LifecycleAction.InstanceLogDeleted, instanceUrl(project, req.params.name, `/logs/exec-output/${file}`), undefined, requestorOf(req.identity));
          return syncEmpty();
        },
      );
    }
  };
}
