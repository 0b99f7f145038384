/**
 * `/1.0/images/aliases` (LXD lxd/images.go alias handlers): list (recursion, filter), create
 * (201 + Location), get (ETag; untrusted callers only for aliases of public images), PUT/PATCH
 * (If-Match; description, target), POST (rename), DELETE. Aliases live in the project that holds
 * the images (`features.images`). Every check happens inside the transaction.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestorOf } from '../../auth.js';
import type { ApiDeps } from '../../deps.js';
import { matchFilter } from '../../filter.js';
import { findImage, imageProjectOf } from '../../images/locator.js';
import { aliasEtagView, aliasToApi, aliasUrl, checkAliasName } from '../../images/records.js';
import { CommonQuery, commonParams } from '../../query.js';
import { checkIfMatch, created, sync, syncEmpty, withEtag } from '../../response.js';
import { errors } from '../../../shared/index.js';
import { imageAliases, images, type ImageAliasRecord, type StateStore } from '../../../state/index.js';
import {
  EmptySyncResponse,
  ImageAliasesEntry,
  ImageAliasesEntryPost,
  ImageAliasesEntryPut,
  ImageAliasesPost,
  LifecycleAction,
  SyncResponse,
} from '../../types/index.js';
import { access } from './images-get.js';

const NameParams = Type.Object({ name: Type.String() });

function aliasNotFound(name: string): Error {
  return errors.notFound(`Image alias "${name}" not found`);
}

/** Routes of `/1.0/images/aliases`. */
export function imageAliasRoutes(deps: ApiDeps, store: StateStore): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/1.0/images/aliases', { config: { access: 'trusted' }, schema: { querystring: CommonQuery } }, async (req) => {
      const q = commonParams(req.query);
      access(req.identity, q.project);
      const view = await store.view();
      const all = view
        .list(imageAliases, imageProjectOf(view, q.project))
        .map((s) => aliasToApi(s.record))
        .filter((a) => matchFilter(a, q.filter));
      return sync(q.recursion > 0 ? all : all.map((a) => aliasUrl(q.project, a.name)));
    });

    app.post('/1.0/images/aliases', { config: { access: 'trusted' }, schema: { querystring: CommonQuery, body: ImageAliasesPost } }, async (req, reply) => {
      const { project } = commonParams(req.query);
      access(req.identity, project);
      const b = req.body;
      checkAliasName(b.name);
      await store.update((tx) => {
        const ip = imageProjectOf(tx, project);
        const img = findImage(tx, project, b.target);
        if (tx.get(imageAliases, ip, b.name)) throw errors.exists(`Alias "${b.name}" already exists`);
        tx.create(imageAliases, { name: b.name, project: ip, description: b.description ?? '', target: img.fingerprint, type: img.type });
      });
      deps.events.lifecycle(project, LifecycleAction.ImageAliasCreated, aliasUrl(project, b.name), { target: b.target }, requestorOf(req.identity));
      return created(reply, aliasUrl(project, b.name));
    });

    app.get(
      '/1.0/images/aliases/:name',
      { config: { access: 'untrusted' }, schema: { params: NameParams, querystring: CommonQuery, response: { 200: SyncResponse(ImageAliasesEntry) } } },
      async (req, reply) => {
        const { project } = commonParams(req.query);
        if (req.identity.trusted) access(req.identity, project);
        const view = await store.view();
        const ip = imageProjectOf(view, project);
        const a = view.get(imageAliases, ip, req.params.name)?.record;
        if (!a) throw aliasNotFound(req.params.name);
        if (!req.identity.trusted && !view.get(images, ip, a.target)?.record.public) throw aliasNotFound(req.params.name);
        return withEtag(reply, aliasEtagView(a), sync(aliasToApi(a)));
      },
    );

    for (const [method, mode] of [['put', 'replace'], ['patch', 'merge']] as const) {
      app[method](
        '/1.0/images/aliases/:name',
        { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, body: ImageAliasesEntryPut, response: { 200: EmptySyncResponse } } },
        async (req) => {
          const { project } = commonParams(req.query);
          access(req.identity, project);
          const b = req.body;
          if (mode === 'replace' && (b.target === undefined || b.target === '')) throw errors.invalid('The target field is required');
          await store.update((tx) => {
            const ip = imageProjectOf(tx, project);
            const cur = tx.get(imageAliases, ip, req.params.name)?.record;
            if (!cur) throw aliasNotFound(req.params.name);
            checkIfMatch(req, aliasEtagView(cur));
            const target = b.target ? findImage(tx, project, b.target) : undefined;
            const next: ImageAliasRecord = {
              ...cur,
              description: mode === 'replace' ? (b.description ?? '') : (b.description ?? cur.description),
              target: target?.fingerprint ?? cur.target,
              type: target?.type ?? cur.type,
            };
            tx.put(imageAliases, next);
          });
          deps.events.lifecycle(project, LifecycleAction.ImageAliasUpdated, aliasUrl(project, req.params.name), undefined, requestorOf(req.identity));
          return syncEmpty();
        },
      );
    }

    app.post('/1.0/images/aliases/:name', { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, body: ImageAliasesEntryPost } }, async (req, reply) => {
      const { project } = commonParams(req.query);
      access(req.identity, project);
      const from = req.params.name;
      const to = req.body.name;
      checkAliasName(to);
      await store.update((tx) => {
        const ip = imageProjectOf(tx, project);
        const cur = tx.get(imageAliases, ip, from)?.record;
        if (!cur) throw aliasNotFound(from);
        if (tx.get(imageAliases, ip, to)) throw errors.exists(`Alias "${to}" already exists`);
        tx.delete(imageAliases, ip, from);
        tx.create(imageAliases, { ...cur, name: to });
      });
      deps.events.lifecycle(project, LifecycleAction.ImageAliasRenamed, aliasUrl(project, to), { old_name: from }, requestorOf(req.identity));
      return created(reply, aliasUrl(project, to));
    });

    app.delete('/1.0/images/aliases/:name', { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, response: { 200: EmptySyncResponse } } }, async (req) => {
      const { project } = commonParams(req.query);
      access(req.identity, project);
      await store.update((tx) => {
        const ip = imageProjectOf(tx, project);
        if (!tx.get(imageAliases, ip, req.params.name)) throw aliasNotFound(req.params.name);
        tx.delete(imageAliases, ip, req.params.name);
      });
      deps.events.lifecycle(project, LifecycleAction.ImageAliasDeleted, aliasUrl(project, req.params.name), undefined, requestorOf(req.identity));
      return syncEmpty();
    });
  };
}
