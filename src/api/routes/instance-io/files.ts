/**
 * `GET|POST|DELETE /1.0/instances/<name>/files?path=` (LXD lxd/instance_file.go) over the holder's
 * agent (PullFile, PushFile, DeleteFile), for running and stopped instances alike.
 * - GET: a regular file comes back raw (`application/octet-stream`); a directory as a sync
 *   response listing its entries; a symlink as its target (made absolute, as LXD does); each with
 *   `X-LXD-uid`, `X-LXD-gid`, `X-LXD-mode` (`%04o`) and `X-LXD-type`.
 * - POST: the body is the content (file), the target (symlink) or ignored (directory); headers
 *   per instance-io/file-headers.ts. The body is streamed to the agent, never parsed here.
 * - DELETE: a file, symlink or empty directory.
 * The agent refuses paths with `..` components (400) and paths that escape the instance's root
 * through symlinks (403), and never follows the last component of a path.
 */
import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errors } from '../../../shared/index.js';
import { requestorOf } from '../../auth.js';
import { filePathParam, formatMode, parseFileHeaders, type FileKind } from '../../instance-io/file-headers.js';
import { instanceUrl, locateInstance } from '../../instance-io/instance-ref.js';
import { CommonQuery, commonParams } from '../../query.js';
import { sync, syncEmpty } from '../../response.js';
import { EmptySyncResponse, LifecycleAction } from '../../types/index.js';
import { FileType, FileWriteMode } from '../../../../proto/gen/shoal/agent/v1/agent.js';
import { IO_PREFIXES, NameParams, checkAccess, type IoDeps } from './common.js';

const FileQuery = Type.Object({ ...CommonQuery.properties, path: Type.Optional(Type.String()) });

const KIND_OF: Readonly<Partial<Record<FileType, FileKind>>> = {
  [FileType.FILE_TYPE_FILE]: 'file',
  [FileType.FILE_TYPE_DIRECTORY]: 'directory',
  [FileType.FILE_TYPE_SYMLINK]: 'symlink',
};
const TYPE_OF: Readonly<Record<FileKind, FileType>> = {
  file: FileType.FILE_TYPE_FILE,
  directory: FileType.FILE_TYPE_DIRECTORY,
  symlink: FileType.FILE_TYPE_SYMLINK,
};

/** The routes. Registered in their own context: POST bodies stay unparsed streams. */
export function fileRoutes(d: IoDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.removeAllContentTypeParsers();
    // Leave the body in the request stream; the POST handler streams it to the agent.
    app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

    for (const kind of IO_PREFIXES) {
      app.get(
        `/1.0/${kind}/:name/files`,
        { config: { access: 'trusted' }, schema: { params: NameParams, querystring: FileQuery } },
        async (req, reply) => {
          const { project } = commonParams(req.query);
          checkAccess(req.identity, project);
          const path = filePathParam(req.query.path);
          const inst = await locateInstance(d.store, d.agents, project, req.params.name);
          const { header, content } = await inst.agent.pullFile({ project, name: inst.record.name, path }, { requestId: req.id, timeoutMs: 300_000 });
          const kind = KIND_OF[header.type];
          if (!kind) throw errors.internal(`Agent answered an unknown file type ${header.type}`);
          void reply.headers({ 'X-LXD-uid': String(header.uid), 'X-LXD-gid': String(header.gid), 'X-LXD-mode': formatMode(header.mode), 'X-LXD-type': kind });
          d.events.lifecycle(project, LifecycleAction.InstanceFileRetrieved, instanceUrl(project, inst.record.name), { path }, requestorOf(req.identity));
          if (kind === 'directory') return reply.type('application/json').send(sync([...header.entries]));
          const body = kind === 'file' ? content : Buffer.from(header.target.startsWith('/') ? header.target : posix.join(posix.dirname(path), header.target));
          return reply
            .type('application/octet-stream')
            .header('Content-Disposition', `inline;filename=${posix.basename(path)}`)
            .send(body);
        },
      );

      app.post(
        `/1.0/${kind}/:name/files`,
        { config: { access: 'trusted' }, schema: { params: NameParams, querystring: FileQuery, response: { 200: EmptySyncResponse } } },
        async (req) => {
          const body = req.raw;
          try {
            const { project } = commonParams(req.query);
            checkAccess(req.identity, project);
            const path = filePathParam(req.query.path);
            const h = parseFileHeaders(req.headers);
            const inst = await locateInstance(d.store, d.agents, project, req.params.name);
            const target = h.type === 'symlink' ? (await readAll(body)).toString('utf8') : '';
            if (h.type === 'directory') body.resume();
            await inst.agent.pushFile(
              randomUUID(),
              {
                project,
                name: inst.record.name,
                path,
                type: TYPE_OF[h.type],
                ...(h.uid === undefined ? {} : { uid: h.uid }),
                ...(h.gid === undefined ? {} : { gid: h.gid }),
                ...(h.mode === undefined ? {} : { mode: h.mode }),
                writeMode: h.write === 'append' ? FileWriteMode.FILE_WRITE_MODE_APPEND : FileWriteMode.FILE_WRITE_MODE_OVERWRITE,
                target,
              },
              h.type === 'file' ? (body as AsyncIterable<Buffer>) : Buffer.alloc(0),
              { requestId: req.id, timeoutMs: 0 },
            );
            d.events.lifecycle(project, LifecycleAction.InstanceFilePushed, instanceUrl(project, inst.record.name), { path }, requestorOf(req.identity));
            return syncEmpty();
          } finally {
            // An unread body (a refusal before streaming) is drained so the connection can carry the answer.
            if (!body.readableEnded) body.resume();
          }
        },
      );

      app.delete(
        `/1.0/${kind}/:name/files`,
        { config: { access: 'trusted' }, schema: { params: NameParams, querystring: FileQuery, response: { 200: EmptySyncResponse } } },
        async (req) => {
          const { project } = commonParams(req.query);
          checkAccess(req.identity, project);
          const path = filePathParam(req.query.path);
          const inst = await locateInstance(d.store, d.agents, project, req.params.name);
          await inst.agent.unary('deleteFile', { operationId: randomUUID(), project, name: inst.record.name, path }, { requestId: req.id });
          d.events.lifecycle(project, LifecycleAction.InstanceFileDeleted, instanceUrl(project, inst.record.name), { path }, requestorOf(req.identity));
          return syncEmpty();
        },
      );
    }
  };
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    size += c.length;
    if (size > 4096) throw errors.invalid('Symlink target too long');
    parts.push(c);
  }
  return Buffer.concat(parts);
}
