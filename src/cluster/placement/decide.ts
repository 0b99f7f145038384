/**
 * The pure half of placement: from one consistent StateView (and the scheduler snapshot built from
 * it) to a decision for one request — the scheduler request (profiles expanded, limits parsed), the
 * member chosen or the per-member rejections, and the record to commit. withAssignment() counts a
 * decision in the snapshot, so several placements decided against one view never overcommit.
 */
import { ErrorCode, ShoalError, wrap } from '../../shared/index.js';
import {
  memoryBytesOn,
  place,
  requestFromConfig,
  type ClusterSnapshot,
  type PlacementRequest as SchedulerRequest,
  type PlacementTarget,
  type Rejection,
} from '../../scheduler/index.js';
import { configBool, expandInstance, profiles, projects, rootDisk, type InstanceRecord, type ProfileRecord, type StateView } from '../../state/index.js';
import type { PlacementRequest } from './types.js';

/** A decision for one request against one view. */
export type Decision =
  | {
      readonly ok: true;
      readonly member: string;
      readonly record: InstanceRecord;
      readonly request: SchedulerRequest;
      readonly explanation: string;
      readonly rejections: readonly Rejection[];
    }
  | { readonly ok: false; readonly reason: string; readonly rejections: readonly Rejection[] };

/** `m2` → member m2, `@gpu` → group gpu. INVALID_ARGUMENT for an empty name. */
export function parseTarget(target: string): PlacementTarget {
  const group = target.startsWith('@');
  const name = group ? target.slice(1) : target;
  if (name === '') throw new ShoalError(ErrorCode.InvalidArgument, `Invalid target "${target}"`);
  return group ? { kind: 'group', name } : { kind: 'member', name };
}

/**
 * The instance's profiles as stored, in its order, from the project that holds them
 * (`features.profiles`). NOT_FOUND for a missing project or profile.
 */
export function profilesOf(view: StateView, spec: PlacementRequest['instance']): ProfileRecord[] {
  const project = view.get(projects, spec.project);
  if (!project) throw new ShoalError(ErrorCode.NotFound, `Project "${spec.project}" not found`);
  const pp = configBool('project', project.record.config, 'features.profiles') ? spec.project : 'default';
  return spec.profiles.map((n) => {
    const p = view.get(profiles, pp, n);
    if (!p) throw new ShoalError(ErrorCode.NotFound, `Profile "${n}" not found in project "${pp}" (for instance "${spec.name}")`);
    return p.record;
  });
}

/** The scheduler request for `req`: limits and root disk from the expanded config. INVALID_ARGUMENT for bad limits. */
export function schedulerRequest(view: StateView, req: PlacementRequest): SchedulerRequest {
  const spec = req.instance;
  const expanded = expandInstance(spec, profilesOf(view, spec));
  let resources;
  try {
    resources = requestFromConfig(expanded.config, rootDisk(expanded.devices));
  } catch (err) {
    throw wrap(err, `Invalid limits for instance "${spec.name}"`);
  }
  const group = expanded.config['placement.group'];
  return {
    project: spec.project,
    instance: spec.name,
    resources,
    ...(req.target === undefined ? {} : { target: parseTarget(req.target) }),
    ...(spec.architecture === '' ? {} : { architecture: spec.architecture }),
    ...(group ? { placementGroup: group } : {}),
    ...(req.exclude && req.exclude.length > 0 ? { exclude: new Set(req.exclude) } : {}),
  };
}

/** Decides where `req` goes in `snapshot` (built from `view`); `nowIso` becomes created_at unless the spec has one. */
export function decide(view: StateView, snapshot: ClusterSnapshot, req: PlacementRequest, nowIso: string): Decision {
  const request = schedulerRequest(view, req);
  const result = place(snapshot, request);
  if (!result.ok) return { ok: false, reason: result.reason, rejections: result.rejections };
  const { created_at, ...spec } = req.instance;
  const record: InstanceRecord = {
    ...spec,
    location: result.member,
    status: 'Creating',
    created_at: created_at ?? nowIso,
    last_used_at: null,
  };
  return { ok: true, member: result.member, record, request, explanation: result.explanation, rejections: result.rejections };
}

/**
 * `snapshot` with `request` counted on `member` (allocation, instance count, placement group): the
 * next decision against the same view sees it, as it will see the committed record later.
 */
export function withAssignment(snapshot: ClusterSnapshot, member: string, request: SchedulerRequest): ClusterSnapshot {
  const members = snapshot.members.map((m) => {
    if (m.name !== member) return m;
    const disk = { ...m.allocated.disk };
    const root = request.resources.rootDisk;
    if (root) disk[root.pool] = (disk[root.pool] ?? 0) + root.bytes;
    return {
      ...m,
      allocated: { cpu: m.allocated.cpu + request.resources.cpu, memoryBytes: m.allocated.memoryBytes + memoryBytesOn(request.resources, m), disk },
      instanceCount: m.instanceCount + 1,
    };
  });
  let placementGroups = snapshot.placementGroups;
  if (request.placementGroup) {
    const key = `${request.project}/${request.placementGroup}`;
    const counts = new Map(placementGroups.get(key) ?? []);
    counts.set(member, (counts.get(member) ?? 0) + 1);
    const next = new Map(placementGroups);
    next.set(key, counts);
    placementGroups = next;
  }
  return { ...snapshot, members, placementGroups };
}
