/**
 * Talking to the node agent of the member that holds an instance: the agent spec (config and
 * devices expanded from profiles, volatile keys included so the agent keeps its MAC addresses
 * and idmap), and the observed status it reports back. Every mutating call carries the API
 * operation's id, so a repeated call is answered from the agent's ledger (idempotent).
 */
import { ErrorCode, errors, isShoalError } from '../../shared/index.js';
import type { InstanceRecord, StateView, WriteTx } from '../../state/index.js';
import type * as pb from '../../../proto/gen/shoal/agent/v1/agent.js';
import type { ApiDeps } from '../deps.js';
import type { MemberAgents } from '../ports.js';
import { expandedOf } from './render.js';

/** A member's agent client as the API uses it. */
export type Agent = ReturnType<MemberAgents['client']>;

/** Observed statuses the instances table accepts from an agent. */
export type ObservedStatus = 'Running' | 'Stopped' | 'Frozen' | 'Error';

/** The agents of the cluster. UNAVAILABLE when the API runs without them (a member that is not clustered). */
export function agentsOf(deps: ApiDeps): MemberAgents {
  if (!deps.agents) throw errors.unavailable('Instances need the node agents, which this server does not have');
  return deps.agents;
}

/** The agent spec of `r`: expanded config and devices (profiles in order, then the instance's own). */
export function agentSpec(view: StateView | WriteTx, r: InstanceRecord): pb.InstanceSpec {
  const { config, devices } = expandedOf(view, r);
  const devs: Record<string, pb.Device> = {};
  for (const [name, d] of Object.entries(devices)) devs[name] = { config: d };
  return { project: r.project, name: r.name, ephemeral: r.ephemeral, config, devices: devs, description: r.description };
}

/** The status an agent reports, as the instances table records it. */
export function observedStatus(inst: pb.Instance | undefined): ObservedStatus {
  const s = inst?.status?.status;
  return s === 'Running' || s === 'Stopped' || s === 'Frozen' ? s : 'Error';
}

/**
 * `config` with the agent's volatile keys merged in (only those that differ), or undefined when
 * nothing changes (so callers write only changes).
 */
export function withVolatile(config: Readonly<Record<string, string>>, inst: pb.Instance | undefined): Record<string, string> | undefined {
  const vol = inst?.status?.volatile ?? {};
  let changed = false;
  const out: Record<string, string> = { ...config };
  for (const [k, v] of Object.entries(vol)) {
    if (!k.startsWith('volatile.') || out[k] === v) continue;
    out[k] = v;
    changed = true;
  }
  return changed ? out : undefined;
}

/** True for errors after which a call or transaction may or may not have happened (re-read before acting). */
export function isAmbiguous(err: unknown): boolean {
  return isShoalError(err, ErrorCode.Unavailable) || isShoalError(err, ErrorCode.DeadlineExceeded) || isShoalError(err, ErrorCode.NotLeader);
}

/** True when `err` says the agent does not have the object (deleting what is gone is success). */
export function isNotFound(err: unknown): boolean {
  return isShoalError(err, ErrorCode.NotFound);
}
