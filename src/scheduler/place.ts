/**
 * place(snapshot, request): filter, then rank, then break ties by member name. Pure and
 * deterministic: no clock, no I/O, same input → same output. "Fits nowhere" is a result listing
 * each member and why it was rejected, never an exception.
 */
import { firstRejection, type FilterContext } from './filters.js';
import { loadAfter, loadValue, type LoadBreakdown } from './scorers.js';
import type { ClusterSnapshot, MemberView, PlacementRequest, PlacementResult, Rejection } from './types.js';

interface SnapshotIndex {
  readonly byName: ReadonlyMap<string, MemberView>;
  readonly groups: ReadonlySet<string>;
  readonly countScale: number;
}

// Derived lookups are memoised per snapshot object; snapshots are immutable values, so this is
// invisible to callers (same input, same output) and keeps one placement O(members).
const indexes = new WeakMap<ClusterSnapshot, SnapshotIndex>();

function indexOf(snapshot: ClusterSnapshot): SnapshotIndex {
  let idx = indexes.get(snapshot);
  if (!idx) {
    const byName = new Map<string, MemberView>();
    const groups = new Set<string>();
    let total = 0;
    for (const m of snapshot.members) {
      byName.set(m.name, m);
      for (const g of m.groups) groups.add(g);
      total += m.instanceCount;
    }
    const mean = snapshot.members.length > 0 ? total / snapshot.members.length : 0;
    idx = { byName, groups, countScale: 2 * mean + 1 };
    indexes.set(snapshot, idx);
  }
  return idx;
}

/** Chooses a member for `request`, or explains why none fits. */
export function place(snapshot: ClusterSnapshot, request: PlacementRequest): PlacementResult {
  const idx = indexOf(snapshot);
  return placeWith(snapshot, request, idx.byName, idx.groups, idx.countScale, snapshot.placementGroups);
}

interface Candidate {
  readonly member: MemberView;
  readonly load: number;
  readonly groupOnMember: number;
  readonly groupInDomain: number;
}

/**
 * The placement algorithm over explicit views; planEvacuation reuses it with members whose
 * allocations it updates as it assigns instances.
 */
export function placeWith(
  snapshot: Pick<ClusterSnapshot, 'members' | 'projects' | 'config'>,
  request: PlacementRequest,
  byName: ReadonlyMap<string, MemberView>,
  groups: ReadonlySet<string>,
  countScale: number,
  placementGroups: ClusterSnapshot['placementGroups'],
): PlacementResult {
  const project = snapshot.projects.get(request.project);
  if (request.target && project?.restrictedClusterTarget === 'block') {
    return { ok: false, reason: `Project "${request.project}" does not allow targeting cluster members`, rejections: [] };
  }
  if (request.target?.kind === 'member' && !byName.has(request.target.name)) {
    return { ok: false, reason: `Cluster member "${request.target.name}" not found`, rejections: [] };
  }
  if (request.target?.kind === 'group' && !groups.has(request.target.name)) {
    return { ok: false, reason: `Cluster group "${request.target.name}" not found`, rejections: [] };
  }

  const ctx: FilterContext = { config: snapshot.config, project };
  const groupCounts = request.placementGroup
    ? placementGroups.get(`${request.project}/${request.placementGroup}`)
    : undefined;
  const domainCounts = new Map<string, number>();
  if (groupCounts) {
    for (const [name, n] of groupCounts) {
      const m = byName.get(name);
      if (m) domainCounts.set(m.failureDomain, (domainCounts.get(m.failureDomain) ?? 0) + n);
    }
  }

  const rejections: Rejection[] = [];
  const binpack = snapshot.config.policy === 'binpack';
  // One pass, no per-member allocation: keep the best candidate twice, ranked with and without the
  // failure-domain key, and pick at the end once we know how many domains are feasible.
  let feasibleCount = 0;
  let firstDomain: string | undefined;
  let manyDomains = false;
  let bestPlain: Candidate | undefined;
  let bestDomain: Candidate | undefined;
  const hasGroup = groupCounts !== undefined;
  for (const member of snapshot.members) {
    const rejected = firstRejection(member, request, ctx);
    if (rejected !== null) {
      rejections.push({ member: member.name, filter: rejected.filter, reason: rejected.reason });
      continue;
    }
    feasibleCount++;
    if (firstDomain === undefined) firstDomain = member.failureDomain;
    else if (member.failureDomain !== firstDomain) manyDomains = true;
    const load = loadValue(member, request, snapshot.config, countScale);
    const gm = hasGroup ? (groupCounts.get(member.name) ?? 0) : 0;
    const gd = hasGroup ? (domainCounts.get(member.failureDomain) ?? 0) : 0;
    // Candidates are only materialised when they become the best so far.
    if (bestPlain === undefined || better(member, load, gm, gd, bestPlain, false, binpack)) {
      bestPlain = { member, load, groupOnMember: gm, groupInDomain: gd };
    }
    if (hasGroup && (bestDomain === undefined || better(member, load, gm, gd, bestDomain, true, binpack))) {
      bestDomain = { member, load, groupOnMember: gm, groupInDomain: gd };
    }
  }

  if (bestPlain === undefined) {
    return {
      ok: false,
      reason:
        snapshot.members.length === 0
          ? 'No cluster members'
          : `No cluster member can take instance "${request.instance}"`,
      rejections,
    };
  }

  // Spread a placement group across failure domains when there is more than one to use.
  const useDomains = request.placementGroup !== undefined && manyDomains;
  const best = useDomains && bestDomain ? bestDomain : bestPlain;
  const breakdown = loadAfter(best.member, request, snapshot.config, countScale);

  return {
    ok: true,
    member: best.member.name,
    feasible: feasibleCount,
    rejections,
    explanation: explain(best, breakdown, feasibleCount, snapshot.members.length, snapshot.config.policy, request, useDomains),
  };
}

function better(
  member: MemberView,
  load: number,
  groupOnMember: number,
  groupInDomain: number,
  b: Candidate,
  useDomains: boolean,
  binpack: boolean,
): boolean {
  if (useDomains && groupInDomain !== b.groupInDomain) return groupInDomain < b.groupInDomain;
  if (groupOnMember !== b.groupOnMember) return groupOnMember < b.groupOnMember;
  if (Math.abs(load - b.load) > 1e-12) return binpack ? load > b.load : load < b.load;
  return member.name < b.member.name;
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;

function explain(
  c: Candidate,
  b: LoadBreakdown,
  feasible: number,
  total: number,
  policy: string,
  request: PlacementRequest,
  useDomains: boolean,
): string {
  const parts = [
    `Member "${c.member.name}" chosen by the ${policy} policy`,
    `${feasible} of ${total} members feasible`,
    `after placement: memory ${pct(b.memory)}, cpu ${pct(b.cpu)}, disk ${pct(b.disk)}, ${c.member.instanceCount + 1} instances`,
  ];
  if (request.placementGroup) {
    parts.push(
      `placement group "${request.placementGroup}": ${c.groupOnMember} on this member` +
        (useDomains ? `, ${c.groupInDomain} in failure domain "${c.member.failureDomain}"` : ''),
    );
  }
  return parts.join('; ');
}
