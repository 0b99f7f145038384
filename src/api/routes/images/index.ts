/**
 * `/1.0/images` and `/1.0/images/aliases` (LXD 1.0 wire shapes; README.md of src/api). Served
 * when the cluster database is present; uploads, builds, deletes and exports also need the
 * members' agents (`deps.agents`), without them they answer 400 saying so.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiDeps } from '../../deps.js';
import { ImageSecrets } from '../../images/secrets.js';
import { ImageCatalog } from '../../images/store.js';
import type { MemberAgents } from '../../ports.js';
import { errors } from '../../../shared/index.js';
import type { StateStore } from '../../../state/index.js';
import { imageAliasRoutes } from './aliases.js';
import { imageActionRoutes } from './images-actions.js';
import { imageReadRoutes } from './images-get.js';
import { imagePostRoutes } from './images-post.js';

/** Largest accepted upload (all parts), bytes. */
export const DEFAULT_MAX_IMAGE_UPLOAD_BYTES = 16 * 1024 ** 3;

/** Options of {@link imageRoutes}. */
export interface ImageRouteOptions {
  readonly maxUploadBytes?: number;
}

/** Shared by every listener built over the same deps (a secret made on one works on the other). */
const perDeps = new WeakMap<ApiDeps, { readonly agents: MemberAgents; readonly catalog: ImageCatalog; readonly secrets: ImageSecrets }>();

/** All image routes. */
export function imageRoutes(deps: ApiDeps, store: StateStore, opts: ImageRouteOptions = {}): FastifyPluginAsyncTypebox {
  let shared = perDeps.get(deps);
  if (!shared) {
    shared = parts(deps, store, opts);
    perDeps.set(deps, shared);
  }
  const { agents, catalog, secrets } = shared;
  return async (app) => {
    await app.register(imageReadRoutes(deps, store, secrets));
    await app.register(imageAliasRoutes(deps, store));
    await app.register(imageActionRoutes(deps, store, agents, catalog, secrets));
    await app.register(imagePostRoutes(deps, store, catalog));
  };
}

function parts(deps: ApiDeps, store: StateStore, opts: ImageRouteOptions): { agents: MemberAgents; catalog: ImageCatalog; secrets: ImageSecrets } {
  const agents: MemberAgents = deps.agents ?? {
    client: () => {
      throw errors.precondition('Image uploads, builds, exports and deletes need the members\' node agents, which this server does not have');
    },
  };
  const catalog = new ImageCatalog({
    store,
    agents,
    log: deps.log.child({ component: 'images' }),
    memberName: () => deps.serverInfo.memberName(),
    maxUploadBytes: opts.maxUploadBytes ?? DEFAULT_MAX_IMAGE_UPLOAD_BYTES,
    ...(deps.images ? { locator: deps.images } : {}),
  });
  const secrets = new ImageSecrets(deps.operations, () => deps.clock.now());
  return { agents, catalog, secrets };
}
