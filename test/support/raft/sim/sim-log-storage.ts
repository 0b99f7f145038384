/**
 * SimLogStorage: the RawNode's LogStorage over a SimDisk's current image. Reads go to the log as
 * of the last completed write. `initialState()` reports the membership in force at the state
 * machine's applied index (written with each ConfChange's effect), which is what the runtime
 * must hand a restarted node that resumes applying after that index.
 */
import type { LogStorage } from '../../../../src/raft/ports.js';
import type { ConfState, Entry, HardState, Snapshot } from '../../../../src/raft/types.js';
import type { SimDisk } from './disk.js';

export class SimLogStorage implements LogStorage {
  constructor(private readonly disk: SimDisk) {}

  initialState(): { hardState: HardState; confState: ConfState } {
    const img = this.disk.view;
    const snap = img.log.snapshot();
    const confState = img.sm.applied >= snap.meta.index ? img.sm.confState : snap.meta.confState;
    return { hardState: img.log.initialState().hardState, confState };
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
    return this.disk.view.log.snapshot();
  }
}
