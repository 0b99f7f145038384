/*
 * 200 simultaneous launches on a real 3-member cluster database: three member processes
 * (src/daemon/kv-member.ts: Raft over gRPC + mutual TLS, LevelDB, StateService), and placeInstance
 * running in this client process through four independent placers, each a GrpcPlacementStore
 * (linearizable Range of the leader's state → snapshot; StateService Txn → the leader's Raft), so
 * placements race in the database itself; and once through a single placer (the leader's case).
 * Each run ends with no member over capacity, every accepted launch recorded exactly once on the
 * member it was told (on every member's replica), and every rejected launch carrying one reason
 * per member. A third run kills the leader in the middle of 100 launches and sends 100 more to
 * the new leader: whatever was answered "placed" is recorded, nothing is over capacity.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_ATTEMPTS, MAX_BATCH, Placer, placeInstance, placerFor, type InstanceSpec, type PlacementOutcome } from '../../../src/cluster/placement/index.js';
import { ErrorCode, isShoalError, systemClock, type ErrorCode as Code } from '../../../src/shared/index.js';
import { clusterConfig, instances, members, type InstanceRecord } from '../../../src/state/index.js';
import { sleep, StateCluster } from '../../support/state-cluster.js';
import { GrpcPlacementStore } from './support.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const CAPACITY = { cpu: 64, memory_bytes: 24 * GiB, storage_pools: {} };
const SIZES_MIB = [128, 256, 512, 1024];
const LAUNCHES = 200;
const PLACERS = 4;
const TRANSIENT: ReadonlySet<Code> = new Set([ErrorCode.Unavailable, ErrorCode.DeadlineExceeded, ErrorCode.NotLeader]);

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
  // Wait for the members' own records (they advertise themselves), then set their capacity.
  const deadline = Date.now() + 60_000;
  while ((await admin.view()).list(members).length < 3) {
    assert.ok(Date.now() < deadline, 'members did not advertise themselves');
    await sleep(200);
  }
  await setCapacity(admin);
  return { c, leader, admin };
}

/** Plays the heartbeat writer: every member gets CAPACITY and a fresh heartbeat; a long offline threshold. */
async function setCapacity(admin: GrpcPlacementStore): Promise<void> {
  await admin.update((tx) => {
    const now = new Date(systemClock.now()).toISOString();
    for (const m of tx.list(members)) tx.update(members, { ...m.record, resources: CAPACITY, last_heartbeat: now });
    const cfg = tx.get(clusterConfig)!.record;
    tx.put(clusterConfig, { config: { ...cfg.config, 'cluster.offline_threshold': '3600' } });
  });
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

  it('keeps every answered placement recorded and no member over capacity when the leader is killed mid-launch', async () => {
    const p = await prepare();
    c = p.c;
    // Small batches make the first wave last several transactions, so the kill lands inside it.
    const wave = async (leader: number, from: number): Promise<PromiseSettledResult<PlacementOutcome>[]> => {
      const placer = new Placer(new GrpcPlacementStore(p.c, leader), { maxBatch: 4 });
      return Promise.allSettled(Array.from({ length: 100 }, (_, k) => placer.submit({ instance: spec(from + k) }, systemClock)));
    };
    const first = wave(p.leader, 0);
    await sleep(150);
    await p.c.kv.kill(p.leader);
    const r1 = await first;
    const rest = [1, 2, 3].filter((id) => id !== p.leader);
    const leader2 = await p.c.kv.waitLeader(rest);
    // The survivors re-advertise their host resources to the new leader (state-runtime's
    // Advertiser); wait for that, then play the heartbeat writer again.
    const admin2 = new GrpcPlacementStore(p.c, leader2);
    const names = rest.map((id) => `m${id}`);
    for (const until = Date.now() + 10_000; Date.now() < until; await sleep(200)) {
      const v = await admin2.view();
      if (names.every((n) => JSON.stringify(v.get(members, n)?.record.resources) !== JSON.stringify(CAPACITY))) break;
    }
    await setCapacity(admin2);
    const r2 = await wave(leader2, 100);
    const all = [...r1, ...r2];

    const failed = all.flatMap((s, i) => (s.status === 'rejected' ? [{ name: `c${i}`, err: s.reason as unknown }] : []));
    for (const f of failed) assert.ok(isShoalError(f.err) && TRANSIENT.has(f.err.code), `c: ${String(f.err)}`);
    assert.ok(r2.every((s) => s.status === 'fulfilled'), 'the second wave runs on a healthy leader');

    const view = await admin2.view();
    const recorded = new Map(view.list(instances).map((x) => [x.record.name, x.record]));
    const placed = new Map<string, string>();
    all.forEach((s, i) => {
      if (s.status === 'fulfilled' && s.value.placed) placed.set(`c${i}`, s.value.member);
    });
    // Answered "placed" → recorded there. Recorded → answered "placed", or its answer was an error
    // (a transaction cut off by the kill may still have committed: the caller must re-read).
    for (const [name, member] of placed) assert.equal(recorded.get(name)?.location, member, name);
    const errored = new Set(failed.map((f) => f.name));
    for (const name of recorded.keys()) assert.ok(placed.has(name) || errored.has(name), `${name} recorded but answered "not placed"`);
    const used = new Map<string, number>();
    for (const r of recorded.values()) used.set(r.location, (used.get(r.location) ?? 0) + mib(r) * MiB);
    for (const [m, bytes] of used) assert.ok(bytes <= CAPACITY.memory_bytes, `${m} over capacity`);
    await p.c.waitConverged(rest);
    console.log(`      placement: ${JSON.stringify({ killedLeader: p.leader, firstWave: { placed: r1.filter((s) => s.status === 'fulfilled' && s.value.placed).length, failed: r1.filter((s) => s.status === 'rejected').length }, secondWave: { placed: r2.filter((s) => s.status === 'fulfilled' && s.value.placed).length }, recorded: recorded.size, ambiguousCommitted: [...recorded.keys()].filter((n) => errored.has(n)).length })}`);
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
