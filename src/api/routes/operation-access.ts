/** Which operations a caller may see: restricted certificates only see their projects' operations. */
import type { Identity } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { ErrorCode, ShoalError } from '../../shared/index.js';
import type { Operation } from '../types/index.js';

/** The operation, if `identity` may see it; NOT_FOUND otherwise (restricted callers do not learn of others' operations). */
export function visibleOperation(deps: ApiDeps, identity: Identity, id: string): Operation {
  const op = deps.operations.get(id);
  if (!op || !visible(deps, identity, op)) throw new ShoalError(ErrorCode.NotFound, 'Operation not found');
  return op;
}

/** True when `identity` may see `op`. */
export function visible(deps: ApiDeps, identity: Identity, op: Operation): boolean {
  if (!identity.restricted) return true;
  const project = deps.operations.projectOf(op.id) ?? '';
  return project !== '' && identity.projects.includes(project);
}
