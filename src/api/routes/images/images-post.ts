/**
 * `POST /1.0/images` as LXD's imagesPost, by Content-Type:
 * - `application/octet-stream`: a unified tarball as the raw body;
 * - `multipart/form-data`: a split image, parts `metadata` then `rootfs` (or `rootfs.img`);
 * - anything else: a JSON ImagesPost. `source.type` `busybox` (Shoal extension
 *   `shoal_image_build_busybox`) builds on this member's agent; `image` copies an image record
 *   from another project (`source.project`) of this cluster. Other sources are refused.
 * Uploads take X-LXD-fingerprint/-filename/-public/-properties/-profiles/-aliases. The bytes
 * stream into this member's agent before the reply (a bad tarball or a fingerprint mismatch is
 * a 400 and leaves nothing); the reply is an operation whose metadata has `fingerprint` and
 * `size` (LXD), resources `images`.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Value } from 'typebox/value';
import { requestorOf, type Identity } from '../../auth.js';
import type { ApiDeps } from '../../deps.js';
import { findImage, imageProjectOf } from '../../images/locator.js';
import { multipartBoundary, readMultipart } from '../../images/multipart.js';
import { checkAliasName, expiryFromApi, imageUrl, uploadHeaders } from '../../images/records.js';
import type { ImageCatalog, ImageUpload, NewImageFields } from '../../images/store.js';
import { CommonQuery, commonParams } from '../../query.js';
import { asyncResponse } from '../../response.js';
import { errors } from '../../../shared/index.js';
import { imageAliases, images, type ImageRecord, type StateStore } from '../../../state/index.js';
import { ImagePart } from '../../../../proto/gen/shoal/agent/v1/agent.js';
import { ImagesPost, LifecycleAction, type ImagesPost as ImagesPostT } from '../../types/index.js';
import { access } from './images-get.js';

const MAX_JSON_BYTES = 1024 * 1024;

/** The POST route (its own plugin: it takes raw bodies). */
export function imagePostRoutes(deps: ApiDeps, store: StateStore, catalog: ImageCatalog): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Every body reaches the handler as the raw stream; it decides how to read it.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

    app.post('/1.0/images', { config: { access: 'trusted' }, schema: { querystring: CommonQuery } }, async (req, reply) => {
      const { project } = commonParams(req.query);
      access(req.identity, project);
      const ctype = req.headers['content-type'] ?? '';
      const boundary = multipartBoundary(ctype);
      const signal = abortOnClose(req.raw);
      // LXD decodes JSON first and treats a body that is not JSON as an upload unless the type
      // says JSON (pylxd uploads without a Content-Type): peek at the first byte.
      const { body: raw, first, release } = await peek(req.raw);
      const isJson = /^application\/json\s*(;|$)/i.test(ctype) || (boundary === undefined && !/^application\/octet-stream\s*(;|$)/i.test(ctype) && (first === undefined || first === 0x7b));
      let rec: ImageRecord;
      let description = 'Uploading image';
      if (!isJson) {
        const h = uploadHeaders(req.headers);
        const upload: ImageUpload = boundary !== undefined ? splitUpload(raw, boundary) : { format: 'unified', chunks: unifiedChunks(raw) };
        const fields: NewImageFields = {
          fingerprint: h.fingerprint,
          filename: h.filename,
          public: h.public,
          autoUpdate: false,
          properties: h.properties,
          profiles: h.profiles,
          aliases: h.aliases.map((name) => ({ name, description: '' })),
          expiresAt: null,
        };
        for (const a of fields.aliases) checkAliasName(a.name);
        try {
          rec = await catalog.import(project, upload, fields, signal);
        } finally {
          // Whatever the agent did not need (it answered early) is read and dropped.
          release();
        }
      } else {
        const body = await readJson(raw);
        const src = body.source ?? undefined;
        const fields: NewImageFields = {
          fingerprint: '',
          filename: body.filename ?? '',
          public: body.public ?? false,
          autoUpdate: body.auto_update ?? false,
          properties: body.properties ?? {},
          profiles: body.profiles ?? undefined,
          aliases: (body.aliases ?? []).map((a) => ({ name: a.name ?? '', description: a.description ?? '' })),
          expiresAt: expiryFromApi(body.expires_at),
        };
        for (const a of fields.aliases) checkAliasName(a.name);
        if (src?.type === 'busybox') {
          return asyncResponse(reply, await buildOperation(deps, catalog, project, fields, req.id, req.identity));
        }
        if (src?.type === 'image' && (src.mode ?? 'pull') === 'pull' && !src.server) {
          description = 'Copying image';
          rec = await copyFromProject(store, project, src.project ?? project, src.alias, src.fingerprint, fields);
        } else {
          throw errors.invalid(`Image source type "${src?.type ?? ''}" is not supported (supported: an upload, "busybox", "image" from another project of this cluster)`);
        }
      }
      deps.events.lifecycle(project, LifecycleAction.ImageCreated, imageUrl(project, rec.fingerprint), undefined, requestorOf(req.identity));
      const result = { fingerprint: rec.fingerprint, size: rec.size };
      const op = await deps.operations.createTask({
        type: 'image-upload',
        description,
        project,
        resources: { images: [imageUrl(project, rec.fingerprint)] },
        requestId: req.id,
        run: async () => {
          // cluster.images_minimal_replica: LXD copies before the operation completes.
          if (description !== 'Copying image') await catalog.replicate(project, rec.fingerprint);
          return result;
        },
      });
      return asyncResponse(reply, op);
    });
  };
}

/** The busybox build runs inside the operation (it takes seconds). */
async function buildOperation(deps: ApiDeps, catalog: ImageCatalog, project: string, fields: NewImageFields, requestId: string, identity: Identity) {
  return deps.operations.createTask({
    type: 'image-build',
    description: 'Building image',
    project,
    resources: { images: [] },
    requestId,
    run: async (ctx) => {
      const rec = await catalog.build(project, 'busybox', fields, ctx.signal);
      ctx.setResources({ images: [imageUrl(project, rec.fingerprint)] });
      await catalog.replicate(project, rec.fingerprint);
      deps.events.lifecycle(project, LifecycleAction.ImageCreated, imageUrl(project, rec.fingerprint), undefined, requestorOf(identity));
      return { fingerprint: rec.fingerprint, size: rec.size };
    },
  });
}

/** `source.type: image` within the cluster: the record is copied; the files are shared by fingerprint. */
async function copyFromProject(
  store: StateStore,
  project: string,
  fromProject: string,
  alias: string | undefined,
  fingerprint: string | undefined,
  f: NewImageFields,
): Promise<ImageRecord> {
  const { result } = await store.update((tx) => {
    const fromIp = imageProjectOf(tx, fromProject);
    let fp = fingerprint ?? '';
    if (alias) {
      const a = tx.get(imageAliases, fromIp, alias);
      if (!a) throw errors.notFound(`Image "${alias}" not found`);
      fp = a.record.target;
    }
    if (!fp) throw errors.invalid('Image source needs an alias or a fingerprint');
    const src = findImage(tx, fromProject, fp);
    const ip = imageProjectOf(tx, project);
    if (tx.get(images, ip, src.fingerprint)) throw errors.exists('Image with same fingerprint already exists');
    const rec: ImageRecord = { ...src, project: ip, public: f.public, auto_update: f.autoUpdate, uploaded_at: new Date().toISOString(), last_used_at: null, ...(f.profiles ? { profiles: [...f.profiles] } : {}) };
    tx.create(images, rec);
    for (const a of f.aliases) {
      if (tx.get(imageAliases, ip, a.name)) throw errors.exists(`Alias "${a.name}" already exists`);
      tx.create(imageAliases, { name: a.name, project: ip, description: a.description, target: rec.fingerprint, type: rec.type });
    }
    return rec;
  });
  return result;
}

async function* unifiedChunks(raw: AsyncIterable<Buffer>): AsyncGenerator<{ readonly part: ImagePart; readonly data: Buffer }> {
  for await (const data of raw) yield { part: ImagePart.IMAGE_PART_METADATA, data };
}

function splitUpload(raw: AsyncIterable<Buffer>, boundary: string): ImageUpload {
  async function* chunks(): AsyncGenerator<{ readonly part: ImagePart; readonly data: Buffer }> {
    let part: ImagePart | undefined;
    const seen = new Set<string>();
    for await (const e of readMultipart(raw, boundary)) {
      if (e.type === 'part') {
        if (e.name === 'metadata' && seen.size === 0) part = ImagePart.IMAGE_PART_METADATA;
        else if ((e.name === 'rootfs' || e.name === 'rootfs.img') && seen.has('metadata')) part = ImagePart.IMAGE_PART_ROOTFS;
        else throw errors.invalid(`Unexpected part "${e.name}" in a split image upload (expected "metadata", then "rootfs")`);
        seen.add(e.name);
      } else if (part !== undefined) {
        yield { part, data: e.data };
      }
    }
    if (!seen.has('metadata') || seen.size < 2) throw errors.invalid('A split image upload needs a "metadata" and a "rootfs" part');
  }
  return { format: 'split', chunks: chunks() };
}

/**
 * The body with its first non-whitespace byte looked at (undefined: empty body). The returned
 * iterable yields everything, the bytes read while peeking included.
 */
async function peek(raw: IncomingMessage): Promise<{ body: AsyncIterable<Buffer>; first: number | undefined; release: () => void }> {
  // Not destroyed when a reader stops early (the agent answered): the reply must still go out.
  const it = raw.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let first: number | undefined;
  let done = false;
  while (first === undefined) {
    const n = await it.next();
    if (n.done) {
      done = true;
      break;
    }
    head.push(n.value);
    first = [...n.value.subarray(0, 64)].find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
    if (first === undefined && n.value.length > 64) first = n.value[0];
  }
  async function* body(): AsyncGenerator<Buffer> {
    yield* head;
    if (done) return;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  }
  const release = (): void => {
    // Drop what nobody read, so the client can finish sending and read the reply.
    void it.return?.();
    if (!raw.readableEnded) raw.resume();
  };
  return { body: body(), first, release };
}

async function readJson(raw: AsyncIterable<Buffer>): Promise<ImagesPostT> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of raw) {
    n += c.length;
    if (n > MAX_JSON_BYTES) throw errors.invalid('Request body too large for a JSON image request (uploads need Content-Type application/octet-stream or multipart/form-data)');
    parts.push(c);
  }
  const text = Buffer.concat(parts).toString('utf8');
  let body: unknown;
  try {
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw errors.invalid(`Invalid JSON in request body: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!Value.Check(ImagesPost, body)) {
    const first = Value.Errors(ImagesPost, body)[0];
    throw errors.invalid(`Invalid image request: ${first ? `${first.instancePath || 'body'} ${first.message}` : 'bad shape'}`);
  }
  return body;
}

/** An AbortSignal that fires when the client goes away before the body was read. */
function abortOnClose(raw: IncomingMessage): AbortSignal {
  const ac = new AbortController();
  raw.once('close', () => {
    if (!raw.readableEnded) ac.abort(errors.cancelled('The client closed the upload'));
  });
  return ac.signal;
}
