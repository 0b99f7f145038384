/**
 * Placer: commits placements for one StateStore with group commit. Requests that arrive while a
 * transaction is in flight queue up; the next round takes them all (up to MAX_BATCH), reads one
 * linearizable view, decides them one after the other against it — each decision counted in the
 * snapshot before the next (withAssignment), like an evacuation plan — and commits every record in
 * ONE transaction whose compares are the decisions' read sets (read-set.ts).
 *
 * Why: placements through one leader never conflict with each other (they are decided in order and
 * never race), so 200 simultaneous launches cost a few rounds, not 200 and no livelock. Placements
 * by another writer (another Placer, a former leader, an evacuation touching the allocation key)
 * still conflict on the member they share: the round re-reads and decides again, up to
 * MAX_ATTEMPTS, then fails its requests with ABORTED naming the key (and so the member).
 */
import { ErrorCode, isShoalError, ShoalError, type Clock } from '../../shared/index.js';
import { requestFromConfig, type ClusterSnapshot } from '../../scheduler/index.js';
import { createSnapshotCache, instances, toClusterSnapshot, WriteTx, type SnapshotCache, type StateView } from '../../state/index.js';
import { decide, withAssignment, type Decision } from './decide.js';
import { ALLOCATION_PREFIX, touchMemberAllocation, trackDecision } from './read-set.js';
import type { PlacementOutcome, PlacementRequest, PlacementStore } from './types.js';

/** Most requests committed in one transaction. */
export const MAX_BATCH = 64;
/** Rounds tried for one request before ABORTED. */
export const MAX_ATTEMPTS = 8;

interface Pending {
  readonly request: PlacementRequest;
  readonly clock: Clock;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (o: PlacementOutcome) => void;
  readonly reject: (err: unknown) => void;
  attempts: number;
}

/** Counters, for tests and benchmarks. */
export interface PlacerStats {
  /** Transactions proposed. */
  transactions: number;
  /** Transactions whose compares failed (each re-read and re-decided). */
  conflicts: number;
  placed: number;
  notPlaced: number;
}

export class Placer {
  private queue: Pending[] = [];
  private running = false;
  readonly stats: PlacerStats = { transactions: 0, conflicts: 0, placed: 0, notPlaced: 0 };
  /** Per-instance snapshot results kept between rounds (unchanged instances are not recomputed). */
  readonly snapshotCache: SnapshotCache = createSnapshotCache();

  private readonly maxBatch: number;

  /** `maxBatch` (default MAX_BATCH) bounds the requests of one transaction; 1 turns batching off (benchmarks). */
  constructor(
    private readonly store: PlacementStore,
    opts: { readonly maxBatch?: number } = {},
  ) {
    this.maxBatch = Math.max(1, opts.maxBatch ?? MAX_BATCH);
  }

  /** Queues `request`; resolves once it is committed or known not to fit. */
  submit(request: PlacementRequest, clock: Clock, signal?: AbortSignal): Promise<PlacementOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, clock, signal, resolve, reject, attempts: 0 });
      if (!this.running) {
        this.running = true;
        // Let requests issued in the same tick join the first round.
        queueMicrotask(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          await this.round(batch);
        } catch (err) {
          // A failure of the round itself (view, Raft): every request in it gets the error.
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Decides and commits `batch`, re-deciding the ones that conflicted until none is left. */
  private async round(batch: Pending[]): Promise<void> {
    let pending = batch;
    while (pending.length > 0) {
      pending = pending.filter((p) => {
        if (!p.signal?.aborted) return true;
        p.reject(new ShoalError(ErrorCode.Cancelled, 'Operation cancelled'));
        return false;
      });
      if (pending.length === 0) return;
      const view = await this.store.view();
      const first = pending[0]!;
      let snapshot: ClusterSnapshot = toClusterSnapshot(view, { now: first.clock.now(), requestOf: requestFromConfig, cache: this.snapshotCache });
      const tx = new WriteTx(view);
      const staged: { p: Pending; d: Extract<Decision, { ok: true }> }[] = [];
      // "Nothing fits" answers are given only once the round commits: they may rest on the round's
      // own staged decisions, which a conflict undoes.
      const unplaced: { p: Pending; d: Extract<Decision, { ok: false }> }[] = [];
      const touched = new Set<string>();
      for (const p of pending) {
        p.attempts++;
        const d = this.decideOne(view, snapshot, tx, p);
        if (d === undefined) continue;
        if (!d.ok) {
          unplaced.push({ p, d });
          continue;
        }
        if (!touched.has(d.member)) {
          touchMemberAllocation(tx, d.member, `${d.record.project}/${d.record.name}`);
          touched.add(d.member);
        }
        snapshot = withAssignment(snapshot, d.member, d.request);
        staged.push({ p, d });
      }
      if (staged.length === 0) return this.answerUnplaced(unplaced);
      const { txn, origins } = tx.toTxn();
      this.stats.transactions++;
      // No signal: one caller's cancellation must not fail the others' shared transaction.
      const res = await this.store.txn(txn);
      if (res.succeeded) {
        for (const { p, d } of staged) {
          this.stats.placed++;
          p.resolve({ placed: true, member: d.member, record: d.record, explanation: d.explanation, rejections: d.rejections, revision: res.revision, attempts: p.attempts });
        }
        return this.answerUnplaced(unplaced);
      }
      this.stats.conflicts++;
      const origin = origins[res.failedCompare];
      const what = origin ? describeConflict(origin.key, origin.prefix) : `compare ${res.failedCompare}`;
      pending = [];
      for (const { p } of [...staged, ...unplaced]) {
        if (p.attempts < MAX_ATTEMPTS) pending.push(p);
        else {
          p.reject(
            new ShoalError(ErrorCode.Aborted, `Placing instance "${p.request.instance.name}" kept conflicting on ${what}; gave up after ${p.attempts} attempts`, {
              details: { key: origin?.key ?? '', attempts: p.attempts },
            }),
          );
        }
      }
    }
  }

  private answerUnplaced(unplaced: readonly { p: Pending; d: Extract<Decision, { ok: false }> }[]): void {
    for (const { p, d } of unplaced) {
      this.stats.notPlaced++;
      p.resolve({ placed: false, reason: d.reason, rejections: d.rejections });
    }
  }

  /** Decides `p` and, when placed, stages its record in `tx`; rejects `p` (and returns undefined) on an error. */
  private decideOne(view: StateView, snapshot: ClusterSnapshot, tx: WriteTx, p: Pending): Decision | undefined {
    try {
      const d = decide(view, snapshot, p.request, new Date(p.clock.now()).toISOString());
      if (!d.ok) return d;
      // Integrity rules run here (name taken, project, member, profiles): a refusal is this
      // request's error, staged nothing, and leaves the rest of the batch alone.
      tx.create(instances, d.record);
      trackDecision(tx, d.member, d.request, snapshot.members.find((m) => m.name === d.member)?.groups ?? []);
      return d;
    } catch (err) {
      if (!isShoalError(err)) throw err;
      p.reject(err);
      return undefined;
    }
  }
}

/** `the allocation of member "m2"` for allocation keys, `"members/m2"` (the key) otherwise. */
function describeConflict(key: string, prefix: boolean): string {
  if (prefix) return `keys under "${key}"`;
  if (key.startsWith(ALLOCATION_PREFIX)) return `the allocation of member "${key.slice(ALLOCATION_PREFIX.length)}"`;
  if (key.startsWith('members/')) return `member "${key.slice('members/'.length)}" ("${key}")`;
  return `"${key}"`;
}

/** The one Placer of each store (placements through one store are serialised and batched). */
const placers = new WeakMap<PlacementStore, Placer>();

/** The Placer of `store`, created on first use. */
export function placerFor(store: PlacementStore): Placer {
  let p = placers.get(store);
  if (!p) {
    p = new Placer(store);
    placers.set(store, p);
  }
  return p;
}
