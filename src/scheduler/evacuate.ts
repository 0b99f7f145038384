/**
 * planEvacuation(snapshot, member, instances): where each instance of a member goes when it is
 * evacuated, within the other members' capacity, or why it cannot move. Largest instances are
 * placed first (first-fit decreasing spreads best), and every assignment is counted before the
 * next one is placed, so the plan never overcommits a member.
 *
 * Each instance goes where place() would put it given the assignments so far. The members live in
 * an EvacuationTable (evacuation-table.ts) updated in place, so a placement costs a scan of a few
 * typed arrays instead of re-running every filter over member objects; only an instance that fits
 * nowhere is explained by the full placeWith over views of the current allocations.
 */
import { errors } from '../shared/errors.js';
import { EvacuationTable } from './evacuation-table.js';
import { memoryBytesOn } from './resources.js';
import { placeWith } from './place.js';
import type { ClusterSnapshot, EvacuationCandidate, EvacuationPlan, MemberView, PlacementRequest } from './types.js';

/** Plans the evacuation of `member`'s `instances` (listed by the caller from the database). */
export function planEvacuation(
  snapshot: ClusterSnapshot,
  member: string,
  instances: readonly EvacuationCandidate[],
): EvacuationPlan {
  const members = snapshot.members;
  const byName = new Map<string, MemberView>(members.map((m) => [m.name, m]));
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
  const table = new EvacuationTable(snapshot, exclude, countScale);
  const moves: { project: string; instance: string; to: string }[] = [];
  const unplaceable: { project: string; instance: string; reason: string }[] = [];

  for (const inst of order) {
    const request: PlacementRequest = {
      project: inst.project,
      instance: inst.instance,
      resources: inst.resources,
      exclude,
      ...(inst.architecture === undefined ? {} : { architecture: inst.architecture }),
      ...(inst.placementGroup === undefined ? {} : { placementGroup: inst.placementGroup }),
    };
    const groupKey = inst.placementGroup ? `${inst.project}/${inst.placementGroup}` : undefined;
    const groupCounts = groupKey === undefined ? undefined : placementGroups.get(groupKey);
    const chosen = table.choose(request, groupCounts);
    if (chosen < 0) {
      const views = table.views();
      const groups = new Set(views.flatMap((m) => m.groups));
      const viewsByName = new Map(views.map((m) => [m.name, m]));
      const result = placeWith(
        { members: views, projects: snapshot.projects, config: snapshot.config },
        request,
        viewsByName,
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
      throw errors.internal(`Evacuation table found no member for "${inst.instance}" but placement chose "${result.member}"`);
    }
    const to = table.assign(chosen, inst);
    if (groupKey !== undefined) {
      const counts = placementGroups.get(groupKey) ?? new Map<string, number>();
      counts.set(to, (counts.get(to) ?? 0) + 1);
      placementGroups.set(groupKey, counts);
    }
    moves.push({ project: inst.project, instance: inst.instance, to });
  }
  return { member, moves, unplaceable };
}
