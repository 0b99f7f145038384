/**
 * Placement commits through the real transaction on a real 3-member cluster database (member
 * processes: Raft over gRPC + mutual TLS, LevelDB synced). The placer runs in this process over
 * the StateService (GrpcPlacementStore: a linearizable Range of the leader's whole key space per
 * round, Txn to the leader), which costs more per round than the leader's in-process StateStore
 * view (an O(1) clone) — so these figures are a floor for the API's path, not a flattering one.
 *
 * - batched, 1 placer: 1,000 simultaneous launches through one Placer (the leader's case).
 * - sequential, 1 placer: one launch at a time, each awaited (latency-bound).
 * - unbatched, 4 placers: 200 simultaneous launches, one transaction per launch (maxBatch 1) from
 *   four placers: naive optimistic placement, the anchor batching is compared with (conflicts,
 *   launches that gave up with ABORTED).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Placer, type InstanceSpec, type PlacementOutcome } from '../../src/cluster/placement/index.js';
import { systemClock } from '../../src/shared/index.js';
import { clusterConfig, members } from '../../src/state/index.js';
import { GrpcPlacementStore } from '../../test/integration/placement/support.js';
import { sleep, StateCluster } from '../../test/support/state-cluster.js';

export interface CommitFigures {
  readonly batched_per_s: number;
  readonly batched_transactions: number;
  readonly sequential_per_s: number;
  readonly unbatched_per_s: number;
  readonly unbatched_conflicts: number;
  readonly unbatched_aborted: number;
}

const spec = (name: string): InstanceSpec => ({
  name,
  project: 'default',
  type: 'container',
  architecture: 'x86_64',
  description: '',
  config: { 'limits.memory': '64MiB', 'limits.cpu': '1' },
  devices: {},
  profiles: ['default'],
  ephemeral: false,
  stateful: false,
});

async function launch(placers: readonly Placer[], names: readonly string[]): Promise<{ ms: number; outs: PromiseSettledResult<PlacementOutcome>[] }> {
  const t = performance.now();
  const outs = await Promise.allSettled(names.map((n, i) => placers[i % placers.length]!.submit({ instance: spec(n) }, systemClock)));
  return { ms: performance.now() - t, outs };
}

export async function measureCommit(log: (line: string) => void): Promise<CommitFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-bench-placement-'));
  const c = await StateCluster.create({ dir, size: 3, runner: import.meta.url.endsWith('.ts') ? 'tsx' : 'dist', logLevel: 'warn' });
  try {
    c.startAll();
    const leader = await c.kv.waitLeader([1, 2, 3]);
    const admin = new GrpcPlacementStore(c, leader);
    while ((await admin.view()).list(members).length < 3) await sleep(200);
    await admin.update((tx) => {
      const now = new Date(systemClock.now()).toISOString();
      for (const m of tx.list(members)) tx.update(members, { ...m.record, resources: { cpu: 4096, memory_bytes: 1024 * 2 ** 30, storage_pools: {} }, last_heartbeat: now });
      tx.put(clusterConfig, { config: { ...tx.get(clusterConfig)!.record.config, 'cluster.offline_threshold': '3600' } });
    });

    const batched = new Placer(new GrpcPlacementStore(c, leader));
    const b = await launch([batched], Array.from({ length: 1000 }, (_, i) => `b${i}`));
    const bOk = b.outs.filter((o) => o.status === 'fulfilled' && o.value.placed).length;

    const seq = new Placer(new GrpcPlacementStore(c, leader));
    const tSeq = performance.now();
    const SEQ = 100;
    for (let i = 0; i < SEQ; i++) await seq.submit({ instance: spec(`s${i}`) }, systemClock);
    const seqMs = performance.now() - tSeq;

    const naive = Array.from({ length: 4 }, () => new Placer(new GrpcPlacementStore(c, leader), { maxBatch: 1 }));
    const u = await launch(naive, Array.from({ length: 200 }, (_, i) => `u${i}`));
    const uOk = u.outs.filter((o) => o.status === 'fulfilled' && o.value.placed).length;
    const uAborted = u.outs.filter((o) => o.status === 'rejected').length;
    const uConflicts = naive.reduce((n, p) => n + p.stats.conflicts, 0);

    log(`placement commits on a real 3-member cluster (placer over StateService; machine shared with other jobs)`);
    log(`  batched, 1 placer, 1,000 simultaneous: ${bOk} placed in ${b.ms.toFixed(0)} ms = ${((bOk * 1000) / b.ms).toFixed(0)}/s, ${batched.stats.transactions} transactions`);
    log(`  sequential, 1 placer, ${SEQ} one at a time: ${((SEQ * 1000) / seqMs).toFixed(0)}/s (${(seqMs / SEQ).toFixed(1)} ms each)`);
    log(`  unbatched, 4 placers, 200 simultaneous: ${uOk} placed in ${u.ms.toFixed(0)} ms = ${((uOk * 1000) / u.ms).toFixed(0)}/s, ${uConflicts} conflicts, ${uAborted} gave up (ABORTED)`);
    return {
      batched_per_s: Math.round((bOk * 1000) / b.ms),
      batched_transactions: batched.stats.transactions,
      sequential_per_s: Math.round((SEQ * 1000) / seqMs),
      unbatched_per_s: Math.round((uOk * 1000) / u.ms),
      unbatched_conflicts: uConflicts,
      unbatched_aborted: uAborted,
    };
  } finally {
    await c.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
