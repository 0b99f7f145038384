/**
 * What a placement's transaction reads (and so compares at commit): exactly what the decision
 * depended on, and nothing that unrelated writes touch, so that concurrent placements on other
 * members never conflict.
 *
 * - the chosen member's record (status, heartbeat, capacity, scheduler.instance) — read by the
 *   instances table's integrity rule;
 * - the member's allocation key `placement/<member>`: every write that adds to what a member has
 *   reserved (a placement, a move onto it, a raised limit) must write it (touchMemberAllocation),
 *   so a transaction that decided on an older allocation fails its compare. Writes that only free
 *   resources (delete, move away) need not touch it. This stands in for "the set of instances on the
 *   member", which is not a key range (instances are keyed by project and name);
 * - the cluster configuration (policy, overcommit ratios), the project (restrictions, read by the
 *   integrity rule), the instance's profiles (its limits), the target group and the member's
 *   groups (group membership), and the root disk's pool on the member (its capacity);
 * - the instance's own key (absent: names are unique).
 *
 * Not read: other instances, other members, placement-group counts (a soft preference, not a
 * limit), heartbeats of other members.
 */
import { clusterConfig, clusterGroups, storagePoolMembers, type WriteTx } from '../../state/index.js';
import type { PlacementRequest as SchedulerRequest } from '../../scheduler/index.js';

/** Key prefix of the per-member allocation keys. */
export const ALLOCATION_PREFIX = 'placement/';

/** The allocation key of `member`. */
export function allocationKey(member: string): string {
  return `${ALLOCATION_PREFIX}${member}`;
}

/**
 * Records in `tx` that `member`'s reservations grow (a placement, a move onto it, a raised limit):
 * any placement decided on the older allocation then conflicts. Call once per member per
 * transaction; `why` is stored for `shoald db dump` readers.
 */
export function touchMemberAllocation(tx: WriteTx, member: string, why: string): void {
  tx.putRaw(allocationKey(member), new TextEncoder().encode(JSON.stringify({ last: why })));
}

/**
 * Adds to `tx`'s read set what a decision for `request` on `member` depended on beyond the record's
 * own rules. `memberGroups`: the member's cluster groups in the snapshot (target @group and project
 * `restricted.cluster.groups` are decided on them).
 */
export function trackDecision(tx: WriteTx, member: string, request: SchedulerRequest, memberGroups: readonly string[]): void {
  tx.get(clusterConfig);
  if (request.target?.kind === 'group') tx.get(clusterGroups, request.target.name);
  for (const g of memberGroups) tx.get(clusterGroups, g);
  const root = request.resources.rootDisk;
  if (root) tx.get(storagePoolMembers, root.pool, member);
}
