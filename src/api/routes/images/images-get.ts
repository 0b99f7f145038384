/**
 * `GET /1.0/images` (recursion, filter, project, all-projects; untrusted callers see public images
 * only), `GET /1.0/images/<fp>` (ETag; untrusted: public images or `?secret=`), `PUT|PATCH
 * /1.0/images/<fp>` (If-Match; LXD ImagePut fields).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { checkProjectAccess, requestorOf, type Identity } from '../../auth.js';
import type { ApiDeps } from '../../deps.js';
import { matchFilter } from '../../filter.js';
import { findImage, imageProjectOf } from '../../images/locator.js';
import { expiryFromApi, imageEtagView, imageToApi, imageUrl } from '../../images/records.js';
import type { ImageSecrets } from '../../images/secrets.js';
import { CommonQuery, commonParams } from '../../query.js';
import { checkIfMatch, sync, syncEmpty, withEtag } from '../../response.js';
import { errors, type ShoalError } from '../../../shared/index.js';
import { images, projects, type ImageRecord, type StateStore } from '../../../state/index.js';
import { EmptySyncResponse, Image, ImagePut, LifecycleAction, SyncResponse } from '../../types/index.js';

export const FpParams = Type.Object({ fingerprint: Type.String() });
export const SecretQuery = Type.Object({ ...CommonQuery.properties, secret: Type.Optional(Type.String()) });

/** Throws PERMISSION_DENIED unless `identity` may use `project`. */
export function access(identity: Identity, project: string): void {
  const denied = checkProjectAccess(identity, project);
  if (denied) throw denied;
}

/**
 * May `identity` see image `rec`? Trusted callers with project access, anyone for a public image,
 * and holders of a valid secret. Untrusted callers get NOT_FOUND otherwise (LXD hides them).
 */
export function canSee(identity: Identity, rec: ImageRecord, project: string, secretOk: boolean): boolean {
  if (identity.trusted) {
    access(identity, project);
    return true;
  }
  return rec.public || secretOk;
}

/** Routes of GET/PUT/PATCH on images. */
export function imageReadRoutes(deps: ApiDeps, store: StateStore, secrets: ImageSecrets): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/1.0/images', { config: { access: 'untrusted' }, schema: { querystring: CommonQuery } }, async (req) => {
      const q = commonParams(req.query);
      if (req.identity.trusted && !q.allProjects) access(req.identity, q.project);
      const view = await store.view();
      const projectNames = q.allProjects ? view.list(projects).map((p) => p.record.name) : [q.project];
      const out = [];
      const seen = new Set<string>();
      for (const p of projectNames) {
        if (q.allProjects && req.identity.trusted && checkProjectAccess(req.identity, p)) continue;
        const ip = imageProjectOf(view, p);
        if (seen.has(ip)) continue;
        seen.add(ip);
        for (const s of view.list(images, ip)) {
          if (!req.identity.trusted && !s.record.public) continue;
          const api = imageToApi(view, s.record);
          if (!matchFilter(api, q.filter)) continue;
          out.push(q.recursion > 0 ? api : imageUrl(p, s.record.fingerprint));
        }
      }
      return sync(out);
    });

    app.get(
      '/1.0/images/:fingerprint',
      { config: { access: 'untrusted' }, schema: { params: FpParams, querystring: SecretQuery, response: { 200: SyncResponse(Image) } } },
      async (req, reply) => {
        const { project } = commonParams(req.query);
        const view = await store.view();
        const rec = findImage(view, project, req.params.fingerprint);
        const secretOk = req.query.secret !== undefined && secrets.valid(req.query.secret, rec.fingerprint);
        if (!canSee(req.identity, rec, project, secretOk)) throw notFound(req.params.fingerprint);
        return withEtag(reply, imageEtagView(rec), sync(imageToApi(view, rec)));
      },
    );

    for (const [method, mode] of [['put', 'replace'], ['patch', 'merge']] as const) {
      app[method](
        '/1.0/images/:fingerprint',
        { config: { access: 'trusted' }, schema: { params: FpParams, querystring: CommonQuery, body: ImagePut, response: { 200: EmptySyncResponse } } },
        async (req) => {
          const { project } = commonParams(req.query);
          access(req.identity, project);
          const b = req.body;
          const expires = b.expires_at === undefined ? undefined : expiryFromApi(b.expires_at);
          const { result: fp } = await store.update((tx) => {
            const cur = findImage(tx, project, req.params.fingerprint);
            checkIfMatch(req, imageEtagView(cur));
            const next: ImageRecord =
              mode === 'replace'
                ? {
                    ...cur,
                    auto_update: b.auto_update ?? false,
                    properties: { ...(b.properties ?? {}) },
                    public: b.public ?? false,
                    expires_at: expires ?? null,
                    profiles: [...(b.profiles ?? cur.profiles)],
                  }
                : {
                    ...cur,
                    auto_update: b.auto_update ?? cur.auto_update,
                    properties: { ...cur.properties, ...(b.properties ?? {}) },
                    public: b.public ?? cur.public,
                    expires_at: expires === undefined ? cur.expires_at : expires,
                    profiles: [...(b.profiles ?? cur.profiles)],
                  };
            tx.put(images, next);
            return cur.fingerprint;
          });
          deps.events.lifecycle(project, LifecycleAction.ImageUpdated, imageUrl(project, fp), undefined, requestorOf(req.identity));
          return syncEmpty();
        },
      );
    }
  };
}

/** LXD's answer for an image the caller may not see. */
export function notFound(fp: string): ShoalError {
  return errors.notFound(`Image "${fp}" not found`);
}
