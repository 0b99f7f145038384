/** `/1.0/projects` (shared/api/project.go). */
import { Type, type Static } from 'typebox';
import { NStringMap, STRICT, StringList, StringMap } from './common.js';

/** `PUT|PATCH /1.0/projects/<name>`. */
export const ProjectPut = Type.Partial(Type.Object({ config: NStringMap, description: Type.String() }), STRICT);
export type ProjectPut = Static<typeof ProjectPut>;

/** `POST /1.0/projects`. */
export const ProjectsPost = Type.Object({ ...ProjectPut.properties, name: Type.String() }, STRICT);
export type ProjectsPost = Static<typeof ProjectsPost>;

/** `POST /1.0/projects/<name>` (rename, async). */
export const ProjectPost = Type.Object({ name: Type.String() }, STRICT);
export type ProjectPost = Static<typeof ProjectPost>;

/** A project; `used_by` lists URLs of what lives in it. */
export const Project = Type.Object({
  config: StringMap,
  description: Type.String(),
  name: Type.String(),
  used_by: StringList,
});
export type Project = Static<typeof Project>;

/** Limit and usage of one resource. Keys are capitalised: the Go struct has no json tags. */
export const ProjectStateResource = Type.Object({ Limit: Type.Integer(), Usage: Type.Integer() });

/** `GET /1.0/projects/<name>/state`. */
export const ProjectState = Type.Object({ resources: Type.Record(Type.String(), ProjectStateResource) });
export type ProjectState = Static<typeof ProjectState>;
