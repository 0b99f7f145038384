/** What the instance I/O routes share: deps narrowed to what they need, params and access checks. */
import { Type } from 'typebox';
import { checkProjectAccess, type Identity } from '../../auth.js';
import type { ApiDeps } from '../../deps.js';
import type { ExecOutputStore } from '../../instance-io/exec-output-store.js';
import type { MemberAgents } from '../../ports.js';
import type { StateStore } from '../../../state/index.js';
import type { Clock, Logger } from '../../../shared/index.js';
import type { EventHub } from '../../events/hub.js';
import type { OperationManager } from '../../operations/manager.js';

/** The deps of the instance I/O routes. */
export interface IoDeps {
  readonly store: StateStore;
  readonly agents: MemberAgents | undefined;
  readonly outputs: ExecOutputStore;
  readonly operations: OperationManager;
  readonly events: EventHub;
  readonly clock: Clock;
  readonly log: Logger;
  readonly api: ApiDeps;
}

/**
 * Each route is served under /1.0/instances and under LXD's older alias /1.0/containers (clients
 * without the `instances` extension, e.g. lxc 5.0 against a server that does not announce it, use
 * the latter).
 */
export const IO_PREFIXES = ['instances', 'containers'] as const;

/** `:name` of /1.0/instances/:name/… */
export const NameParams = Type.Object({ name: Type.String() });

/** Throws 403 when the caller may not use `project`. */
export function checkAccess(identity: Identity, project: string): void {
  const denied = checkProjectAccess(identity, project);
  if (denied) throw denied;
}
