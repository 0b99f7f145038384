/**
 * PUT/PATCH of a storage pool (LXD storagePoolPut/Patch). Without `?target=` the cluster-wide
 * keys and the description change on every member where the pool is created; with `?target=` only
 * that member's own keys (`source`, `size`). Every check runs before any host work; when a member
 * refuses, the members already updated get their previous config back and nothing is recorded.
 */
import { errors, newOperationId, type Logger } from '../../shared/index.js';
import { storagePoolMembers, storagePools, type StateStore } from '../../state/index.js';
import type { MemberAgents } from '../ports.js';
import { fanOutError, onEveryMember, requireAgents } from './fan-out.js';
import { activeMembers, checkDriver, checkDriverKeys, splitPoolConfig } from './pools.js';

/** One update request. */
export interface PoolUpdate {
  readonly name: string;
  readonly target: string | undefined;
  /** `replace` (PUT) or `merge` (PATCH: given keys set, `''` unsets). */
  readonly mode: 'replace' | 'merge';
  readonly description: string | undefined;
  readonly config: Readonly<Record<string, string>> | undefined;
  /** Runs against the current API view (`description`, `config` as GET shows it): the If-Match check. */
  readonly check: (current: { description: string; config: Readonly<Record<string, string>> }) => void;
  readonly log: Logger;
}

function apply(cur: Readonly<Record<string, string>>, given: Readonly<Record<string, string>> | undefined, mode: 'replace' | 'merge'): Record<string, string> {
  const next: Record<string, string> = mode === 'replace' ? {} : { ...cur };
  for (const [k, v] of Object.entries(given ?? {})) {
    if (v === '') delete next[k];
    else next[k] = v;
  }
  return next;
}

/** See the module comment. Throws the member's error (named) when host work fails. */
export async function updatePool(store: StateStore, agentsOrNone: MemberAgents | undefined, u: PoolUpdate): Promise<void> {
  const view = await store.view();
  const pool = view.require(storagePools, u.name).record;
  const driver = checkDriver(pool.driver);
  const parts = view.list(storagePoolMembers, u.name).map((s) => s.record);
  const { cluster, member } = splitPoolConfig(u.config ?? {});
  checkDriverKeys(driver, u.config ?? {});

  let nextCluster = pool.config;
  const nextMember = new Map(parts.map((p) => [p.member, p.config]));
  if (u.target !== undefined) {
    const part = parts.find((p) => p.member === u.target);
    if (!part) throw errors.notFound(`Storage pool "${u.name}" is not defined on member "${u.target}"`);
    u.check({ description: pool.description, config: { ...pool.config, ...part.config } });
    const bad = Object.keys(cluster)[0];
    if (bad !== undefined) throw errors.invalid(`Config key "${bad}" may not be used as member-specific key`);
    nextMember.set(u.target, apply(part.config, member, u.mode));
  } else {
    u.check({ description: pool.description, config: pool.config });
    const bad = Object.keys(member)[0];
    if (bad !== undefined && activeMembers(view).length > 1) throw errors.invalid(`Config key "${bad}" is member-specific: set it per member with ?target=`);
    nextCluster = apply(pool.config, cluster, u.mode);
    if (bad !== undefined) for (const p of parts) nextMember.set(p.member, apply(p.config, member, 'merge'));
  }
  const description = u.description ?? (u.mode === 'replace' ? '' : pool.description);
  const fullOf = (m: string, c: Readonly<Record<string, string>>, mc: ReadonlyMap<string, Readonly<Record<string, string>>>): Record<string, string> => ({ ...c, ...(mc.get(m) ?? {}) });
  const previous = new Map(parts.map((p) => [p.member, p.config]));

  const on = parts.filter((p) => p.state === 'Created' && (u.target === undefined || p.member === u.target)).map((p) => p.member);
  if (on.length > 0 && pool.status === 'Created') {
    const agents = requireAgents(agentsOrNone, 'Storage pools');
    const res = await onEveryMember(
      on,
      (m) => agents.client(m).unary('updateStoragePool', { operationId: newOperationId(), name: u.name, config: fullOf(m, nextCluster, nextMember), description }),
      async (m) => {
        await agents.client(m).unary('updateStoragePool', { operationId: newOperationId(), name: u.name, config: fullOf(m, pool.config, previous), description: pool.description });
      },
      u.log,
    );
    if (!res.ok) throw fanOutError(`updating storage pool "${u.name}"`, res);
  }
  await store.update((tx) => {
    const cur = tx.require(storagePools, u.name).record;
    tx.put(storagePools, { ...cur, description, config: nextCluster });
    for (const p of tx.list(storagePoolMembers, u.name)) {
      const c = nextMember.get(p.record.member);
      if (c) tx.put(storagePoolMembers, { ...p.record, config: c });
    }
  });
}
