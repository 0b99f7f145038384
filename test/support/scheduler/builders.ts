/**
 * Builders for scheduler tests (nomad `tests.Harness` style): sensible defaults, override what the
 * case is about. Sizes in GiB where convenient.
 */
import {
  DEFAULT_SCHEDULER_CONFIG,
  type ClusterSnapshot,
  type MemberView,
  type PlacementRequest,
  type ProjectView,
  type ResourceRequest,
  type SchedulerConfig,
} from '../../../src/scheduler/index.js';

export const GiB = 1024 ** 3;

/** A member with 8 CPUs, 16 GiB, a 100 GiB pool "default", nothing allocated, online. */
export function aMember(overrides: Partial<MemberView> & { name: string }): MemberView {
  return {
    status: 'Online',
    groups: ['default'],
    schedulerInstance: 'all',
    failureDomain: 'default',
    architectures: ['x86_64'],
    capacity: { cpu: 8, memoryBytes: 16 * GiB, disk: { default: 100 * GiB } },
    allocated: { cpu: 0, memoryBytes: 0, disk: {} },
    instanceCount: 0,
    ...overrides,
  };
}

/** A request for instance `instance` in project default: 1 CPU, 1 GiB, root on "default" without size. */
export function aRequest(
  overrides: Omit<Partial<PlacementRequest>, 'resources'> & { resources?: Partial<ResourceRequest> } = {},
): PlacementRequest {
  const { resources, ...rest } = overrides;
  return {
    project: 'default',
    instance: 'c1',
    ...rest,
    resources: { cpu: 1, memory: { bytes: GiB }, rootDisk: { pool: 'default', bytes: 0 }, ...resources },
  };
}

/** A snapshot of `members` with optional projects, placement groups and config overrides. */
export function aSnapshot(
  members: readonly MemberView[],
  extra: {
    config?: Partial<SchedulerConfig>;
    projects?: Record<string, ProjectView>;
    placementGroups?: Record<string, Record<string, number>>;
  } = {},
): ClusterSnapshot {
  return {
    members,
    config: { ...DEFAULT_SCHEDULER_CONFIG, ...extra.config },
    projects: new Map(Object.entries(extra.projects ?? {})),
    placementGroups: new Map(
      Object.entries(extra.placementGroups ?? {}).map(([k, v]) => [k, new Map(Object.entries(v))]),
    ),
  };
}

/** Members m1..mN with the given overrides applied to each. */
export function members(n: number, overrides: Partial<MemberView> = {}): MemberView[] {
  return Array.from({ length: n }, (_, i) => aMember({ ...overrides, name: `m${i + 1}` }));
}
