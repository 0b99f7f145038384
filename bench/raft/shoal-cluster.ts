/** Shoal's 3-member KV cluster for the benchmark (placeholder until the member program lands). */
import type { TestPki } from '../../test/support/openssl-pki.js';
import type { BenchCluster } from './bench.js';

export const ShoalBenchCluster = {
  async create(_dir: string, _pki: TestPki): Promise<BenchCluster> {
    throw new Error('not yet');
  },
};
