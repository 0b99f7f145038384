/**
 * Finding the instance an I/O request is about: its row in the cluster database (`instances`
 * table → `location`, the member that holds it) and the node agent of that member. Every
 * instance-io route starts here, so a missing instance is one 404 (`Instance "c1" not found in
 * project "default"`, the table's message) before anything else happens.
 */
// The session contract (§3) has the API talk to the member's agent through this typed client.
// eslint-disable-next-line import/no-restricted-paths
import type { AgentClient } from '../../node-agent/client.js';
import { ErrorCode, ShoalError, errors } from '../../shared/index.js';
import { expandInstance, instances, profiles, type InstanceRecord, type StateStore } from '../../state/index.js';
import type { MemberAgents } from '../ports.js';

/** What instance I/O calls on a member's agent (a subset of AgentClient, so tests can supply their own). */
export type IoAgent = Pick<AgentClient, 'exec' | 'pullFile' | 'pushFile' | 'unary'>;

/** An instance located in the database, with its agent. */
export interface LocatedInstance {
  readonly record: InstanceRecord;
  /** Expanded config (profiles, then the instance's own keys). */
  readonly config: Readonly<Record<string, string>>;
  readonly agent: IoAgent;
}

/** The URL of an instance as LXD writes it in resources and log paths (`?project=` outside default). */
export function instanceUrl(project: string, name: string, suffix = ''): string {
  return `/1.0/instances/${encodeURIComponent(name)}${suffix}${project === 'default' ? '' : `?project=${encodeURIComponent(project)}`}`;
}

/** LXD refuses snapshot names (`c1/snap0`) on I/O endpoints. */
export function checkInstanceName(name: string): void {
  if (name.includes('/')) throw errors.invalid('Invalid instance name');
}

/**
 * Reads the instance row (NOT_FOUND when absent) and picks its member's agent. Throws
 * INTERNAL when the API has no agents (a member wired without host access), UNAVAILABLE when
 * the member is unknown or unreachable (MemberAgents' contract).
 */
export async function locateInstance(
  store: StateStore,
  agents: MemberAgents | undefined,
  project: string,
  name: string,
): Promise<LocatedInstance> {
  checkInstanceName(name);
  const view = await store.view();
  const record = view.require(instances, project, name).record;
  const profileRecords = record.profiles.flatMap((p) => {
    const row = view.get(profiles, project, p);
    return row ? [row.record] : [];
  });
  const { config } = expandInstance(record, profileRecords);
  if (!agents) throw new ShoalError(ErrorCode.Internal, 'This member has no access to node agents');
  return { record, config, agent: agents.client(record.location) };
}

/**
 * Checks with the holder's agent that the instance runs (LXD: "Instance is not running",
 * "Instance is frozen", both 400). The database's `status` may lag behind the host; the agent
 * does not.
 */
export async function requireRunning(inst: LocatedInstance, signal: AbortSignal, requestId: string): Promise<void> {
  const res = await inst.agent.unary(
    'getInstance',
    { project: inst.record.project, name: inst.record.name },
    { signal, requestId, timeoutMs: 30_000 },
  );
  const status = res.instance?.status?.status ?? '';
  if (status === 'Frozen') throw errors.precondition('Instance is frozen');
  if (status !== 'Running') throw errors.precondition('Instance is not running');
}
