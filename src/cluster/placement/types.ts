/**
 * The placement service's input and output: what the API hands over for `POST /1.0/instances`
 * (the instance's validated spec and `--target`), and what it gets back (the member chosen and the
 * record committed, or why nothing fits, member by member).
 */
import type { Clock } from '../../shared/index.js';
import type { Rejection } from '../../scheduler/index.js';
import type { InstanceRecord, StateStore } from '../../state/index.js';

/** What placement needs of the cluster database. StateStore satisfies it (the leader's store). */
export type PlacementStore = Pick<StateStore, 'view' | 'txn'>;

/**
 * The instance to create, as the API validated it (profiles not expanded). Placement adds
 * `location` and `status: 'Creating'`, and `created_at` from the clock unless given.
 */
export type InstanceSpec = Omit<InstanceRecord, 'location' | 'status' | 'created_at' | 'last_used_at'> & {
  readonly created_at?: string;
};

/** A request to place (and, unless dry-run, record) one instance. */
export interface PlacementRequest {
  readonly instance: InstanceSpec;
  /** `--target`: a member name, or `@group` for a cluster group. Absent: the policy chooses. */
  readonly target?: string;
  /** Members never to choose (e.g. the source of a move). */
  readonly exclude?: readonly string[];
}

export interface PlacementOptions {
  /** Time for heartbeat ages (member online or not) and `created_at`. */
  readonly clock: Clock;
  /** Decide and explain, write nothing (`shoal launch --dry-run`, `?dry-run=1`). */
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
}

/** The instance was placed (or, with dryRun, would be placed) on `member`. */
export interface Placed {
  readonly placed: true;
  readonly member: string;
  /** The record as committed (dry-run: as it would be committed). */
  readonly record: InstanceRecord;
  /** Why this member: policy, feasible members, load after placement (scheduler explanation). */
  readonly explanation: string;
  /** Members rejected on the way, with reasons (also useful in a dry-run display). */
  readonly rejections: readonly Rejection[];
  /** Revision of the commit; null for a dry run. */
  readonly revision: number | null;
  /** Transactions tried (1 = no conflict); 0 for a dry run. */
  readonly attempts: number;
}

/** Nothing fits: the reason and, member by member, why it was rejected. An expected outcome, not an error. */
export interface NotPlaced {
  readonly placed: false;
  /** `No cluster member can take instance "web1"`, `Cluster member "m9" not found`, … */
  readonly reason: string;
  /** One entry per member that was considered, in member order. */
  readonly rejections: readonly Rejection[];
}

export type PlacementOutcome = Placed | NotPlaced;

/** One line per rejected member, for CLI/API display: `m2: Member "m2" has 256MiB of memory free, instance needs 1GiB`. */
export function formatRejections(rejections: readonly Rejection[]): string[] {
  return rejections.map((r) => `${r.member}: ${r.reason}`);
}

/**
 * One LXD-style message for an API error or CLI line: the reason, then each member's rejection
 * (`No cluster member can take instance "web1": m1: Member "m1" is offline; m2: …`).
 */
export function describeNotPlaced(outcome: NotPlaced): string {
  return outcome.rejections.length === 0 ? outcome.reason : `${outcome.reason}: ${formatRejections(outcome.rejections).join('; ')}`;
}
