/**
 * `npm run bench -- scheduler` (issue 5). Over a snapshot of 1,000 members and 100,000 instances:
 * p50/p99 of one placement, time to plan evacuating a member holding 500 instances, and the
 * memory imbalance (max/mean allocation) each rule leaves — ours (spread) beside LXD's
 * count-only rule, measured in the same run on the same inputs.
 *
 * Imbalance: each rule fills the same empty 1,000-member cluster with the same sequence of
 * 110,000 mixed-size instances (the 100,000 of the snapshot, then 10,000 more) and we report
 * max/mean memory allocation after the last 10,000. A cluster's state is the product of its own
 * scheduler, so each rule is measured on the state it would itself have produced. We also print the
 * figure for the 10,000 alone on an empty cluster (10 per member, where no online rule can be even).
 *
 * Then (unless --no-commit) placement commits through the real transaction on a real 3-member
 * cluster database (commit.ts): placements/s batched through one placer, one at a time, and
 * unbatched from four racing placers.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  DEFAULT_SCHEDULER_CONFIG,
  memoryBytesOn,
  place,
  planEvacuation,
  type ClusterSnapshot,
  type EvacuationCandidate,
  type MemberView,
  type PlacementRequest,
  type ResourceRequest,
} from '../../src/scheduler/index.js';
import { seededRng, type Rng } from '../../src/shared/clock.js';
import { measureCommit, type CommitFigures } from './commit.js';
import { placeCountOnly } from './count-only.js';

const GiB = 1024 ** 3;
const MEMBERS = 1000;
const INSTANCES = 100_000;
const EXTRA = 10_000;
const SIZES_GIB = [0.25, 0.5, 1, 2, 4, 8];

interface MutableMember extends MemberView {
  allocated: { cpu: number; memoryBytes: number; disk: Record<string, number> };
  instanceCount: number;
}

function emptyCluster(): MutableMember[] {
  return Array.from({ length: MEMBERS }, (_, i) => ({
    name: `m${String(i + 1).padStart(4, '0')}`,
    status: 'Online',
    groups: ['default'],
    schedulerInstance: 'all',
    failureDomain: `rack${i % 20}`,
    architectures: ['x86_64'],
    capacity: { cpu: 128, memoryBytes: 512 * GiB, disk: { default: 4096 * GiB } },
    allocated: { cpu: 0, memoryBytes: 0, disk: { default: 0 } },
    instanceCount: 0,
  }));
}

function randomRequest(rng: Rng, i: number): PlacementRequest {
  const mem = SIZES_GIB[Math.floor(rng() * SIZES_GIB.length)]!;
  const resources: ResourceRequest = {
    cpu: 1 + Math.floor(rng() * 4),
    memory: { bytes: mem * GiB },
    rootDisk: { pool: 'default', bytes: (1 + Math.floor(rng() * 20)) * GiB },
  };
  return { project: 'default', instance: `i${i}`, resources };
}

function snapshotOf(members: readonly MemberView[]): ClusterSnapshot {
  return { members, projects: new Map(), placementGroups: new Map(), config: DEFAULT_SCHEDULER_CONFIG };
}

function commit(m: MutableMember, r: PlacementRequest): void {
  m.allocated = {
    cpu: m.allocated.cpu + r.resources.cpu,
    memoryBytes: m.allocated.memoryBytes + memoryBytesOn(r.resources, m),
    disk: { default: (m.allocated.disk['default'] ?? 0) + (r.resources.rootDisk?.bytes ?? 0) },
  };
  m.instanceCount += 1;
}

/** Fills `members` with `requests` using `rule`; returns max/mean memory allocation. */
function fill(
  members: MutableMember[],
  requests: readonly PlacementRequest[],
  rule: (snap: ClusterSnapshot, r: PlacementRequest) => string | null,
  onPlaced?: (i: number, member: string) => void,
): void {
  const byName = new Map(members.map((m) => [m.name, m]));
  requests.forEach((r, i) => {
    // A fresh snapshot object per placement: the member views changed.
    const name = rule(snapshotOf(members), r);
    if (name === null) throw new Error(`could not place ${r.instance}`);
    commit(byName.get(name)!, r);
    onPlaced?.(i, name);
  });
}

function imbalance(members: readonly MemberView[]): number {
  let max = 0;
  let sum = 0;
  for (const m of members) {
    max = Math.max(max, m.allocated.memoryBytes);
    sum += m.allocated.memoryBytes;
  }
  return max / (sum / members.length);
}

const ours = (snap: ClusterSnapshot, r: PlacementRequest): string | null => {
  const res = place(snap, r);
  return res.ok ? res.member : null;
};

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const rng = seededRng(20261123);
  const requests = Array.from({ length: INSTANCES + EXTRA }, (_, i) => randomRequest(rng, i));

  // 1. Build the 1,000-member / 100,000-instance snapshot with our own scheduler.
  const t0 = performance.now();
  const cluster = emptyCluster();
  const placedOn = new Array<string>(INSTANCES);
  fill(cluster, requests.slice(0, INSTANCES), ours, (i, m) => (placedOn[i] = m));
  const buildMs = performance.now() - t0;

  // 2. Placement latency on that snapshot (ours and count-only), same requests.
  const snap = snapshotOf(cluster.map((m) => ({ ...m })));
  const probes = requests.slice(INSTANCES, INSTANCES + 5000);
  for (const r of probes.slice(0, 500)) place(snap, r); // warm-up
  const lat: number[] = [];
  const latCpu: number[] = [];
  const latCount: number[] = [];
  for (const r of probes) {
    const c0 = process.cpuUsage();
    let t = performance.now();
    place(snap, r);
    lat.push((performance.now() - t) * 1000);
    const c1 = process.cpuUsage(c0);
    latCpu.push(c1.user + c1.system);
    t = performance.now();
    placeCountOnly(snap, r);
    latCount.push((performance.now() - t) * 1000);
  }
  lat.sort((a, b) => a - b);
  latCpu.sort((a, b) => a - b);
  latCount.sort((a, b) => a - b);

  // 3. Evacuation plan for a member holding 500 instances.
  const target = cluster[0]!.name;
  const candidates: EvacuationCandidate[] = Array.from({ length: 500 }, (_, i) => {
    const r = requests[i]!;
    return { project: 'default', instance: `evac${i}`, resources: r.resources };
  });
  const evacSnap = snapshotOf(
    cluster.map((m, i) =>
      i === 0 ? { ...m, instanceCount: 500, allocated: { cpu: 0, memoryBytes: 0, disk: {} } } : { ...m },
    ),
  );
  planEvacuation(evacSnap, target, candidates); // warm-up
  const evacTimes: number[] = [];
  const evacCpu: number[] = [];
  let plan = planEvacuation(evacSnap, target, candidates);
  for (let k = 0; k < 5; k++) {
    const c0 = process.cpuUsage();
    const t = performance.now();
    plan = planEvacuation(evacSnap, target, candidates);
    evacTimes.push(performance.now() - t);
    const c1 = process.cpuUsage(c0);
    evacCpu.push((c1.user + c1.system) / 1000);
  }
  evacTimes.sort((a, b) => a - b);
  evacCpu.sort((a, b) => a - b);

  // 4. Imbalance after the last 10,000 placements, each rule on the state it produced itself.
  const extra = requests.slice(INSTANCES);
  fill(cluster, extra, ours);
  const oursImbalance = imbalance(cluster);
  const countCluster = emptyCluster();
  fill(countCluster, requests, (s, r) => placeCountOnly(s, r));
  const countImbalance = imbalance(countCluster);
  // And the 10,000 alone on an empty cluster.
  const oursEmpty = emptyCluster();
  fill(oursEmpty, extra, ours);
  const countEmpty = emptyCluster();
  fill(countEmpty, extra, (s, r) => placeCountOnly(s, r));

  const p50 = percentile(lat, 50);
  const p99 = percentile(lat, 99);
  const evac = percentile(evacTimes, 50);
  const row = (a: string, b: string, c: string): string => `${a.padEnd(44)}${b.padStart(14)}${c.padStart(16)}`;
  console.log(`Scheduler benchmark: ${MEMBERS} members, ${INSTANCES} instances (snapshot built in ${(buildMs / 1000).toFixed(1)} s)`);
  console.log(row('', 'Shoal spread', 'LXD count-only'));
  console.log(row('one placement p50 (µs)', p50.toFixed(1), percentile(latCount, 50).toFixed(1)));
  console.log(row('one placement p99 (µs)', p99.toFixed(1), percentile(latCount, 99).toFixed(1)));
  console.log(row('  CPU time of one placement p50/p99 (µs)', `${percentile(latCpu, 50).toFixed(0)}/${percentile(latCpu, 99).toFixed(0)}`, ''));
  console.log(row(`evacuation plan, 500 instances (ms)`, evac.toFixed(1), 'n/a'));
  console.log(row('  CPU time of the plan (ms)', percentile(evacCpu, 50).toFixed(1), ''));
  console.log(row('  moved / unplaceable', `${plan.moves.length}/${plan.unplaceable.length}`, ''));
  console.log(`(wall times include waiting for a CPU: load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores; CPU time excludes it)`);
  console.log(row('memory imbalance max/mean after +10,000', oursImbalance.toFixed(3), countImbalance.toFixed(3)));
  console.log(row('  (10,000 alone on an empty cluster)', imbalance(oursEmpty).toFixed(3), imbalance(countEmpty).toFixed(3)));
  console.log('goals: p99 < 1000 µs; evacuation < 100 ms; imbalance <= 1.1 where count-only is worse');
  const commit: Partial<CommitFigures> = process.argv.includes('--no-commit') ? {} : await measureCommit((l) => console.log(l));
  const commitJson = Object.fromEntries(Object.entries(commit).map(([k, v]) => [`commit_${k}`, v]));
  console.log(
    JSON.stringify({
      place_p50_us: Number(p50.toFixed(2)),
      place_p99_us: Number(p99.toFixed(2)),
      evacuate_500_ms: Number(evac.toFixed(2)),
      imbalance: Number(oursImbalance.toFixed(4)),
      countonly_imbalance: Number(countImbalance.toFixed(4)),
      countonly_place_p99_us: Number(percentile(latCount, 99).toFixed(2)),
      place_cpu_p99_us: percentile(latCpu, 99),
      evacuate_500_cpu_ms: Number(percentile(evacCpu, 50).toFixed(2)),
      loadavg_1m: Number(loadavg()[0]!.toFixed(2)),
      imbalance_empty_10k: Number(imbalance(oursEmpty).toFixed(4)),
      countonly_imbalance_empty_10k: Number(imbalance(countEmpty).toFixed(4)),
      ...commitJson,
    }),
  );
}

await main();
