/** The benchmark driver's view of a system under test. */
import type { ClientTls, Endpoint } from './targets.js';

/** What the driver needs of a system under test (members indexed from 0). */
export interface BenchCluster {
  readonly name: 'shoal' | 'etcd';
  readonly endpoints: readonly Endpoint[];
  /** The load generator's client certificate and the CA to trust. */
  readonly tls: ClientTls;
  startAll(): void;
  start(i: number): void;
  kill(i: number): Promise<void>;
  /** Kills everything and removes what the cluster made. */
  destroy(): Promise<void>;
}
