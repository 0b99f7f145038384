/**
 * Ranking (nomad's rank iterators): every feasible member gets a load in [0, ~1] describing how
 * full it would be after the placement. `spread` picks the lowest load, `binpack` the highest.
 * Memory dominates (it cannot be overcommitted safely), then CPU, then root disk, then the
 * instance count (which alone decides among instances that reserve nothing — LXD's behaviour).
 */
import { memoryBytesOn } from './resources.js';
import type { MemberView, PlacementRequest, SchedulerConfig } from './types.js';

export const LOAD_WEIGHTS = Object.freeze({ memory: 0.7, cpu: 0.15, disk: 0.05, count: 0.1 });

/** Utilisations after placing `request` on `member`, each in [0, 1] (1 = full). */
export interface LoadBreakdown {
  readonly memory: number;
  readonly cpu: number;
  readonly disk: number;
  /** Instance count after placement relative to `countScale`. */
  readonly count: number;
  readonly load: number;
}

/**
 * Load of `member` after the placement. `countScale` normalises instance counts (the scheduler
 * passes twice the cluster's mean count + 1, so the count term stays in [0, 1] in practice).
 */
export function loadAfter(
  member: MemberView,
  request: PlacementRequest,
  config: SchedulerConfig,
  countScale: number,
): LoadBreakdown {
  const memLimit = member.capacity.memoryBytes * config.memoryOvercommit;
  const cpuLimit = member.capacity.cpu * config.cpuOvercommit;
  const memory = memLimit > 0 ? (member.allocated.memoryBytes + memoryBytesOn(request.resources, member)) / memLimit : 1;
  const cpu = cpuLimit > 0 ? (member.allocated.cpu + request.resources.cpu) / cpuLimit : 1;
  let disk = 0;
  const root = request.resources.rootDisk;
  if (root) {
    const size = member.capacity.disk[root.pool] ?? 0;
    disk = size > 0 ? ((member.allocated.disk[root.pool] ?? 0) + root.bytes) / size : 1;
  }
  const count = (member.instanceCount + 1) / countScale;
  return { memory, cpu, disk, count, load: loadOf(memory, cpu, disk, count) };
}

/** The weighted load; the single formula both `loadAfter` and the hot path use. */
export function loadOf(memory: number, cpu: number, disk: number, count: number): number {
  return LOAD_WEIGHTS.memory * memory + LOAD_WEIGHTS.cpu * cpu + LOAD_WEIGHTS.disk * disk + LOAD_WEIGHTS.count * count;
}

/** `loadAfter(...).load` without allocating (the placement loop calls it once per member). */
export function loadValue(
  member: MemberView,
  request: PlacementRequest,
  config: SchedulerConfig,
  countScale: number,
): number {
  const memLimit = member.capacity.memoryBytes * config.memoryOvercommit;
  const cpuLimit = member.capacity.cpu * config.cpuOvercommit;
  const memory = memLimit > 0 ? (member.allocated.memoryBytes + memoryBytesOn(request.resources, member)) / memLimit : 1;
  const cpu = cpuLimit > 0 ? (member.allocated.cpu + request.resources.cpu) / cpuLimit : 1;
  let disk = 0;
  const root = request.resources.rootDisk;
  if (root) {
    const size = member.capacity.disk[root.pool] ?? 0;
    disk = size > 0 ? ((member.allocated.disk[root.pool] ?? 0) + root.bytes) / size : 1;
  }
  const count = (member.instanceCount + 1) / countScale;
  return loadOf(memory, cpu, disk, count);
}
