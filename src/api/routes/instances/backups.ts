/**
 * `/1.0/instances/<name>/backups` (LXD's `container_backup`): Shoal keeps no instance backups, so
 * the list is always empty (what `lxc info <instance>` reads) and creating one is refused with a
 * clear error — nothing is written. Export/import of instances is not offered yet.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { InstanceContext } from '../../instances/context.js';
import { CommonQuery } from '../../query.js';
import { sync } from '../../response.js';
import { errors } from '../../../shared/index.js';
import { instances } from '../../../state/index.js';
import { SyncResponse } from '../../types/index.js';
import { projectOf } from './instance.js';

const NameParams = Type.Object({ name: Type.String() });

/** Registers the backup routes. */
export function backupRoutes(ctx: InstanceContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/1.0/instances/:name/backups',
      { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, response: { 200: SyncResponse(Type.Array(Type.Unknown())) } } },
      async (req) => {
        const project = projectOf(req.identity, req.query);
        const view = await ctx.store.view();
        if (!view.get(instances, project, req.params.name)) throw errors.notFound(`Instance "${req.params.name}" not found`);
        return sync([]);
      },
    );
    app.post('/1.0/instances/:name/backups', { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery } }, async () => {
      throw errors.invalid('Instance backups are not supported by Shoal yet');
    });
  };
}
