/*
 * 200 simultaneous launches on a real 3-member cluster database: three member processes
 * (src/daemon/kv-member.ts: Raft over gRPC + mutual TLS, LevelDB, StateService), and placeInstance
 * running in this client process through four independent placers, each a GrpcPlacementStore
 * (linearizable Range of the leader's state → snapshot; StateService Txn → the leader's Raft), so
 * placements race in the database itself; and once through a single placer (the leader's case).
 * Each run ends with no member over capacity, every accepted launch recorded exactly once on the
 * member it was told (on every member's replica), and every rejected launch carrying one reason
 * per member.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_ATTEMPTS, MAX_BATCH, placeInstance, placerFor, type InstanceSpec, type PlacementOutcome } from '../../../src/cluster/placement/index.js';
import { systemClock } from '../../../src/shared/index.js';
import { clusterConfig, instances, members, type InstanceRecord } from '../../../src/state/index.js';
import { sleep, StateCluster } from '../../support/state-cluster.js';
import { GrpcPlacementStore } from './support.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const CAPACITY = { cpu: 64, memory_bytes: 24 * GiB, storage_pools: {} };
const SIZES_MIB = [128, 256, 512, 1024];
const LAUNCHES = 200;
const PLACERS = 4;

// Sizes cycle per placer too (launch i goes to placer i % PLACERS), so every placer asks for all sizes.
const spec = (i: number): InstanceSpec => ({
  name: `c${i}`,
  project: 'default',
  type: 'container',
  architecture: 'x86_64',
  description: '',
  config: { 'limits.memory': `${sizeMiB(i)}MiB`, 'limits.cpu': '1' },
  devices: {},
  profiles: ['default'],
  ephemeral: false,
  stateful: false,
});

interface Run {
  readonly accepted: number;
  readonly rejected: number;
  readonly elapsedMs: number;
  readonly transactions: number;
  readonly conflicts: number;
  readonly retriedPlacements: number;
  readonly maxAttempts: number;
}

/** A 3-member cluster whose members have CAPACITY, fresh heartbeats and a long offline threshold. */
async function prepare(): Promise<{ c: StateCluster; leader: number; admin: GrpcPlacementStore }> {
  const c = await StateCluster.create({ dir: mkdtempSync(join(tmpdir(), 'shoal-placement-it-')), size: 3 });
  c.startAll();
  const leader = await c.kv.waitLeader([1, 2, 3]);
  const admin = new GrpcPlacementStore(c, leader);
  // Wait for the members' own records, then play the heartbeat writer.
  const deadline = Date.now() + 60_000;
  while ((await admin.view()).list(members).length < 3) {
    assert.ok(Date.now() < deadline, 'members did not advertise themselves');
    await sleep(200);
  }
  await admin.update((tx) => {
    const now = new Date(systemClock.now()).toISOString();
    for (const m of tx.list(members)) tx.update(members, { ...m.record, resources: CAPACITY, last_heartbeat: now });
    const cfg = tx.get(clusterConfig)!.record;
    tx.put(clusterConfig, { config: { ...cfg.config, 'cluster.offline_threshold': '3600' } });
  });
  return { c, leader, admin };
}

/** LAUNCHES simultaneous placeInstance calls spread over `stores`; checks the end state; returns the figures. */
async function launchAndCheck(c: StateCluster, admin: GrpcPlacementStore, stores: readonly GrpcPlacementStore[]): Promise<Run> {
  const started = performance.now();
  const settled = await Promise.allSettled(
    Array.from({ length: LAUNCHES }, (_, i) => placeInstance(stores[i % stores.length]!, { instance: spec(i) }, { clock: systemClock })),
  );
  const elapsedMs = performance.now() - started;

  const errors = settled.flatMap((s, i) => (s.status === 'rejected' ? [`c${i}: ${String(s.reason)}`] : []));
  assert.deepEqual(errors, []);
  const outs = settled.map((s) => (s as PromiseFulfilledResult<PlacementOutcome>).value);
  const accepted = new Map<string, Extract<PlacementOutcome, { placed: true }>>();
  outs.forEach((o, i) => {
    if (o.placed) accepted.set(`c${i}`, o);
  });
  const rejected = outs.filter((o): o is Extract<PlacementOutcome, { placed: false }> => !o.placed);
  assert.ok(accepted.size > 0 && rejected.length > 0, `expected both outcomes: ${accepted.size} accepted`);

  // Rejected launches say, for each member, why (memory is what runs out).
  for (const r of rejected) {
    assert.match(r.reason, /^No cluster member can take instance "c\d+"$/);
    assert.deepEqual(r.rejections.map((x) => x.member), ['m1', 'm2', 'm3']);
    for (const x of r.rejections) assert.equal(x.filter, 'memory', x.reason);
  }

  // Every accepted launch is recorded once, where it was told; nothing else is; no member is over.
  const view = await admin.view();
  const recorded = view.list(instances).map((s) => s.record);
  assert.deepEqual(recorded.map((r) => r.name).sort(), [...accepted.keys()].sort());
  for (const r of recorded) {
    assert.equal(r.location, accepted.get(r.name)!.member);
    assert.equal(r.status, 'Creating');
  }
  const used = new Map<string, number>();
  for (const r of recorded) used.set(r.location, (used.get(r.location) ?? 0) + mib(r) * MiB);
  for (const m of view.list(members)) {
    assert.deepEqual(m.record.resources, CAPACITY);
    assert.ok((used.get(m.record.server_name) ?? 0) <= CAPACITY.memory_bytes, `${m.record.server_name} over capacity: ${used.get(m.record.server_name)}`);
  }

  // Every member's replica holds the same instances.
  await c.waitConverged([1, 2, 3]);

  const stats = stores.map((s) => placerFor(s).stats);
  const run: Run = {
    accepted: accepted.size,
    rejected: rejected.length,
    elapsedMs: Math.round(elapsedMs),
    transactions: stats.reduce((n, s) => n + s.transactions, 0),
    conflicts: stats.reduce((n, s) => n + s.conflicts, 0),
    retriedPlacements: [...accepted.values()].reduce((n, o) => n + o.attempts - 1, 0),
    maxAttempts: Math.max(...[...accepted.values()].map((o) => o.attempts)),
  };
  const perMemberGiB = Object.fromEntries([...used].sort().map(([m, b]) => [m, +(b / GiB).toFixed(2)]));
  console.log(`      placement: ${JSON.stringify({ launches: LAUNCHES, placers: stores.length, ...run, perMemberGiB })}`);
  return run;
}

describe('src/cluster/placement (real 3-member cluster)', function () {
  this.timeout(180_000);
  let c: StateCluster | undefined;
  afterEach(async () => {
    await c?.destroy();
    c = undefined;
  });

  it('places 200 simultaneous launches from 4 racing placers without overcommitting any member', async () => {
    const p = await prepare();
    c = p.c;
    const run = await launchAndCheck(p.c, p.admin, Array.from({ length: PLACERS }, () => new GrpcPlacementStore(p.c, p.leader)));
    // The placers raced: conflicts happened and were resolved by re-deciding, within the bound.
    assert.ok(run.conflicts >= 1);
    assert.ok(run.maxAttempts <= MAX_ATTEMPTS);
  });

  it('commits 200 simultaneous launches through one placer (the leader) in a few transactions without conflicts', async () => {
    const p = await prepare();
    c = p.c;
    const run = await launchAndCheck(p.c, p.admin, [new GrpcPlacementStore(p.c, p.leader)]);
    assert.equal(run.conflicts, 0);
    assert.ok(run.transactions <= Math.ceil(LAUNCHES / MAX_BATCH) + 1, `${run.transactions} transactions`);
  });
});

function sizeMiB(i: number): number {
  return SIZES_MIB[Math.floor(i / PLACERS) % SIZES_MIB.length]!;
}

function mib(r: InstanceRecord): number {
  return parseInt(r.config['limits.memory'] ?? '0', 10);
}
