/**
 * What a joining member sets up on its own host before the join counts as done, as LXD does on
 * join: every storage pool and managed network the cluster has (status Created) is created
 * through this member's own node agent with the cluster-wide config, then recorded as Created for
 * this member (so the scheduler can place instances here at once). Each step registers its undo
 * on the caller's Reverter: a failed join removes the host objects and the member's rows again.
 */
import { newOperationId, type Logger, type Reverter } from '../shared/index.js';
import { configKey, networkMembers, networks, storagePoolMembers, storagePools } from '../state/index.js';
import type { Member } from './member.js';

/** Host work on a pool or bridge may wait for a loop device or dnsmasq: generous, but bounded. */
const HOST_WORK_MS = 120_000;

/** Member-scoped keys of `effective` (what the agent resolved, e.g. a pool's `source`). */
function memberScoped(kind: 'storage-pool' | 'network', effective: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(effective).filter(([k]) => configKey(kind, k)?.scope === 'member'));
}

/**
 * Creates the cluster's pools and managed networks on `member`'s host and records them. Idempotent
 * (what is already Created for this member is skipped). Throws the first failure; the undo of
 * everything done so far is on `r`.
 */
export async function createClusterResourcesHere(member: Member, r: Reverter, log: Logger): Promise<void> {
  const me = member.identity.name;
  const agent = member.agentClient;
  const view = await member.store.view();

  for (const { record: pool } of view.list(storagePools)) {
    if (pool.status !== 'Created') continue;
    if (view.get(storagePoolMembers, pool.name, me)?.record.state === 'Created') continue;
    const res = await agent.unary(
      'createStoragePool',
      { operationId: newOperationId(), pool: { name: pool.name, driver: pool.driver, config: pool.config, description: pool.description } },
      { timeoutMs: HOST_WORK_MS },
    );
    r.add(`storage pool "${pool.name}" on this host`, () =>
      agent.unary('deleteStoragePool', { operationId: newOperationId(), name: pool.name }, { timeoutMs: HOST_WORK_MS }).then(() => undefined),
    );
    const config = memberScoped('storage-pool', res.pool?.spec?.config ?? {});
    await member.store.update((tx) => tx.put(storagePoolMembers, { pool: pool.name, member: me, config, state: 'Created' }));
    r.add(`storage pool "${pool.name}" record of this member`, () => member.store.update((tx) => tx.delete(storagePoolMembers, pool.name, me)).then(() => undefined));
    log.info({ pool: pool.name, driver: pool.driver }, 'created the cluster storage pool on this member');
  }

  for (const { record: net } of view.list(networks)) {
    if (net.status !== 'Created' || net.type !== 'bridge') continue;
    if (view.get(networkMembers, net.project, net.name, me)?.record.state === 'Created') continue;
    const res = await agent.unary(
      'createNetwork',
      { operationId: newOperationId(), network: { name: net.name, type: 'bridge', config: net.config, description: net.description } },
      { timeoutMs: HOST_WORK_MS },
    );
    r.add(`network "${net.name}" on this host`, () =>
      agent.unary('deleteNetwork', { operationId: newOperationId(), name: net.name }, { timeoutMs: HOST_WORK_MS }).then(() => undefined),
    );
    const config = memberScoped('network', res.network?.spec?.config ?? {});
    await member.store.update((tx) => tx.put(networkMembers, { network: net.name, project: net.project, member: me, config, state: 'Created' }));
    r.add(`network "${net.name}" record of this member`, () => member.store.update((tx) => tx.delete(networkMembers, net.project, net.name, me)).then(() => undefined));
    log.info({ network: net.name }, 'created the cluster network on this member');
  }
}
