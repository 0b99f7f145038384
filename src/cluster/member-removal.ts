/**
 * Taking a member out of the cluster (`DELETE /1.0/cluster/members/<name>[?force=1]`, LXD's
 * clusterNodeDelete), and Raft ids that are never handed out twice.
 *
 * Removal, on the leader:
 * - refused for an unknown member, the only member, or the leader itself (the route hands the
 *   leadership off first and forwards the request to the new leader);
 * - without force: refused for an offline member (it could not learn that it was removed) and,
 *   by the database's integrity rules, for a member that still holds instances or custom volumes;
 * - with force (a dead member): its instance and volume records go too (LXD deletes the rows; the
 *   host objects, if the machine ever comes back, are left to whoever wipes it);
 * - Raft first (one ConfChange), then one transaction: group memberships, `server` trust entries,
 *   the member record (with its per-member pool/image rows and config, by the integrity cascade),
 *   then the scheduler's `placement/<member>` key. Raft first because a member out of Raft but
 *   still recorded is visible (no database role) and can be removed again, while the reverse
 *   would leave a ghost voter nobody sees.
 * A removed member that is running applies its own removal and resets itself to an uninitialized
 * daemon (src/daemon/daemon.ts), so it can rejoin with a new token.
 */
import type { RaftNode } from '../raft/index.js';
import { ErrorCode, ShoalError, errors, type Clock, type Logger } from '../shared/index.js';
import {
  certificates,
  clusterConfig,
  clusterGroups,
  cmp,
  configNumber,
  instances,
  members,
  storageVolumes,
  type KvApplyResult,
  type StateStore,
} from '../state/index.js';
import { memberStatus } from './duties.js';
import { ALLOCATION_PREFIX } from './placement/index.js';

/** Raw key holding the highest Raft id ever allocated (decimal). */
export const RAFT_ID_HIGH_KEY = 'cluster/raft-id-high';

/**
 * A Raft id never used before in this cluster: above `atLeast` (the ids in use) and above every id
 * allocated so far (kept in {@link RAFT_ID_HIGH_KEY}, advanced by a compare-and-swap transaction).
 * An allocated id is burnt even if the join that asked for it fails.
 */
export async function allocateRaftId(store: StateStore, atLeast: number): Promise<number> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const view = await store.view();
    const rec = view.kv.get(RAFT_ID_HIGH_KEY);
    const high = rec ? Number(new TextDecoder().decode(rec.value)) : 0;
    const id = Math.max(Number.isSafeInteger(high) ? high : 0, atLeast) + 1;
    const res = await store.txn({
      compare: [cmp.modRevision(RAFT_ID_HIGH_KEY, '=', rec?.modRevision ?? 0)],
      success: [{ kind: 'put', key: RAFT_ID_HIGH_KEY, value: new TextEncoder().encode(String(id)) }],
      failure: [],
    });
    if (res.succeeded) return id;
  }
  throw new ShoalError(ErrorCode.Aborted, 'Could not allocate a Raft id: too many concurrent joins');
}

export interface RemovalOptions {
  readonly raft: RaftNode<KvApplyResult>;
  readonly store: StateStore;
  readonly clock: Clock;
  readonly log: Logger;
}

/** Removes member `name` (see the module comment). */
export async function removeMember(o: RemovalOptions, name: string, force: boolean): Promise<void> {
  const view = await o.store.view();
  const rec = view.get(members, name)?.record;
  if (!rec) throw errors.notFound(`Member "${name}" not found`);
  const all = view.list(members);
  if (all.length === 1) throw errors.precondition(`Member "${name}" is the only member of the cluster`);
  if (rec.raft_id === o.raft.id) throw errors.precondition(`Member "${name}" leads the cluster: hand the leadership off first`);
  const cfg = view.get(clusterConfig)?.record.config ?? {};
  const offline = memberStatus(rec, o.clock.now(), configNumber('server', cfg, 'cluster.offline_threshold')).status === 'Offline';
  if (!force && offline && rec.state !== 'Pending') {
    throw errors.precondition(`Member "${name}" is offline: remove it with force (it must then be wiped before it rejoins)`);
  }

  const cs = o.raft.status().confState;
  if (cs.voters.includes(rec.raft_id) || cs.learners.includes(rec.raft_id)) {
    await o.raft.removeMember(rec.raft_id);
    o.log.info({ peer: name, raftId: rec.raft_id, force }, 'member removed from raft');
  }
  await o.store.update((tx) => {
    if (force) {
      for (const i of tx.list(instances)) if (i.record.location === name) tx.delete(instances, i.record.project, i.record.name);
      for (const v of tx.list(storageVolumes)) {
        const r = v.record;
        if (r.location === name) tx.delete(storageVolumes, r.pool, r.location, r.project, r.type, r.name);
      }
    }
    for (const g of tx.list(clusterGroups)) {
      if (g.record.members.includes(name)) tx.update(clusterGroups, { ...g.record, members: g.record.members.filter((x) => x !== name) });
    }
    for (const c of tx.list(certificates)) if (c.record.type === 'server' && c.record.name === name) tx.delete(certificates, c.record.fingerprint);
    if (tx.get(members, name)) tx.delete(members, name);
  });
  await o.store.txn({ compare: [], success: [{ kind: 'delete', key: `${ALLOCATION_PREFIX}${name}` }], failure: [] });
  o.log.info({ peer: name, force }, 'member removed');
}
