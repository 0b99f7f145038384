/**
 * FakeDurableLogStorage: a DurableLogStorage over MemoryLogStorage for unit tests of the runtime
 * loop. It records every persist (with its `sync` flag) in an event log shared with the fake
 * transport, can hold persists until the test releases them, and exposes what is "on disk".
 */
import {
  MemoryLogStorage,
  type ConfState,
  type DurableLogStorage,
  type Entry,
  type HardState,
  type Snapshot,
} from '../../../src/raft/index.js';

/** Ordered record of what the runtime did, for ordering assertions. */
export type FakeEvent =
  | { readonly kind: 'persist-start'; readonly node: number; readonly entries: number; readonly sync: boolean }
  | { readonly kind: 'persist-done'; readonly node: number }
  | { readonly kind: 'send'; readonly node: number; readonly type: string; readonly to: number };

export class FakeDurableLogStorage implements DurableLogStorage {
  readonly mem: MemoryLogStorage;
  /** While set, persists wait for `release()`. */
  hold = false;
  private held: (() => void)[] = [];
  persists: { entries: number; sync: boolean; hardState?: HardState }[] = [];
  closed = false;

  constructor(
    readonly node: number,
    readonly events: FakeEvent[],
    from?: FakeDurableLogStorage,
  ) {
    // A "restart" shares the durable view of the previous incarnation.
    this.mem = from?.mem ?? new MemoryLogStorage();
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.mem.initialState();
  }
  entries(lo: number, hi: number, max: number): readonly Entry[] {
    return this.mem.entries(lo, hi, max);
  }
  term(i: number): number {
    return this.mem.term(i);
  }
  firstIndex(): number {
    return this.mem.firstIndex();
  }
  lastIndex(): number {
    return this.mem.lastIndex();
  }
  snapshot(): Snapshot {
    return this.mem.snapshot();
  }

  async persist(u: { hardState?: HardState; entries: readonly Entry[]; snapshot?: Snapshot; sync: boolean }): Promise<void> {
    this.events.push({ kind: 'persist-start', node: this.node, entries: u.entries.length, sync: u.sync });
    this.persists.push({ entries: u.entries.length, sync: u.sync, ...(u.hardState ? { hardState: u.hardState } : {}) });
    if (this.hold) await new Promise<void>((r) => this.held.push(r));
    await Promise.resolve();
    if (u.snapshot) this.mem.applySnapshot(u.snapshot);
    this.mem.append(u.entries);
    if (u.hardState) this.mem.setHardState(u.hardState);
    this.events.push({ kind: 'persist-done', node: this.node });
  }

  /** Lets held persists complete. */
  release(): void {
    this.hold = false;
    for (const r of this.held.splice(0)) r();
  }

  async createSnapshot(index: number, confState: ConfState, data: Uint8Array, trailing: number): Promise<Snapshot> {
    const snap = this.mem.createSnapshot(index, confState, data);
    if (index - trailing > this.mem.firstIndex()) this.mem.compact(index - trailing);
    return snap;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
