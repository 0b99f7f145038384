/**
 * StateStore: the cluster database as the rest of Shoal uses it (swarmkit's `MemoryStore` with
 * View/Update, over etcd-style transactions through Raft).
 *
 * - `view()` gives a typed, consistent StateView; linearizable by default (a ReadIndex round,
 *   shared by concurrent callers), `{ stale: true }` reads this member's applied state at once.
 * - `update(fn)` runs `fn` on a WriteTx over the local state and commits its writes in one Txn
 *   guarded by compares on everything it read; on a conflict it re-runs `fn` on fresher state (up
 *   to `maxAttempts`), then fails with ABORTED naming the key. Explicit `ifRevision` expectations
 *   fail at once. Writes go through Raft: on a follower they fail with NOT_LEADER.
 * - `txn()` / `read()` are the raw key-value level; `watch()` streams events by prefix.
 */
import { ErrorCode, ShoalError, type Disposable } from '../../shared/index.js';
import type { KvApplyResult, LevelKvStateMachine } from '../kv/level-kv-state-machine.js';
import { encodeCommand } from '../kv/command.js';
import type { KvView } from '../kv/kv-view.js';
import { checkTxn, type Txn, type TxnResult } from '../kv/txn.js';
import type { WatchObserver } from '../kv/watch-hub.js';
import { SCHEMA_LATEST } from '../schema/versions.js';
import { ReadBarrier, type ReadIndexer } from './read-barrier.js';
import { StateView, type DecodeCache } from './state-view.js';
import { conflict, describeKey, WriteTx } from './write-tx.js';

/** What the store needs of Raft (RaftNode satisfies it). */
export interface StateRaft extends ReadIndexer {
  /** Proposes a command and resolves with its result once applied here. */
  propose(data: Uint8Array, signal?: AbortSignal): Promise<KvApplyResult>;
}

export interface ReadOptions {
  /** Serve this member's applied state without a ReadIndex round (may be stale). */
  readonly stale?: boolean;
}

export interface UpdateOptions {
  /** Attempts before giving up on conflicts. Default 5. */
  readonly maxAttempts?: number;
  readonly signal?: AbortSignal;
}

export interface StateStoreOptions {
  readonly sm: LevelKvStateMachine;
  readonly raft: StateRaft;
  /**
   * The newest cluster schema this member may use (default: the newest this build knows). A lower
   * value makes the member behave like an older release (its member record advertises it), for
   * rollback safety — the way Kubernetes' emulated version works.
   */
  readonly schemaMax?: number;
  /**
   * How a follower commits a transaction: on the leader (its StateService). Called when Raft
   * answers NOT_LEADER; its result is final (a conflict is reported as `succeeded: false`).
   */
  readonly forward?: (txn: Txn, signal?: AbortSignal) => Promise<TxnResult>;
}

export class StateStore {
  private readonly barrier: ReadBarrier;
  private readonly cache: DecodeCache = new WeakMap();
  /** The newest cluster schema this member supports. */
  readonly schemaMax: number;

  constructor(private readonly o: StateStoreOptions) {
    this.barrier = new ReadBarrier(o.raft);
    this.schemaMax = Math.min(o.schemaMax ?? SCHEMA_LATEST, SCHEMA_LATEST);
  }

  /** The state machine underneath (status, digests, snapshots). */
  get stateMachine(): LevelKvStateMachine {
    return this.o.sm;
  }

  /** A raw key-value view; linearizable unless `stale`. */
  async read(opts: ReadOptions = {}): Promise<KvView> {
    if (!opts.stale) await this.barrier.wait();
    return this.o.sm.view();
  }

  /**
   * Resolves once a read started now may be served from this member's state (a shared ReadIndex
   * round). A caller that then reads the state machine synchronously (getKv, range) sees a
   * linearizable, consistent state without taking a view.
   */
  linearize(): Promise<void> {
    return this.barrier.wait();
  }

  /** A typed view; linearizable unless `stale`. FAILED_PRECONDITION if the cluster schema is newer than this member. */
  async view(opts: ReadOptions = {}): Promise<StateView> {
    const v = new StateView(await this.read(opts), this.cache);
    this.checkSchema(v);
    return v;
  }

  /**
   * Runs a raw transaction through Raft. INVALID_ARGUMENT for a malformed one; NOT_LEADER on a
   * follower without `forward` (or with `noForward`: the StateService, so a request forwarded to a
   * deposed leader is never forwarded a second time); UNAVAILABLE/DEADLINE_EXCEEDED from Raft (a timed-out proposal may still apply).
   */
  async txn(txn: Txn, signal?: AbortSignal, opts: { readonly noForward?: boolean } = {}): Promise<TxnResult> {
    const problem = checkTxn(txn);
    if (problem) throw new ShoalError(ErrorCode.InvalidArgument, `Invalid transaction: ${problem}`);
    let res: KvApplyResult;
    try {
      res = await this.o.raft.propose(encodeCommand({ kind: 'txn', txn }), signal);
    } catch (err) {
      if (!(this.o.forward && !opts.noForward && err instanceof ShoalError && err.code === ErrorCode.NotLeader)) throw err;
      const forwarded = await this.o.forward(txn, signal);
      // Read-your-writes: this member serves reads only once it has applied the commit.
      if (forwarded.succeeded) await this.barrier.wait();
      return forwarded;
    }
    if (res?.kind !== 'txn') {
      throw new ShoalError(ErrorCode.Internal, `Transaction was not applied: ${res?.kind === 'invalid' ? res.reason : `result ${res?.kind ?? 'none'}`}`);
    }
    return res;
  }

  /**
   * Runs `fn` in a write transaction and commits what it wrote (see the file header). `fn` must be
   * synchronous and free of side effects: it may run several times. Returns its result and the
   * revision of the commit (the view's revision when it wrote nothing).
   */
  async update<R>(fn: (tx: WriteTx) => R, opts: UpdateOptions = {}): Promise<{ result: R; revision: number }> {
    const attempts = Math.max(1, opts.maxAttempts ?? 5);
    for (let attempt = 1; ; attempt++) {
      const view = new StateView(this.o.sm.view(), this.cache);
      this.checkSchema(view);
      const tx = new WriteTx(view);
      const result = fn(tx);
      if (!tx.hasWrites) return { result, revision: view.revision };
      const { txn, origins } = tx.toTxn();
      const res = await this.txn(txn, opts.signal);
      if (res.succeeded) return { result, revision: res.revision };
      const origin = origins[res.failedCompare];
      if (!origin) throw new ShoalError(ErrorCode.Internal, `Transaction failed compare ${res.failedCompare}, which it does not have`);
      const what = describeKey(origin.key, origin.prefix);
      if (origin.explicit) throw conflict(`Conflict on ${what}: it changed after revision ${origin.seen}, the revision the request expected`, origin.key, origin.seen);
      if (attempt >= attempts) {
        throw conflict(
          `Conflict on ${what}: it changed after revision ${origin.seen} while the transaction ran${attempts > 1 ? ` (gave up after ${attempts} attempts)` : ''}`,
          origin.key,
          origin.seen,
        );
      }
    }
  }

  /** Watches keys under `prefix` (see LevelKvStateMachine.watch). */
  watch(prefix: string, fromRevision: number | undefined, observer: WatchObserver): Disposable {
    return this.o.sm.watch(prefix, fromRevision, observer);
  }

  private checkSchema(v: StateView): void {
    if (v.schemaVersion > this.schemaMax) {
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `The cluster is at schema ${v.schemaVersion} but this member supports schema ${this.schemaMax} at most; upgrade this member`,
        { retryable: false },
      );
    }
  }
}
