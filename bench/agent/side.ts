/** What each side of the agent benchmark (ours, the raw LXC floor, LXD) offers. */
import { blockSubnet } from '../../test/support/host-plan.js';

/** The storage a benchmark instance's root is on. */
export type BenchStorage = 'dir' | 'btrfs';

/** One system under test. Every call resolves when the host work is done. */
export interface BenchSide {
  readonly label: string;
  /** Creates instance `name` (busybox image, root disk on `storage`, one bridged nic) and starts it; resolves once RUNNING. */
  createStart(name: string, storage: BenchStorage): Promise<void>;
  /** Stops it at once (kill). */
  stop(name: string): Promise<void>;
  /** Deletes the stopped instance and its root volume. */
  delete(name: string): Promise<void>;
}

/** The network plan: each side gets its own bridge on its own /24 in the host plan's bench block. */
export const SUBNETS = {
  ours: `${blockSubnet('bench', 8)}.1/24`,
  floor: `${blockSubnet('bench', 9)}.1/24`,
  lxd: `${blockSubnet('bench', 10)}.1/24`,
} as const;
