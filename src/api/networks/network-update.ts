/**
 * PUT/PATCH of a managed network (LXD networkPut/Patch): the config and description change on
 * every member where the network is created. Every check runs first; when a member refuses, the
 * members already updated get the previous config back and nothing is recorded.
 */
import { errors, newOperationId, type Logger } from '../../shared/index.js';
import { networkMembers, networks, type StateStore } from '../../state/index.js';
import type { MemberAgents } from '../ports.js';
import { fanOutError, onEveryMember, requireAgents } from '../storage/fan-out.js';
import { NETWORK_PROJECT, checkNetworkConfig } from './networks.js';

/** One update request. */
export interface NetworkUpdate {
  readonly name: string;
  readonly mode: 'replace' | 'merge';
  readonly description: string | undefined;
  readonly config: Readonly<Record<string, string>> | undefined;
  /** The If-Match check against the current editable view. */
  readonly check: (current: { description: string; config: Readonly<Record<string, string>> }) => void;
  readonly log: Logger;
}

/** See the module comment. */
export async function updateNetwork(store: StateStore, agentsOrNone: MemberAgents | undefined, u: NetworkUpdate): Promise<void> {
  const view = await store.view();
  const cur = view.require(networks, NETWORK_PROJECT, u.name).record;
  u.check({ description: cur.description, config: cur.config });
  checkNetworkConfig(u.config ?? {});
  const next: Record<string, string> = u.mode === 'replace' ? {} : { ...cur.config };
  for (const [k, v] of Object.entries(u.config ?? {})) {
    if (v === '') delete next[k];
    else next[k] = v;
  }
  // PUT without ipv4.address keeps the resolved subnet: "auto" again would pick another one per member.
  if (next['ipv4.address'] === undefined || next['ipv4.address'] === 'auto') {
    if (cur.config['ipv4.address'] !== undefined) next['ipv4.address'] = cur.config['ipv4.address'];
  }
  const description = u.description ?? (u.mode === 'replace' ? '' : cur.description);
  const on = view.list(networkMembers, NETWORK_PROJECT, u.name).filter((p) => p.record.state === 'Created').map((p) => p.record.member);
  if (cur.status === 'Created' && on.length > 0) {
    const agents = requireAgents(agentsOrNone, 'Networks');
    const res = await onEveryMember(
      on,
      (m) => agents.client(m).unary('updateNetwork', { operationId: newOperationId(), name: u.name, config: next, description }),
      async (m) => {
        await agents.client(m).unary('updateNetwork', { operationId: newOperationId(), name: u.name, config: cur.config, description: cur.description });
      },
      u.log,
    );
    if (!res.ok) throw fanOutError(`updating network "${u.name}"`, res);
  } else if (cur.status !== 'Created' && cur.status !== 'Pending') {
    throw errors.precondition(`Network "${u.name}" is in ${cur.status} state: delete it and create it again`);
  }
  await store.update((tx) => {
    const now = tx.require(networks, NETWORK_PROJECT, u.name).record;
    tx.put(networks, { ...now, description, config: next });
  });
}
