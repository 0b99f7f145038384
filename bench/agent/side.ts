/** What each side of the agent benchmark (ours, the raw LXC floor, LXD) offers. */

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

/** The network plan: each side gets its own bridge on its own /24 inside 10.173.0.0/16. */
export const SUBNETS = { ours: '10.173.200.1/24', floor: '10.173.201.1/24', lxd: '10.173.202.1/24' } as const;
