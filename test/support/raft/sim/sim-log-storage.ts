/**
 * SimLogStorage: the RawNode's LogStorage over a SimDisk's current image (the log as of the last
 * completed write).
 * - `initialState()` reports the snapshot's membership when the node restarts applying from the
 *   snapshot index (re-applying later ConfChange entries, as the runtime does), or the membership
 *   stored with the state machine's applied index when it resumes from there.
 * - `snapshot()` with `fresh`: when the state machine is ahead of the stored snapshot, a snapshot
 *   of it is built on demand (etcd's createMergedSnapshotMessage). Without that, a node added after
 *   the leader's last snapshot is sent a snapshot whose ConfState lacks it, which it must refuse.
 */
import type { LogStorage } from '../../../../src/raft/index.js';
import type { ConfState, Entry, HardState, Snapshot } from '../../../../src/raft/index.js';
import type { SimDisk } from './disk.js';
import { snapshotSm } from './kv-state-machine.js';

export class SimLogStorage implements LogStorage {
  constructor(
    private readonly disk: SimDisk,
    private readonly opts: { readonly resumeFromSmApplied: boolean; readonly fresh: boolean },
  ) {}

  initialState(): { hardState: HardState; confState: ConfState } {
    const img = this.disk.view;
    const snap = img.log.snapshot();
    const fromSm = this.opts.resumeFromSmApplied && img.sm.applied >= snap.meta.index;
    return { hardState: img.log.initialState().hardState, confState: fromSm ? img.sm.confState : snap.meta.confState };
  }

  entries(lo: number, hi: number, maxSizeBytes: number): readonly Entry[] {
    return this.disk.view.log.entries(lo, hi, maxSizeBytes);
  }

  term(i: number): number {
    return this.disk.view.log.term(i);
  }

  firstIndex(): number {
    return this.disk.view.log.firstIndex();
  }

  lastIndex(): number {
    return this.disk.view.log.lastIndex();
  }

  snapshot(): Snapshot {
    const { log, sm } = this.disk.view;
    const stored = log.snapshot();
    if (!this.opts.fresh || sm.applied <= stored.meta.index) return stored;
    return { meta: { index: sm.applied, term: log.term(sm.applied), confState: sm.confState }, data: snapshotSm(sm) };
  }
}
