/**
 * The anchor: LXD 5.0's placement rule (lxd/db/node.go GetNodeWithLeastInstances) re-implemented
 * over our snapshot types: among online members allowed by scheduler.instance, pick the one with
 * the fewest instances; ties go to the first in database order. It ignores CPU, memory and disk.
 */
import type { ClusterSnapshot, PlacementRequest } from '../../src/scheduler/index.js';

export function placeCountOnly(snapshot: ClusterSnapshot, request: PlacementRequest): string | null {
  let best: { name: string; count: number } | null = null;
  for (const m of snapshot.members) {
    if (m.status !== 'Online') continue;
    if (request.target?.kind === 'member' && m.name !== request.target.name) continue;
    if (request.target?.kind === 'group' && !m.groups.includes(request.target.name)) continue;
    if (m.schedulerInstance === 'manual' && request.target?.kind !== 'member') continue;
    if (m.schedulerInstance === 'group' && !request.target) continue;
    if (best === null || m.instanceCount < best.count) best = { name: m.name, count: m.instanceCount };
  }
  return best?.name ?? null;
}
