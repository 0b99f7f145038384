/**
 * The scheduler's own input and output types. The cluster database builds a ClusterSnapshot from
 * its tables (state/snapshot.ts); the scheduler never reads anything else. Quantities are plain
 * numbers: CPUs in cores (fractional allowed), memory and disk in bytes.
 */

/** How a member takes part in automatic placement (LXD `scheduler.instance`). */
export type SchedulerMode = 'all' | 'manual' | 'group';

/** Member states that matter for placement (LXD member status). */
export type MemberStatus = 'Online' | 'Offline' | 'Evacuated' | 'Blocked';

/** Resources as capacity, allocation or request. `disk` is keyed by storage pool name. */
export interface Resources {
  readonly cpu: number;
  readonly memoryBytes: number;
  readonly disk: Readonly<Record<string, number>>;
}

/** One member as the scheduler sees it. */
export interface MemberView {
  readonly name: string;
  readonly status: MemberStatus;
  /** Cluster groups this member belongs to (LXD always has `default`). */
  readonly groups: readonly string[];
  readonly schedulerInstance: SchedulerMode;
  /** Failure domain (LXD `failure_domain`, default `default`). */
  readonly failureDomain: string;
  /** Architectures the member runs (e.g. `x86_64`). */
  readonly architectures: readonly string[];
  /** Physical capacity; `disk` lists the pools present on the member with their size. */
  readonly capacity: Resources;
  /** What instances already placed here (including placements in flight) have reserved. */
  readonly allocated: Resources;
  /** Instances on the member, including in-flight placements. */
  readonly instanceCount: number;
}

/** Project restrictions relevant to placement (LXD `restricted.cluster.*`). */
export interface ProjectView {
  /** Null = unrestricted; otherwise instances may only go to members of these groups. */
  readonly restrictedClusterGroups: readonly string[] | null;
  /** `block` forbids `--target`. */
  readonly restrictedClusterTarget: 'allow' | 'block';
}

export type SchedulerPolicy = 'spread' | 'binpack';

/** Cluster config keys the scheduler reads (`scheduler.*`). */
export interface SchedulerConfig {
  readonly policy: SchedulerPolicy;
  /** `scheduler.cpu_overcommit`: capacity multiplier for CPU (default 4.0, CPUs are shared well). */
  readonly cpuOvercommit: number;
  /** `scheduler.memory_overcommit`: capacity multiplier for memory (default 1.0). */
  readonly memoryOvercommit: number;
}

export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = Object.freeze({
  policy: 'spread',
  cpuOvercommit: 4,
  memoryOvercommit: 1,
});

/** Everything `place` needs. Build it once and reuse it for many placements. */
export interface ClusterSnapshot {
  readonly members: readonly MemberView[];
  readonly projects: ReadonlyMap<string, ProjectView>;
  /**
   * placement group → member name → instances of that group on the member (including in flight).
   * Keyed `<project>/<group>`: groups are per project.
   */
  readonly placementGroups: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly config: SchedulerConfig;
}

/** `--target`: a member, or `@group`. */
export type PlacementTarget = { readonly kind: 'member'; readonly name: string } | { readonly kind: 'group'; readonly name: string };

/** What to place. */
export interface PlacementRequest {
  readonly project: string;
  readonly instance: string;
  readonly target?: PlacementTarget;
  readonly architecture?: string;
  /** Reserved resources: from `limits.cpu`, `limits.memory` and the root disk `size` (see requestFromConfig). */
  readonly resources: ResourceRequest;
  /** `placement.group`: instances sharing it are spread across failure domains. */
  readonly placementGroup?: string;
  /** Members never to choose (e.g. the member being evacuated). */
  readonly exclude?: ReadonlySet<string>;
}

/** A request whose memory may be relative to the member (`limits.memory=25%`). */
export interface ResourceRequest {
  readonly cpu: number;
  readonly memory: { readonly bytes: number } | { readonly percent: number };
  /** Root disk: pool and bytes (0 when no size is set; the pool must still exist on the member). */
  readonly rootDisk: { readonly pool: string; readonly bytes: number } | null;
}

/** Why a member was not chosen. */
export interface Rejection {
  readonly member: string;
  /** Stable filter name (`status`, `memory`, …). */
  readonly filter: string;
  /** Human explanation, LXD style: `Member "m2" is offline`. */
  readonly reason: string;
}

/** A placement decision or the reasons none was possible. Expected outcomes, never thrown. */
export type PlacementResult =
  | {
      readonly ok: true;
      readonly member: string;
      /** Members that passed every filter. */
      readonly feasible: number;
      readonly rejections: readonly Rejection[];
      /** Score of the chosen member and why (for --dry-run). */
      readonly explanation: string;
    }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly rejections: readonly Rejection[];
    };

/** One instance to move in an evacuation. */
export interface EvacuationCandidate {
  readonly project: string;
  readonly instance: string;
  readonly architecture?: string;
  readonly resources: ResourceRequest;
  readonly placementGroup?: string;
}

export interface EvacuationPlan {
  readonly member: string;
  readonly moves: readonly { readonly project: string; readonly instance: string; readonly to: string }[];
  readonly unplaceable: readonly { readonly project: string; readonly instance: string; readonly reason: string }[];
}
