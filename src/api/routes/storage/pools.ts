/**
 * `/1.0/storage-pools` (LXD lxd/storage_pools.go): list, the two-phase create (`?target=` records a
 * member's part, the final POST creates the pool on every member), get (`?target=` shows that
 * member's keys and state), PUT/PATCH, delete from every member, and `/resources` of one member.
 * Pools are global: `?project=` is accepted and ignored, as in LXD.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestorOf } from '../../auth.js';
import type { ApiDeps } from '../../deps.js';
import { matchFilter } from '../../filter.js';
import { CommonQuery, commonParams } from '../../query.js';
import { checkIfMatch, created, sync, syncEmpty, withEtag } from '../../response.js';
import { requireAgents } from '../../storage/fan-out.js';
import { updatePool } from '../../storage/pool-update.js';
import { createPoolEverywhere, definePoolOnMember, deletePoolEverywhere, toApiPool } from '../../storage/pools.js';
import { errors, type Logger } from '../../../shared/index.js';
import { members, storagePoolMembers, storagePools, type StateStore } from '../../../state/index.js';
import { EmptySyncResponse, LifecycleAction, ResourcesStoragePool, StoragePool, StoragePoolPut, StoragePoolsPost, SyncResponse } from '../../types/index.js';

const PoolParams = Type.Object({ pool: Type.String() });

/** The editable part of a pool (its ETag). */
export function poolEtag(p: { description: string; config: Readonly<Record<string, string>> }): unknown {
  return { description: p.description, config: p.config };
}

/** Routes of `/1.0/storage-pools` (pools themselves; volumes are in volumes.ts). */
export function storagePoolRoutes(deps: ApiDeps, store: StateStore): FastifyPluginAsyncTypebox {
  const log: Logger = deps.log.child({ component: 'api-storage' });
  return async (app) => {
    app.get(
      '/1.0/storage-pools',
      { config: { access: 'trusted' }, schema: { querystring: CommonQuery, response: { 200: SyncResponse(Type.Union([Type.Array(StoragePool), Type.Array(Type.String())])) } } },
      async (req) => {
        const q = commonParams(req.query);
        const view = await store.view();
        const target = q.target;
        const pools = view.list(storagePools).map((s) => s.record);
        const shown = target === undefined ? pools : pools.filter((r) => view.get(storagePoolMembers, r.name, target) !== undefined);
        const all = shown.map((r) => toApiPool(view, r, target)).filter((p) => matchFilter(p, q.filter));
        return sync(q.recursion > 0 ? all : all.map((p) => `/1.0/storage-pools/${p.name}`));
      },
    );

    app.post(
      '/1.0/storage-pools',
      { config: { access: 'admin' }, schema: { querystring: CommonQuery, body: StoragePoolsPost } },
      async (req, reply) => {
        const { target } = commonParams(req.query);
        const b = req.body;
        const spec = { name: b.name, driver: b.driver, description: b.description ?? '', config: { ...(b.config ?? {}) } };
        if (target !== undefined) {
          await definePoolOnMember(store, spec, target);
          return created(reply, `/1.0/storage-pools/${b.name}`);
        }
        await createPoolEverywhere(store, deps.agents, spec, log, deps.clock);
        deps.events.lifecycle('default', LifecycleAction.StoragePoolCreated, `/1.0/storage-pools/${b.name}`, undefined, requestorOf(req.identity));
        return created(reply, `/1.0/storage-pools/${b.name}`);
      },
    );

    app.get(
      '/1.0/storage-pools/:pool',
      { config: { access: 'trusted' }, schema: { params: PoolParams, querystring: CommonQuery, response: { 200: SyncResponse(StoragePool) } } },
      async (req, reply) => {
        const { target } = commonParams(req.query);
        const view = await store.view();
        if (target !== undefined && !view.get(members, target)) throw errors.notFound(`Cluster member "${target}" not found`);
        const p = toApiPool(view, view.require(storagePools, req.params.pool).record, target);
        return withEtag(reply, poolEtag(p), sync(p));
      },
    );

    for (const [method, mode] of [['put', 'replace'], ['patch', 'merge']] as const) {
      app[method](
        '/1.0/storage-pools/:pool',
        { config: { access: 'admin' }, schema: { params: PoolParams, querystring: CommonQuery, body: StoragePoolPut, response: { 200: EmptySyncResponse } } },
        async (req) => {
          const { target } = commonParams(req.query);
          await updatePool(store, deps.agents, {
            name: req.params.pool,
            target,
            mode,
            description: req.body.description,
            config: req.body.config ?? undefined,
            check: (current) => checkIfMatch(req, poolEtag(current)),
            log,
          });
          deps.events.lifecycle('default', LifecycleAction.StoragePoolUpdated, `/1.0/storage-pools/${req.params.pool}`, target ? { target } : undefined, requestorOf(req.identity));
          return syncEmpty();
        },
      );
    }

    app.delete(
      '/1.0/storage-pools/:pool',
      { config: { access: 'admin' }, schema: { params: PoolParams, querystring: CommonQuery, response: { 200: EmptySyncResponse } } },
      async (req) => {
        await deletePoolEverywhere(store, deps.agents, req.params.pool, log);
        deps.events.lifecycle('default', LifecycleAction.StoragePoolDeleted, `/1.0/storage-pools/${req.params.pool}`, undefined, requestorOf(req.identity));
        return syncEmpty();
      },
    );

    app.get(
      '/1.0/storage-pools/:pool/resources',
      { config: { access: 'trusted' }, schema: { params: PoolParams, querystring: CommonQuery, response: { 200: SyncResponse(ResourcesStoragePool) } } },
      async (req) => {
        const { target } = commonParams(req.query);
        const view = await store.view();
        const name = req.params.pool;
        view.require(storagePools, name);
        const on = view.list(storagePoolMembers, name).filter((p) => p.record.state === 'Created').map((p) => p.record.member);
        const self = deps.serverInfo.memberName();
        const member = target ?? (on.includes(self) ? self : on[0]);
        if (member === undefined || !on.includes(member)) {
          throw errors.notFound(`Storage pool "${name}" is not created on member "${member ?? self}"`);
        }
        const r = await requireAgents(deps.agents, 'Storage pools').client(member).unary('getStoragePoolResources', { name });
        const total = r.resources?.totalBytes ?? 0;
        const used = r.resources?.usedBytes ?? 0;
        return sync({ space: { used, total }, inodes: { used: 0, total: 0 } });
      },
    );
  };
}
