/**
 * `/1.0/profiles` (LXD lxd/profiles.go) over the replicated `profiles` table: list (recursion,
 * filter, project), get (ETag), create, PUT (replace) / PATCH (merge) with If-Match, rename,
 * delete. Names, config keys (registry) and devices are validated by the table; integrity rules
 * refuse deleting `default` or a profile in use. Every refusal happens inside the transaction,
 * so a rejected request writes nothing.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { checkProjectAccess, requestorOf, type Identity } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { matchFilter } from '../filter.js';
import { CommonQuery, commonParams } from '../query.js';
import { checkIfMatch, created, sync, syncEmpty, withEtag } from '../response.js';
import { ErrorCode, ShoalError, errors } from '../../shared/index.js';
import { instances, profiles, type ProfileRecord, type StateStore, type StateView, type WriteTx } from '../../state/index.js';
import { EmptySyncResponse, LifecycleAction, Profile, ProfilePost, ProfilePut, ProfilesPost, SyncResponse, type Profile as ProfileT } from '../types/index.js';

const NameParams = Type.Object({ name: Type.String() });
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function checkName(name: string): void {
  if (!PROFILE_NAME.test(name) || name === '.' || name === '..') throw errors.invalid(`Invalid profile name "${name}"`);
}

function access(identity: Identity, project: string): void {
  const denied = checkProjectAccess(identity, project);
  if (denied) throw denied;
}

function usedBy(view: StateView | WriteTx, project: string, name: string): string[] {
  return view
    .list(instances, project)
    .filter((s) => s.record.profiles.includes(name))
    .map((s) => `/1.0/instances/${s.record.name}${project === 'default' ? '' : `?project=${project}`}`);
}

function toApi(view: StateView, r: ProfileRecord): ProfileT {
  return { name: r.name, description: r.description, config: { ...r.config }, devices: structuredClone(r.devices) as ProfileT['devices'], used_by: usedBy(view, r.project, r.name) };
}

function requireState(deps: ApiDeps): StateStore {
  if (!deps.state) throw new ShoalError(ErrorCode.Internal, 'Profiles need the cluster database');
  return deps.state;
}

/** Routes of `/1.0/profiles`. Registered only when `deps.state` is present. */
export function profileRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const store = requireState(deps);
  return async (app) => {
    app.get(
      '/1.0/profiles',
      { config: { access: 'trusted' }, schema: { querystring: CommonQuery, response: { 200: SyncResponse(Type.Union([Type.Array(Profile), Type.Array(Type.String())])) } } },
      async (req) => {
        const q = commonParams(req.query);
        access(req.identity, q.project);
        const view = await store.view();
        const all = view.list(profiles, q.project).map((s) => toApi(view, s.record)).filter((p) => matchFilter(p, q.filter));
        if (q.recursion > 0) return sync(all);
        return sync(all.map((p) => `/1.0/profiles/${p.name}${q.project === 'default' ? '' : `?project=${q.project}`}`));
      },
    );

    app.post(
      '/1.0/profiles',
      { config: { access: 'trusted' }, schema: { querystring: CommonQuery, body: ProfilesPost } },
      async (req, reply) => {
        const { project } = commonParams(req.query);
        access(req.identity, project);
        const b = req.body;
        checkName(b.name);
        await store.update((tx) =>
          tx.create(profiles, { name: b.name, project, description: b.description ?? '', config: { ...(b.config ?? {}) }, devices: { ...(b.devices ?? {}) } }),
        );
        deps.events.lifecycle(project, LifecycleAction.ProfileCreated, `/1.0/profiles/${b.name}`, undefined, requestorOf(req.identity));
        return created(reply, `/1.0/profiles/${b.name}`);
      },
    );

    app.get(
      '/1.0/profiles/:name',
      { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, response: { 200: SyncResponse(Profile) } } },
      async (req, reply) => {
        const { project } = commonParams(req.query);
        access(req.identity, project);
        const view = await store.view();
        const p = toApi(view, view.require(profiles, project, req.params.name).record);
        return withEtag(reply, etagView(p), sync(p));
      },
    );

    for (const [method, mode] of [['put', 'replace'], ['patch', 'merge']] as const) {
      app[method](
        '/1.0/profiles/:name',
        { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, body: ProfilePut, response: { 200: EmptySyncResponse } } },
        async (req) => {
          const { project } = commonParams(req.query);
          access(req.identity, project);
          const b = req.body;
          await store.update((tx) => {
            const cur = tx.require(profiles, project, req.params.name).record;
            checkIfMatch(req, etagView(cur));
            const next: ProfileRecord =
              mode === 'replace'
                ? { ...cur, description: b.description ?? '', config: { ...(b.config ?? {}) }, devices: { ...(b.devices ?? {}) } }
                : { ...cur, description: b.description ?? cur.description, config: { ...cur.config, ...(b.config ?? {}) }, devices: { ...cur.devices, ...(b.devices ?? {}) } };
            tx.put(profiles, next);
          });
          deps.events.lifecycle(project, LifecycleAction.ProfileUpdated, `/1.0/profiles/${req.params.name}`, undefined, requestorOf(req.identity));
          return syncEmpty();
        },
      );
    }

    app.post(
      '/1.0/profiles/:name',
      { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, body: ProfilePost } },
      async (req, reply) => {
        const { project } = commonParams(req.query);
        access(req.identity, project);
        const from = req.params.name;
        const to = req.body.name;
        checkName(to);
        if (from === 'default') throw errors.invalid('The "default" profile cannot be renamed');
        await store.update((tx) => {
          const cur = tx.require(profiles, project, from).record;
          if (usedBy(tx, project, from).length > 0) throw new ShoalError(ErrorCode.FailedPrecondition, `Profile "${from}" is in use and cannot be renamed`);
          tx.delete(profiles, project, from);
          tx.create(profiles, { ...cur, name: to });
        });
        deps.events.lifecycle(project, LifecycleAction.ProfileRenamed, `/1.0/profiles/${to}`, { old_name: from }, requestorOf(req.identity));
        return created(reply, `/1.0/profiles/${to}`);
      },
    );

    app.delete(
      '/1.0/profiles/:name',
      { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, response: { 200: EmptySyncResponse } } },
      async (req) => {
        const { project } = commonParams(req.query);
        access(req.identity, project);
        await store.update((tx) => tx.delete(profiles, project, req.params.name));
        deps.events.lifecycle(project, LifecycleAction.ProfileDeleted, `/1.0/profiles/${req.params.name}`, undefined, requestorOf(req.identity));
        return syncEmpty();
      },
    );
  };
}

/** The editable part of a profile: what its ETag covers (LXD: description, config, devices). */
function etagView(p: Pick<ProfileT, 'description' | 'config' | 'devices'>): unknown {
  return { description: p.description, config: p.config, devices: p.devices };
}
