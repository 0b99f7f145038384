/**
 * `/1.0/storage-pools/<pool>/volumes` (LXD lxd/storage_volumes*.go) for custom volumes: list
 * (all types the database knows), create (empty filesystem volume on `?target=` or this member),
 * get, PUT/PATCH (description and `user.*`; `restore` of a snapshot), delete, and snapshots
 * (create and delete are operations, as in LXD). Renaming and copying are not implemented by the
 * node agents and are refused with 400.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { checkProjectAccess, requestorOf, type Identity } from '../../auth.js';
import type { ApiDeps } from '../../deps.js';
import { matchFilter } from '../../filter.js';
import { CommonQuery, commonParams } from '../../query.js';
import { asyncResponse, checkIfMatch, created, sync, syncEmpty, withEtag } from '../../response.js';
import { requireAgents } from '../../storage/fan-out.js';
import { checkCustomType, checkVolumeConfig, checkVolumeName, findVolume, memberFor, toApiVolume, volumeUrl } from '../../storage/volumes.js';
import { errors, newOperationId } from '../../../shared/index.js';
import { storagePools, storageVolumes, type StateStore, type StorageVolumeRecord } from '../../../state/index.js';
import {
  EmptySyncResponse,
  LifecycleAction,
  StorageVolume,
  StorageVolumePost,
  StorageVolumePut,
  StorageVolumeSnapshot,
  StorageVolumeSnapshotsPost,
  StorageVolumesPost,
  SyncResponse,
  ZERO_TIME,
} from '../../types/index.js';

const TypeParams = Type.Object({ pool: Type.String(), type: Type.Optional(Type.String()) });
const VolParams = Type.Object({ pool: Type.String(), type: Type.String(), name: Type.String() });
const SnapParams = Type.Object({ pool: Type.String(), type: Type.String(), name: Type.String(), snap: Type.String() });

function access(identity: Identity, project: string): void {
  const denied = checkProjectAccess(identity, project);
  if (denied) throw denied;
}

const etagOf = (v: { description: string; config: Readonly<Record<string, string>> }): unknown => ({ description: v.description, config: v.config });

/** Routes of custom volumes. */
export function storageVolumeRoutes(deps: ApiDeps, store: StateStore): FastifyPluginAsyncTypebox {
  const agent = (member: string) => requireAgents(deps.agents, 'Storage volumes').client(member);
  const snapshotsOf = async (v: StorageVolumeRecord): Promise<string[]> => {
    const r = await agent(v.location).unary('listStorageVolumes', { pool: v.pool });
    return r.volumes.find((x) => x.spec?.name === v.name)?.status?.snapshots ?? [];
  };
  const snapshotView = (v: StorageVolumeRecord, name: string): StorageVolumeSnapshot => ({
    name,
    description: '',
    config: { ...v.config },
    content_type: v.content_type,
    created_at: ZERO_TIME,
    expires_at: null,
  });

  return async (app) => {
    for (const url of ['/1.0/storage-pools/:pool/volumes', '/1.0/storage-pools/:pool/volumes/:type'] as const) {
      app.get(
        url,
        { config: { access: 'trusted' }, schema: { params: TypeParams, querystring: CommonQuery, response: { 200: SyncResponse(Type.Union([Type.Array(StorageVolume), Type.Array(Type.String())])) } } },
        async (req) => {
          const q = commonParams(req.query);
          if (!q.allProjects) access(req.identity, q.project);
          const view = await store.view();
          view.require(storagePools, req.params.pool);
          const type = req.params.type;
          const recs = view
            .list(storageVolumes, req.params.pool)
            .map((s) => s.record)
            .filter((v) => (q.allProjects || v.project === q.project) && (type === undefined || v.type === type) && (q.target === undefined || v.location === q.target));
          const all = recs.map((v) => toApiVolume(view, v)).filter((v) => matchFilter(v, q.filter));
          return sync(q.recursion > 0 ? all : all.map((v) => volumeUrl({ ...v, pool: req.params.pool })));
        },
      );
    }

    for (const url of ['/1.0/storage-pools/:pool/volumes', '/1.0/storage-pools/:pool/volumes/:type'] as const) {
      app.post(url, { config: { access: 'trusted' }, schema: { params: TypeParams, querystring: CommonQuery, body: StorageVolumesPost } }, async (req, reply) => {
        const { project, target } = commonParams(req.query);
        access(req.identity, project);
        const b = req.body;
        const pool = req.params.pool;
        checkCustomType(req.params.type ?? b.type ?? 'custom');
        checkVolumeName(b.name);
        const config = { ...(b.config ?? {}) };
        checkVolumeConfig(config);
        if (b.content_type !== undefined && b.content_type !== '' && b.content_type !== 'filesystem') throw errors.invalid(`Content type "${b.content_type}" is not supported (only "filesystem")`);
        if (b.source && (b.source.name || b.source.type === 'copy' || b.source.type === 'migration')) throw errors.invalid('Copying or migrating storage volumes is not supported');
        const view = await store.view();
        view.require(storagePools, pool);
        const member = memberFor(view, pool, target, deps.serverInfo.memberName());
        const rec: StorageVolumeRecord = { name: b.name, pool, project, type: 'custom', description: b.description ?? '', config, location: member, content_type: 'filesystem', created_at: new Date(deps.clock.now()).toISOString() };
        // Refuse a taken name before any host work (the transaction below checks again).
        if (view.get(storageVolumes, ...storageVolumes.keyOf(rec))) throw errors.exists(`Storage volume "${b.name}" already exists in pool "${pool}" on member "${member}"`);
        const hostName = project === 'default' ? b.name : `${project}_${b.name}`;
        await agent(member).unary('createStorageVolume', { operationId: newOperationId(), volume: { pool, name: hostName, config, description: rec.description } });
        try {
          await store.update((tx) => tx.create(storageVolumes, rec));
        } catch (err) {
          await agent(member).unary('deleteStorageVolume', { operationId: newOperationId(), pool, name: hostName });
          throw err;
        }
        deps.events.lifecycle(project, LifecycleAction.StorageVolumeCreated, volumeUrl(rec), undefined, requestorOf(req.identity));
        return created(reply, volumeUrl(rec));
      });
    }

    app.get(
      '/1.0/storage-pools/:pool/volumes/:type/:name',
      { config: { access: 'trusted' }, schema: { params: VolParams, querystring: CommonQuery, response: { 200: SyncResponse(StorageVolume) } } },
      async (req, reply) => {
        const { project, target } = commonParams(req.query);
        access(req.identity, project);
        const view = await store.view();
        const v = toApiVolume(view, findVolume(view, req.params.pool, project, req.params.type, req.params.name, target));
        return withEtag(reply, etagOf(v), sync(v));
      },
    );

    for (const [method, mode] of [['put', 'replace'], ['patch', 'merge']] as const) {
      app[method](
        '/1.0/storage-pools/:pool/volumes/:type/:name',
        { config: { access: 'trusted' }, schema: { params: VolParams, querystring: CommonQuery, body: StorageVolumePut, response: { 200: EmptySyncResponse } } },
        async (req) => {
          const { project, target } = commonParams(req.query);
          access(req.identity, project);
          checkCustomType(req.params.type);
          const b = req.body;
          const view = await store.view();
          const cur = findVolume(view, req.params.pool, project, req.params.type, req.params.name, target);
          checkIfMatch(req, etagOf(cur));
          if (b.restore !== undefined && b.restore !== '') {
            await agent(cur.location).unary('restoreStorageVolumeSnapshot', { operationId: newOperationId(), pool: cur.pool, name: hostNameOf(cur), snapshot: b.restore });
            deps.events.lifecycle(project, LifecycleAction.StorageVolumeRestored, volumeUrl(cur), { snapshot: b.restore }, requestorOf(req.identity));
            return syncEmpty();
          }
          const given = b.config ?? {};
          checkVolumeConfig(given);
          const next: Record<string, string> = mode === 'replace' ? Object.fromEntries(Object.entries(cur.config).filter(([k]) => k === 'size')) : { ...cur.config };
          for (const [k, val] of Object.entries(given)) {
            if (val === '') delete next[k];
            else next[k] = val;
          }
          if ((next['size'] ?? '') !== (cur.config['size'] ?? '')) throw errors.invalid('Changing the "size" of an existing volume is not supported');
          await store.update((tx) => {
            const now = findVolume(tx, req.params.pool, project, req.params.type, req.params.name, target);
            tx.put(storageVolumes, { ...now, description: b.description ?? (mode === 'replace' ? '' : now.description), config: next });
          });
          deps.events.lifecycle(project, LifecycleAction.StorageVolumeUpdated, volumeUrl(cur), undefined, requestorOf(req.identity));
          return syncEmpty();
        },
      );
    }

    app.post(
      '/1.0/storage-pools/:pool/volumes/:type/:name',
      { config: { access: 'trusted' }, schema: { params: VolParams, querystring: CommonQuery, body: StorageVolumePost } },
      async () => {
        throw errors.invalid('Renaming, moving or migrating storage volumes is not supported');
      },
    );

    app.delete(
      '/1.0/storage-pools/:pool/volumes/:type/:name',
      { config: { access: 'trusted' }, schema: { params: VolParams, querystring: CommonQuery, response: { 200: EmptySyncResponse } } },
      async (req) => {
        const { project, target } = commonParams(req.query);
        access(req.identity, project);
        checkCustomType(req.params.type);
        const view = await store.view();
        const cur = toApiVolume(view, findVolume(view, req.params.pool, project, req.params.type, req.params.name, target));
        if (cur.used_by.length > 0) throw errors.precondition(`Storage volume "${cur.name}" is in use by ${cur.used_by.join(', ')}`);
        const rec = findVolume(view, req.params.pool, project, req.params.type, req.params.name, target);
        await agent(rec.location).unary('deleteStorageVolume', { operationId: newOperationId(), pool: rec.pool, name: hostNameOf(rec) });
        await store.update((tx) => {
          if (tx.get(storageVolumes, ...storageVolumes.keyOf(rec))) tx.delete(storageVolumes, ...storageVolumes.keyOf(rec));
        });
        deps.events.lifecycle(project, LifecycleAction.StorageVolumeDeleted, volumeUrl(rec), undefined, requestorOf(req.identity));
        return syncEmpty();
      },
    );

    app.get(
      '/1.0/storage-pools/:pool/volumes/:type/:name/snapshots',
      { config: { access: 'trusted' }, schema: { params: VolParams, querystring: CommonQuery, response: { 200: SyncResponse(Type.Union([Type.Array(StorageVolumeSnapshot), Type.Array(Type.String())])) } } },
      async (req) => {
        const q = commonParams(req.query);
        access(req.identity, q.project);
        const view = await store.view();
        const v = findVolume(view, req.params.pool, q.project, req.params.type, req.params.name, q.target);
        const names = await snapshotsOf(v);
        if (q.recursion > 0) return sync(names.map((s) => snapshotView(v, s)));
        const base = volumeUrl({ ...v, project: 'default' });
        return sync(names.map((s) => `${base}/snapshots/${s}${q.project === 'default' ? '' : `?project=${q.project}`}`));
      },
    );

    app.get(
      '/1.0/storage-pools/:pool/volumes/:type/:name/snapshots/:snap',
      { config: { access: 'trusted' }, schema: { params: SnapParams, querystring: CommonQuery, response: { 200: SyncResponse(StorageVolumeSnapshot) } } },
      async (req, reply) => {
        const q = commonParams(req.query);
        access(req.identity, q.project);
        const view = await store.view();
        const v = findVolume(view, req.params.pool, q.project, req.params.type, req.params.name, q.target);
        if (!(await snapshotsOf(v)).includes(req.params.snap)) throw errors.notFound(`Storage volume snapshot "${req.params.name}/${req.params.snap}" not found`);
        const s = snapshotView(v, req.params.snap);
        return withEtag(reply, { description: s.description, expires_at: s.expires_at }, sync(s));
      },
    );

    app.post(
      '/1.0/storage-pools/:pool/volumes/:type/:name/snapshots',
      { config: { access: 'trusted' }, schema: { params: VolParams, querystring: CommonQuery, body: StorageVolumeSnapshotsPost } },
      async (req, reply) => {
        const q = commonParams(req.query);
        access(req.identity, q.project);
        checkCustomType(req.params.type);
        const view = await store.view();
        const v = findVolume(view, req.params.pool, q.project, req.params.type, req.params.name, q.target);
        const existing = await snapshotsOf(v);
        let name = req.body.name ?? '';
        if (name === '') for (let i = 0; name === '' || existing.includes(name); i++) name = `snap${i}`;
        checkVolumeName(name);
        if (existing.includes(name)) throw errors.exists(`Snapshot "${name}" of volume "${v.name}" already exists`);
        const url = `${volumeUrl({ ...v, project: 'default' })}/snapshots/${name}`;
        const op = await deps.operations.createTask({
          type: 'volume-snapshot-create',
          description: 'Creating storage volume snapshot',
          project: q.project,
          resources: { storage_volumes: [volumeUrl(v)], storage_volume_snapshots: [url] },
          requestId: req.id,
          run: async (ctx) => {
            await agent(v.location).unary('createStorageVolumeSnapshot', { operationId: ctx.id, pool: v.pool, name: hostNameOf(v), snapshot: name }, { signal: ctx.signal });
            deps.events.lifecycle(q.project, LifecycleAction.StorageVolumeSnapshotCreated, url, undefined, requestorOf(req.identity));
          },
        });
        return asyncResponse(reply, op);
      },
    );

    app.delete(
      '/1.0/storage-pools/:pool/volumes/:type/:name/snapshots/:snap',
      { config: { access: 'trusted' }, schema: { params: SnapParams, querystring: CommonQuery } },
      async (req, reply) => {
        const q = commonParams(req.query);
        access(req.identity, q.project);
        checkCustomType(req.params.type);
        const view = await store.view();
        const v = findVolume(view, req.params.pool, q.project, req.params.type, req.params.name, q.target);
        if (!(await snapshotsOf(v)).includes(req.params.snap)) throw errors.notFound(`Storage volume snapshot "${req.params.name}/${req.params.snap}" not found`);
        const url = `${volumeUrl({ ...v, project: 'default' })}/snapshots/${req.params.snap}`;
        const op = await deps.operations.createTask({
          type: 'volume-snapshot-delete',
          description: 'Deleting storage volume snapshot',
          project: q.project,
          resources: { storage_volumes: [volumeUrl(v)], storage_volume_snapshots: [url] },
          requestId: req.id,
          run: async (ctx) => {
            await agent(v.location).unary('deleteStorageVolumeSnapshot', { operationId: ctx.id, pool: v.pool, name: hostNameOf(v), snapshot: req.params.snap }, { signal: ctx.signal });
            deps.events.lifecycle(q.project, LifecycleAction.StorageVolumeSnapshotDeleted, url, undefined, requestorOf(req.identity));
          },
        });
        return asyncResponse(reply, op);
      },
    );
  };
}

/** The agent's name of a volume: `<project>_<name>` outside the default project (as LXD names it on disk). */
function hostNameOf(v: Pick<StorageVolumeRecord, 'project' | 'name'>): string {
  return v.project === 'default' ? v.name : `${v.project}_${v.name}`;
}
