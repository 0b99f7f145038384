/**
 * Futures of the runtime: proposals waiting for their entry to be applied, and ReadIndex requests
 * waiting for their read index to be applied. Pure bookkeeping: no timers, no I/O.
 *
 * A proposal is matched to its log position when the Ready that carries its entry is handled (see
 * isItsEntry). From then on it
 * is settled by the entry applied at that index: same term → its result; another term → the entry
 * was superseded by a new leader (retryable, and certainly not applied).
 */
import { EntryType, type Entry } from '../types.js';

/**
 * A normal proposal's entry carries the very `data` object proposed. A ConfChange's data is encoded
 * by the core, but the core accepts only one unapplied ConfChange at a time, so the ConfChange
 * entry handed out after the proposal is its own.
 */
function isItsEntry(p: PendingProposal<unknown>, e: Entry): boolean {
  return p.kind === 'normal' ? e.data === p.data : e.type === EntryType.ConfChange;
}

/** Callbacks of a pending future. */
export interface Settle<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

/** A proposal in flight. `index`/`term` are 0 until the Ready carrying its entry is handled. */
export interface PendingProposal<R> extends Settle<R> {
  readonly data: Uint8Array;
  readonly kind: 'normal' | 'confChange';
  index: number;
  term: number;
  /** The tick after which the caller stops waiting (DEADLINE_EXCEEDED; the entry may still apply). */
  readonly expiresAtTick: number;
  /** Releases the abort listener. */
  release(): void;
  /** Debug tracing: when propose() was called (epoch ms). */
  readonly proposedAt?: number;
  /**
   * Asked right before a deferred proposal enters the log: true sheds it (the caller has given
   * up, e.g. its gRPC call was cancelled or its deadline passed), so it is never applied.
   */
  readonly abandoned?: () => boolean;
}

/** Proposals between `propose()` and the application of their entry. */
export class ProposalTracker<R> {
  /** Normal proposals made on a leader, not yet handed to the core (see RaftNode.propose). */
  private deferred: PendingProposal<R>[] = [];
  private unassigned: PendingProposal<R>[] = [];
  private readonly byIndex = new Map<number, PendingProposal<R>>();

  get size(): number {
    return this.deferred.length + this.unassigned.length + this.byIndex.size;
  }

  /** Records a proposal already handed to the core (its entry comes out in the next Ready). */
  add(p: PendingProposal<R>): void {
    this.unassigned.push(p);
  }

  /** Records a proposal to hand to the core right before the next Ready is taken. */
  defer(p: PendingProposal<R>): void {
    this.deferred.push(p);
  }

  get hasDeferred(): boolean {
    return this.deferred.length > 0;
  }

  /** Takes the deferred proposals, in the order they were made. */
  takeDeferred(): PendingProposal<R>[] {
    const out = this.deferred;
    this.deferred = [];
    return out;
  }

  /** Takes the proposals made so far; call right before `RawNode.ready()`. */
  takeUnassigned(): PendingProposal<R>[] {
    const out = this.unassigned;
    this.unassigned = [];
    return out;
  }

  /**
   * Finds each proposal of `batch` among the Ready's `entries` (in order) and records its position.
   * Returns in `missing` the proposals that are not there: the core dropped them before they were
   * ever handed out (e.g. a new leader overwrote the unstable tail), so they were never sent or
   * applied; and in `displaced` older proposals positioned at an index now taken by a newer one
   * (their entry was overwritten, so it will never be applied).
   */
  assign(
    batch: readonly PendingProposal<R>[],
    entries: readonly Entry[],
  ): { missing: PendingProposal<R>[]; displaced: PendingProposal<R>[] } {
    const missing: PendingProposal<R>[] = [];
    const displaced: PendingProposal<R>[] = [];
    let j = 0;
    for (const p of batch) {
      while (j < entries.length && !isItsEntry(p, entries[j]!)) j++;
      if (j === entries.length) {
        missing.push(p);
        j = 0; // keep looking for later proposals from the start: order is preserved, but be lenient
        continue;
      }
      const e = entries[j]!;
      p.index = e.index;
      p.term = e.term;
      const prev = this.byIndex.get(e.index);
      if (prev && prev !== p) displaced.push(prev);
      this.byIndex.set(e.index, p);
      j++;
    }
    return { missing, displaced };
  }

  /** The proposal waiting at `index`, removed from the tracker. */
  take(index: number): PendingProposal<R> | undefined {
    const p = this.byIndex.get(index);
    if (p) this.byIndex.delete(index);
    return p;
  }

  /** Removes `p` wherever it is (abandoned by its caller). */
  remove(p: PendingProposal<R>): void {
    const d = this.deferred.indexOf(p);
    if (d >= 0) this.deferred.splice(d, 1);
    const i = this.unassigned.indexOf(p);
    if (i >= 0) this.unassigned.splice(i, 1);
    if (p.index > 0 && this.byIndex.get(p.index) === p) this.byIndex.delete(p.index);
  }

  /** Removes and returns every proposal positioned at or below `index` (a snapshot jumped past them). */
  takeUpTo(index: number): PendingProposal<R>[] {
    const out: PendingProposal<R>[] = [];
    for (const [i, p] of this.byIndex) {
      if (i <= index) {
        out.push(p);
        this.byIndex.delete(i);
      }
    }
    return out;
  }

  /** Removes and returns the proposals that expired at or before `tick`. */
  takeExpired(tick: number): PendingProposal<R>[] {
    const out = this.deferred.filter((p) => p.expiresAtTick <= tick);
    if (out.length > 0) this.deferred = this.deferred.filter((p) => p.expiresAtTick > tick);
    for (const p of this.unassigned) if (p.expiresAtTick <= tick) out.push(p);
    if (out.length > 0) this.unassigned = this.unassigned.filter((p) => p.expiresAtTick > tick);
    for (const [i, p] of this.byIndex) {
      if (p.expiresAtTick <= tick) {
        out.push(p);
        this.byIndex.delete(i);
      }
    }
    return out;
  }

  /** Removes and returns everything. */
  takeAll(): PendingProposal<R>[] {
    const out = [...this.deferred, ...this.unassigned, ...this.byIndex.values()];
    this.deferred = [];
    this.unassigned = [];
    this.byIndex.clear();
    return out;
  }
}

/** A ReadIndex request. `index` is set once the leader has answered. */
export interface PendingRead extends Settle<void> {
  readonly id: number;
  index: number;
  /** Ticks since the request was (re)sent to the core without an answer. */
  ticksWaiting: number;
  /** The tick after which the caller stops waiting (DEADLINE_EXCEEDED). */
  readonly expiresAtTick: number;
  release(): void;
}

/** ReadIndex requests by context id, and those answered but waiting for the apply to catch up. */
export class ReadTracker {
  private readonly byId = new Map<number, PendingRead>();

  get size(): number {
    return this.byId.size;
  }

  add(r: PendingRead): void {
    this.byId.set(r.id, r);
  }

  get(id: number): PendingRead | undefined {
    return this.byId.get(id);
  }

  remove(r: PendingRead): void {
    this.byId.delete(r.id);
  }

  /** Requests without an answer yet. */
  unanswered(): PendingRead[] {
    return [...this.byId.values()].filter((r) => r.index === 0);
  }

  /** Removes and returns answered requests whose index is applied. */
  takeReady(applied: number): PendingRead[] {
    const out: PendingRead[] = [];
    for (const r of this.byId.values()) {
      if (r.index > 0 && r.index <= applied) {
        out.push(r);
        this.byId.delete(r.id);
      }
    }
    return out;
  }

  /** Removes and returns the requests that expired at or before `tick`. */
  takeExpired(tick: number): PendingRead[] {
    const out: PendingRead[] = [];
    for (const r of this.byId.values()) {
      if (r.expiresAtTick <= tick) {
        out.push(r);
        this.byId.delete(r.id);
      }
    }
    return out;
  }

  takeAll(): PendingRead[] {
    const out = [...this.byId.values()];
    this.byId.clear();
    return out;
  }
}

/** Encodes a read id as a ReadIndex context (8 bytes, little-endian). */
export function encodeReadCtx(id: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, id, true);
  return out;
}

/** Decodes {@link encodeReadCtx}; undefined for a context that is not ours. */
export function decodeReadCtx(ctx: Uint8Array): number | undefined {
  if (ctx.byteLength !== 8) return undefined;
  return new DataView(ctx.buffer, ctx.byteOffset, 8).getFloat64(0, true);
}
