/**
 * `/1.0/projects` (LXD lxd/api_project.go) over the replicated `projects` table: list (recursion,
 * filter), get (ETag), create (with its own `default` profile, as LXD with features.profiles),
 * PUT/PATCH with If-Match, delete (refused for `default` or a non-empty project by the integrity
 * rules). Project config keys are checked against the registry inside the transaction, so a
 * rejected request writes nothing. Restricted certificates see only their projects; writes are admin.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestorOf, type Identity } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { matchFilter } from '../filter.js';
import { CommonQuery, commonParams } from '../query.js';
import { checkIfMatch, created, sync, syncEmpty, withEtag } from '../response.js';
import { errors } from '../../shared/index.js';
import { instances, profiles, projects, type ProjectRecord, type StateStore, type StateView } from '../../state/index.js';
import { EmptySyncResponse, LifecycleAction, Project, ProjectPut, ProjectsPost, SyncResponse, type Project as ProjectT } from '../types/index.js';

const NameParams = Type.Object({ name: Type.String() });
const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function visible(identity: Identity, name: string): boolean {
  return identity.trusted && (!identity.restricted || identity.projects.includes(name));
}

function toApi(view: StateView, r: ProjectRecord): ProjectT {
  const q = r.name === 'default' ? '' : `?project=${r.name}`;
  return {
    name: r.name,
    description: r.description,
    config: { ...r.config },
    used_by: [
      ...view.list(instances, r.name).map((s) => `/1.0/instances/${s.record.name}${q}`),
      ...view.list(profiles, r.name).map((s) => `/1.0/profiles/${s.record.name}${q}`),
    ],
  };
}

const etagView = (p: Pick<ProjectRecord, 'description' | 'config'>): unknown => ({ description: p.description, config: p.config });

/** Routes of `/1.0/projects`. Registered only when `deps.state` is present. */
export function projectRoutes(deps: ApiDeps, store: StateStore): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/1.0/projects',
      { config: { access: 'trusted' }, schema: { querystring: CommonQuery, response: { 200: SyncResponse(Type.Union([Type.Array(Project), Type.Array(Type.String())])) } } },
      async (req) => {
        const q = commonParams(req.query);
        const view = await store.view();
        const all = view
          .list(projects)
          .filter((s) => visible(req.identity, s.record.name))
          .map((s) => toApi(view, s.record))
          .filter((p) => matchFilter(p, q.filter));
        return sync(q.recursion > 0 ? all : all.map((p) => `/1.0/projects/${p.name}`));
      },
    );

    app.post('/1.0/projects', { config: { access: 'admin' }, schema: { body: ProjectsPost } }, async (req, reply) => {
      const b = req.body;
      if (!PROJECT_NAME.test(b.name)) throw errors.invalid(`Invalid project name "${b.name}"`);
      await store.update((tx) => {
        tx.create(projects, { name: b.name, description: b.description ?? '', config: { ...(b.config ?? {}) } });
        tx.create(profiles, { name: 'default', project: b.name, description: `Default profile for project ${b.name}`, config: {}, devices: {} });
      });
      deps.events.lifecycle(b.name, LifecycleAction.ProjectCreated, `/1.0/projects/${b.name}`, undefined, requestorOf(req.identity));
      return created(reply, `/1.0/projects/${b.name}`);
    });

    app.get(
      '/1.0/projects/:name',
      { config: { access: 'trusted' }, schema: { params: NameParams, response: { 200: SyncResponse(Project) } } },
      async (req, reply) => {
        if (!visible(req.identity, req.params.name)) throw errors.notFound(`Project "${req.params.name}" not found`);
        const view = await store.view();
        const p = view.require(projects, req.params.name).record;
        return withEtag(reply, etagView(p), sync(toApi(view, p)));
      },
    );

    for (const [method, mode] of [['put', 'replace'], ['patch', 'merge']] as const) {
      app[method](
        '/1.0/projects/:name',
        { config: { access: 'admin' }, schema: { params: NameParams, body: ProjectPut, response: { 200: EmptySyncResponse } } },
        async (req) => {
          const b = req.body;
          await store.update((tx) => {
            const cur = tx.require(projects, req.params.name).record;
            checkIfMatch(req, etagView(cur));
            tx.put(
              projects,
              mode === 'replace'
                ? { ...cur, description: b.description ?? '', config: { ...(b.config ?? {}) } }
                : { ...cur, description: b.description ?? cur.description, config: { ...cur.config, ...(b.config ?? {}) } },
            );
          });
          deps.events.lifecycle(req.params.name, LifecycleAction.ProjectUpdated, `/1.0/projects/${req.params.name}`, undefined, requestorOf(req.identity));
          return syncEmpty();
        },
      );
    }

    app.delete(
      '/1.0/projects/:name',
      { config: { access: 'admin' }, schema: { params: NameParams, response: { 200: EmptySyncResponse } } },
      async (req) => {
        await store.update((tx) => tx.delete(projects, req.params.name));
        deps.events.lifecycle(req.params.name, LifecycleAction.ProjectDeleted, `/1.0/projects/${req.params.name}`, undefined, requestorOf(req.identity));
        return syncEmpty();
      },
    );
  };
}
