/**
 * Placement: where a new instance goes, committed so that concurrent launches never overcommit a
 * member (issue 5). The API calls placeInstance for `POST /1.0/instances` (and `?dry-run=1`).
 */
import { requestFromConfig } from '../../scheduler/index.js';
import { instances, toClusterSnapshot, WriteTx } from '../../state/index.js';
import { decide } from './decide.js';
import { placerFor } from './placer.js';
import type { PlacementOptions, PlacementOutcome, PlacementRequest, PlacementStore } from './types.js';

export * from './types.js';
export { allocationKey, touchMemberAllocation, ALLOCATION_PREFIX } from './read-set.js';
export { Placer, placerFor, MAX_ATTEMPTS, MAX_BATCH, type PlacerStats } from './placer.js';
export { parseTarget } from './decide.js';

/**
 * Places `request.instance` and, unless `dryRun`, creates its record (`location` = the member
 * chosen, `status: 'Creating'`) in one transaction through `store` (the leader's StateStore).
 *
 * - The decision is made by the scheduler (src/scheduler place()) over a snapshot of a
 *   linearizable view (toClusterSnapshot); allocations include every recorded instance, so
 *   placements in flight (records in `Creating`) count.
 * - The transaction compares what the decision depended on (the member's record and allocation,
 *   the cluster config, project, profiles; see read-set.ts). If another writer changed it, the
 *   decision is made again on fresh state (at most MAX_ATTEMPTS rounds), then ABORTED naming the
 *   member or key. Placements through one store are batched (placer.ts) and never conflict with
 *   each other.
 * - `request.target`: `m2` pins a member, `@group` a cluster group (filters, as in LXD).
 *
 * Returns `{ placed: true, member, record, explanation, … }`, or `{ placed: false, reason,
 * rejections }` when nothing fits (one rejection per member with why) — an expected outcome, not
 * an error; with `dryRun` the same, without writing (record = what would be written).
 * Throws ShoalError: ALREADY_EXISTS (name taken), NOT_FOUND (project, profile), INVALID_ARGUMENT
 * (bad limits or target), ABORTED (conflicts persisted), NOT_LEADER/UNAVAILABLE from Raft,
 * CANCELLED (signal).
 */
export async function placeInstance(store: PlacementStore, request: PlacementRequest, opts: PlacementOptions): Promise<PlacementOutcome> {
  if (!opts.dryRun) return placerFor(store).submit(request, opts.clock, opts.signal);
  const view = await store.view();
  const snapshot = toClusterSnapshot(view, { now: opts.clock.now(), requestOf: requestFromConfig, cache: placerFor(store).snapshotCache });
  const d = decide(view, snapshot, request, new Date(opts.clock.now()).toISOString());
  if (!d.ok) return { placed: false, reason: d.reason, rejections: d.rejections };
  // Run the record's checks (name taken, project, profiles) without committing anything.
  new WriteTx(view).create(instances, d.record);
  return { placed: true, member: d.member, record: d.record, explanation: d.explanation, rejections: d.rejections, revision: null, attempts: 0 };
}
