/** Shoal's 3-member Raft KV cluster (compiled kv-member processes) as a benchmark cluster. */
import { KvCluster } from '../../test/support/kv-cluster.js';
import type { BenchCluster } from './bench-cluster.js';

/** Creates the cluster in `dir`; members run from dist (npm run build). */
export async function createShoalBenchCluster(dir: string): Promise<BenchCluster> {
  const c = await KvCluster.create({ dir, size: 3, runner: 'dist', logLevel: 'warn' });
  return {
    name: 'shoal',
    endpoints: c.endpoints([1, 2, 3]),
    tls: { ca: c.caFile, ...c.clientTls },
    startAll: () => c.startAll(),
    start: (i) => void c.start(i + 1),
    kill: async (i) => void (await c.kill(i + 1)),
    destroy: () => c.destroy(),
  };
}
