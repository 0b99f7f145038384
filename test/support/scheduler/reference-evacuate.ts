/**
 * The reference evacuation planner: the straightforward planEvacuation that src/scheduler had
 * before it was made incremental (one full placeWith per instance over member views rebuilt as it
 * goes). Property tests check that src/scheduler/evacuate.ts yields exactly the same plan.
 * Largest instances first, every assignment counted before the next one is placed.
 */
import { memoryBytesOn } from '../../../src/scheduler/resources.js';
import { placeWith } from '../../../src/scheduler/place.js';
import type { ClusterSnapshot, EvacuationCandidate, EvacuationPlan, MemberView, Resources } from '../../../src/scheduler/types.js';

interface MutableMember extends MemberView {
  allocated: Resources;
  instanceCount: number;
}

/** The plan src/scheduler's planEvacuation must reproduce exactly. */
export function planEvacuationReference(
  snapshot: ClusterSnapshot,
  member: string,
  instances: readonly EvacuationCandidate[],
): EvacuationPlan {
  const members: MutableMember[] = snapshot.members.map((m) => ({ ...m, allocated: m.allocated }));
  const byName = new Map<string, MutableMember>(members.map((m) => [m.name, m]));
  const groups = new Set(members.flatMap((m) => m.groups));
  const total = members.reduce((s, m) => s + m.instanceCount, 0);
  const countScale = members.length > 0 ? (2 * total) / members.length + 1 : 1;
  const placementGroups = new Map<string, Map<string, number>>();
  for (const [k, v] of snapshot.placementGroups) placementGroups.set(k, new Map(v));

  // Size instances as they are on the evacuated member (percentages are relative to it).
  const source = byName.get(member);
  const sizeOf = (c: EvacuationCandidate): number =>
    source ? memoryBytesOn(c.resources, source) : 'bytes' in c.resources.memory ? c.resources.memory.bytes : 0;
  const order = [...instances].sort((a, b) => {
    const ma = sizeOf(a);
    const mb = sizeOf(b);
    if (ma !== mb) return mb - ma;
    if (a.resources.cpu !== b.resources.cpu) return b.resources.cpu - a.resources.cpu;
    return a.project === b.project ? (a.instance < b.instance ? -1 : 1) : a.project < b.project ? -1 : 1;
  });
  const exclude = new Set([member]);
  const moves: { project: string; instance: string; to: string }[] = [];
  const unplaceable: { project: string; instance: string; reason: string }[] = [];

  for (const inst of order) {
    const result = placeWith(
      { members, projects: snapshot.projects, config: snapshot.config },
      {
        project: inst.project,
        instance: inst.instance,
        resources: inst.resources,
        exclude,
        ...(inst.architecture === undefined ? {} : { architecture: inst.architecture }),
        ...(inst.placementGroup === undefined ? {} : { placementGroup: inst.placementGroup }),
      },
      byName,
      groups,
      countScale,
      placementGroups,
    );
    if (!result.ok) {
      const others = result.rejections.filter((r) => r.member !== member);
      const why = others.length > 0 ? others.map((r) => r.reason).join('; ') : result.reason;
      unplaceable.push({ project: inst.project, instance: inst.instance, reason: why });
      continue;
    }
    const to = byName.get(result.member)!;
    const disk = { ...to.allocated.disk };
    const root = inst.resources.rootDisk;
    if (root) disk[root.pool] = (disk[root.pool] ?? 0) + root.bytes;
    to.allocated = {
      cpu: to.allocated.cpu + inst.resources.cpu,
      memoryBytes: to.allocated.memoryBytes + memoryBytesOn(inst.resources, to),
      disk,
    };
    to.instanceCount += 1;
    if (inst.placementGroup) {
      const key = `${inst.project}/${inst.placementGroup}`;
      const counts = placementGroups.get(key) ?? new Map<string, number>();
      counts.set(to.name, (counts.get(to.name) ?? 0) + 1);
      placementGroups.set(key, counts);
    }
    moves.push({ project: inst.project, instance: inst.instance, to: to.name });
  }
  return { member, moves, unplaceable };
}
