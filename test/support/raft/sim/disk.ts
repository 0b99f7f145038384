/**
 * SimDisk: one node's disk. It holds the raft log/HardState and the state machine in one image,
 * written in order (like one LevelDB WAL). A write becomes visible when it completes (the caller
 * schedules completion after a simulated latency; a crash before that loses it).
 * - Process crash (kill -9): every completed write survives (LevelDB non-synced writes survive a
 *   process crash).
 * - Power loss (optional): only synced writes are sure to survive; of the completed unsynced ones,
 *   a random prefix survives (a torn WAL tail loses whole records, in order).
 */
import { MemoryLogStorage } from '../../../../src/raft/index.js';
import type { SimRandom } from './random.js';
import { cloneSm, type SmImage } from './kv-state-machine.js';

export interface DiskImage {
  readonly log: MemoryLogStorage;
  readonly sm: SmImage;
}

/** A write: `apply` must be deterministic and depend only on its captured immutable arguments. */
export interface DiskWrite<T> {
  readonly sync: boolean;
  readonly apply: (img: DiskImage) => T;
}

export class SimDisk {
  private img: DiskImage;
  private synced: DiskImage | undefined;
  private unsynced: DiskWrite<unknown>[] = [];

  constructor(initial: DiskImage, modelPowerLoss: boolean) {
    this.img = initial;
    this.synced = modelPowerLoss ? cloneImage(initial) : undefined;
  }

  /** Everything written so far (what the running process reads). */
  get view(): DiskImage {
    return this.img;
  }

  /** Completes a write: applies it to the view and returns its result. */
  complete<T>(w: DiskWrite<T>): T {
    const out = w.apply(this.img);
    if (this.synced !== undefined) {
      if (w.sync) {
        for (const u of this.unsynced) u.apply(this.synced);
        w.apply(this.synced);
        this.unsynced = [];
      } else {
        this.unsynced.push(w);
      }
    }
    return out;
  }

  /** Number of completed writes that a power loss could still lose. */
  get unsyncedWrites(): number {
    return this.unsynced.length;
  }

  /**
   * Power loss: the view becomes the synced image plus a random prefix of the unsynced writes.
   * Returns how many completed writes were lost. Without power-loss modelling nothing is lost.
   */
  powerLoss(rng: SimRandom): number {
    if (this.synced === undefined) return 0;
    const keep = rng.int(0, this.unsynced.length + 1);
    for (const u of this.unsynced.slice(0, keep)) u.apply(this.synced);
    const lost = this.unsynced.length - keep;
    this.unsynced = [];
    this.img = cloneImage(this.synced);
    return lost;
  }
}

export function cloneImage(img: DiskImage): DiskImage {
  const log = img.log;
  const first = log.firstIndex();
  const last = log.lastIndex();
  const entries = last >= first ? log.entries(first, last + 1, Number.MAX_SAFE_INTEGER) : [];
  return {
    log: new MemoryLogStorage({ hardState: log.initialState().hardState, snapshot: log.snapshot(), entries }),
    sm: cloneSm(img.sm),
  };
}
