/**
 * The query parameters every LXD endpoint shares, parsed in one place: `project` (default
 * "default"), `all-projects`, `target`, `recursion` (0, 1, 2) and `filter`. Routes spread
 * {@link CommonQuery} into their querystring schema and call {@link commonParams}.
 */
import { Type, type Static } from 'typebox';
import { errors } from '../shared/index.js';
import { parseFilter, type FilterClause } from './filter.js';

/** The querystring schema fragment (unknown parameters are ignored, as LXD does). */
export const CommonQuery = Type.Object({
  project: Type.Optional(Type.String()),
  'all-projects': Type.Optional(Type.String()),
  target: Type.Optional(Type.String()),
  recursion: Type.Optional(Type.String()),
  filter: Type.Optional(Type.String()),
});
export type CommonQuery = Static<typeof CommonQuery>;

/** Parsed common parameters. */
export interface CommonParams {
  /** The project asked for ("default" when absent); meaningless when `allProjects`. */
  readonly project: string;
  readonly allProjects: boolean;
  /** `?target=`: a member name, or `@group` for placement. */
  readonly target: string | undefined;
  readonly recursion: 0 | 1 | 2;
  readonly filter: readonly FilterClause[];
}

/** LXD's `shared.IsTrue`. */
export function isTrue(v: string | undefined): boolean {
  return v !== undefined && ['true', '1', 'yes', 'on'].includes(v.toLowerCase());
}

/**
 * Parses the common parameters. Throws INVALID_ARGUMENT for a bad recursion or filter, and
 * "Cannot specify a project when requesting all projects" as LXD does.
 */
export function commonParams(query: CommonQuery): CommonParams {
  const allProjects = isTrue(query['all-projects']);
  if (allProjects && query.project) throw errors.invalid('Cannot specify a project when requesting all projects');
  const project = query.project || 'default';
  if (!/^[^/\s]{1,63}$/.test(project)) throw errors.invalid(`Invalid project name "${project}"`);
  let recursion: 0 | 1 | 2 = 0;
  if (query.recursion !== undefined && query.recursion !== '') {
    if (!['0', '1', '2'].includes(query.recursion)) throw errors.invalid(`Invalid recursion "${query.recursion}"`);
    recursion = Number(query.recursion) as 0 | 1 | 2;
  }
  const parsed = parseFilter(query.filter ?? '');
  if (!Array.isArray(parsed)) throw parsed;
  const target = query.target === '' ? undefined : query.target;
  return { project, allProjects, target, recursion, filter: parsed };
}
