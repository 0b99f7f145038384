/**
 * `DELETE /1.0/images/<fp>` (async; removes the files from every member, see images/store.ts for
 * what happens when a member cannot be reached), `GET /1.0/images/<fp>/export` (the unified
 * tarball, or LXD's multipart `metadata` + `rootfs` for split images, streamed from a member that
 * holds it), `POST /1.0/images/<fp>/secret` (token operation), `POST /1.0/images/<fp>/refresh`
 * (not supported: Shoal images have no update source).
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requestorOf } from '../../auth.js';
import type { ApiDeps } from '../../deps.js';
import { findImage } from '../../images/locator.js';
import { imageUrl } from '../../images/records.js';
import type { ImageSecrets } from '../../images/secrets.js';
import { leftoverError, type ImageCatalog } from '../../images/store.js';
import { CommonQuery, commonParams } from '../../query.js';
import { asyncResponse } from '../../response.js';
import { errors } from '../../../shared/index.js';
import { imageMembers, type StateStore } from '../../../state/index.js';
import { ImageFormat, ImagePart } from '../../../../proto/gen/shoal/agent/v1/agent.js';
import type { MemberAgents } from '../../ports.js';
import { LifecycleAction } from '../../types/index.js';
import { FpParams, SecretQuery, access, canSee, notFound } from './images-get.js';

/** Routes of image actions. */
export function imageActionRoutes(deps: ApiDeps, store: StateStore, agents: MemberAgents, catalog: ImageCatalog, secrets: ImageSecrets): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.delete('/1.0/images/:fingerprint', { config: { access: 'trusted' }, schema: { params: FpParams, querystring: CommonQuery } }, async (req, reply) => {
      const { project } = commonParams(req.query);
      access(req.identity, project);
      // Resolve now, so a missing image is a 404 rather than a failed operation.
      const fp = findImage(await store.view(), project, req.params.fingerprint).fingerprint;
      const op = await deps.operations.createTask({
        type: 'image-delete',
        description: 'Deleting image',
        project,
        resources: { images: [imageUrl(project, fp)] },
        requestId: req.id,
        run: async () => {
          const { leftovers } = await catalog.delete(project, fp);
          deps.events.lifecycle(project, LifecycleAction.ImageDeleted, imageUrl(project, fp), undefined, requestorOf(req.identity));
          const err = leftoverError(fp, leftovers);
          if (err) throw err;
        },
      });
      return asyncResponse(reply, op);
    });

    app.get('/1.0/images/:fingerprint/export', { config: { access: 'untrusted' }, schema: { params: FpParams, querystring: SecretQuery } }, async (req, reply) => {
      const { project } = commonParams(req.query);
      const view = await store.view();
      const rec = findImage(view, project, req.params.fingerprint);
      const secret = req.query.secret;
      const secretOk = secret !== undefined && secrets.valid(secret, rec.fingerprint);
      if (!canSee(req.identity, rec, project, secretOk)) throw notFound(req.params.fingerprint);
      const fp = rec.fingerprint;
      const holders = view.list(imageMembers, fp).filter((c) => c.record.ready).map((c) => c.record.member);
      const self = deps.serverInfo.memberName();
      const source = holders.includes(self) ? self : holders[0];
      if (source === undefined) throw errors.unavailable(`Image "${fp}" is not stored on any member`);
      const client = agents.client(source);
      const desc = (await client.unary('getImage', { fingerprint: fp })).image;
      if (!desc) throw errors.internal(`Member "${source}" described image "${fp}" without an image`);
      if (secret !== undefined && secretOk) await secrets.consume(secret);
      deps.events.lifecycle(project, LifecycleAction.ImageRetrieved, imageUrl(project, fp), { target: '' }, requestorOf(req.identity));
      const ac = new AbortController();
      req.raw.once('close', () => ac.abort());
      const part = (p: ImagePart): AsyncGenerator<Buffer> =>
        (async function* () {
          for await (const m of client.exportImage({ fingerprint: fp, part: p, offset: 0 }, { signal: ac.signal, timeoutMs: 0 })) {
            if (m.chunk && m.chunk.data.length > 0) yield m.chunk.data;
          }
        })();
      if (desc.format !== ImageFormat.IMAGE_FORMAT_SPLIT) {
        const name = rec.filename || `${fp}.tar`;
        void reply
          .header('Content-Type', 'application/octet-stream')
          .header('Content-Length', String(Number(desc.metadataSizeBytes)))
          .header('Content-Disposition', `attachment; filename=${quoteName(name)}`);
        return reply.send(Readable.from(part(ImagePart.IMAGE_PART_METADATA)));
      }
      const boundary = randomBytes(16).toString('hex');
      const base = rec.filename || fp;
      async function* multipart(): AsyncGenerator<Buffer> {
        yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="metadata"; filename=${quoteName(`${base}.meta`)}\r\nContent-Type: application/octet-stream\r\n\r\n`);
        yield* part(ImagePart.IMAGE_PART_METADATA);
        yield Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="rootfs"; filename=${quoteName(`${base}.rootfs`)}\r\nContent-Type: application/octet-stream\r\n\r\n`);
        yield* part(ImagePart.IMAGE_PART_ROOTFS);
        yield Buffer.from(`\r\n--${boundary}--\r\n`);
      }
      void reply.header('Content-Type', `multipart/form-data; boundary=${boundary}`);
      return reply.send(Readable.from(multipart()));
    });

    app.post('/1.0/images/:fingerprint/secret', { config: { access: 'trusted' }, schema: { params: FpParams, querystring: CommonQuery } }, async (req, reply) => {
      const { project } = commonParams(req.query);
      access(req.identity, project);
      const fp = findImage(await store.view(), project, req.params.fingerprint).fingerprint;
      const op = await secrets.create(project, fp, req.id);
      deps.events.lifecycle(project, LifecycleAction.ImageSecretCreated, imageUrl(project, fp), undefined, requestorOf(req.identity));
      return asyncResponse(reply, op);
    });

    app.post('/1.0/images/:fingerprint/refresh', { config: { access: 'trusted' }, schema: { params: FpParams, querystring: CommonQuery } }, async (req) => {
      const { project } = commonParams(req.query);
      access(req.identity, project);
      const fp = findImage(await store.view(), project, req.params.fingerprint).fingerprint;
      throw errors.precondition(`Image "${fp}" cannot be refreshed: Shoal does not support image update sources (refresh is not supported)`);
    });
  };
}

/** A quoted-string for Content-Disposition (quotes and backslashes escaped, non-ASCII dropped). */
function quoteName(name: string): string {
  return `"${name.replace(/[^\x20-\x7e]/g, '_').replace(/(["\\])/g, '\\$1')}"`;
}
