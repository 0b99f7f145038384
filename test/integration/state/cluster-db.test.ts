/*
 * Real processes: 3 members running the cluster database (src/daemon/kv-member.ts with
 * src/state) as separate OS processes, gRPC with mutual TLS on loopback, LevelDB each. Covers
 * concurrent conflicting transactions (exactly one wins), reads (linearizable and stale), members
 * advertising their schema and the automatic upgrade, `shoald db dump|get` on a running member,
 * kill -9 in the middle of applying batches (no entry applied twice or skipped), and a member that
 * joins, restores a snapshot and catches up from the log (byte-identical state).
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { cmp, type Txn } from '../../../src/state/index.js';
import { sleep, storedJson, type StateCluster } from '../../support/state-cluster.js';
import { newStateCluster, TxnLoad } from './support.js';

const b = (s: string): Buffer => Buffer.from(s);
const decode = (v: Buffer): string => v.toString('utf8');

describe('src/state (real processes)', function () {
  this.timeout(120_000);
  let c: StateCluster | undefined;
  afterEach(async () => {
    await c?.destroy();
    c = undefined;
  });

  it('lets exactly one of many concurrent conflicting transactions win; the others see the compare fail on that key', async () => {
    c = await newStateCluster(3);
    c.startAll();
    const leader = await c.kv.waitLeader([1, 2, 3]);
    const create = (who: number): Txn => ({
      compare: [cmp.absent('instances/default/web1')],
      success: [
        { kind: 'put', key: 'instances/default/web1', value: b(`{"by":${who}}`) },
        { kind: 'put', key: `volumes/web1-${who}`, value: b('{}') },
      ],
      failure: [{ kind: 'range', key: 'instances/default/web1' }],
    });
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => c!.txn(leader, create(i))));
    const winners = results.filter((r) => r.succeeded);
    assert.equal(winners.length, 1);
    const won = JSON.parse(decode((await c.getLocal(leader, 'instances/default/web1'))!.value)) as { by: number };
    for (const r of results.filter((x) => !x.succeeded)) {
      assert.equal(r.failedCompare, 0); // the compare on instances/default/web1
      const seen = r.responses[0]?.response;
      assert.ok(seen?.$case === 'range');
      assert.equal(seen.value.kvs[0]!.key, 'instances/default/web1');
      assert.deepEqual(JSON.parse(decode(seen.value.kvs[0]!.value)), won);
    }
    assert.equal((await c.range(leader, 'volumes/', { prefix: true })).count, 1);
  });

  it('serves linearizable reads on followers, stale ones on request, and advertises and upgrades the schema', async () => {
    c = await newStateCluster(3);
    c.startAll();
    const leader = await c.kv.waitLeader([1, 2, 3]);
    const follower = [1, 2, 3].find((id) => id !== leader)!;
    const w = await c.txn(leader, { compare: [], success: [{ kind: 'put', key: 'k', value: b('v1') }], failure: [] });
    const lin = await c.range(follower, 'k');
    assert.equal(decode(lin.kvs[0]!.value), 'v1');
    assert.ok(lin.header!.appliedIndex >= 1 && lin.kvs[0]!.modRevision === w.revision);
    const stale = await c.range(follower, 'k', { serializable: true });
    assert.ok(stale.kvs.length <= 1);
    // Every member advertised schema 2, so the leader moved the cluster to schema 2.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const schema = storedJson(await c.getLocal(leader, 'meta/schema')) as { version: number } | undefined;
      const members = (await c.range(leader, 'members/', { prefix: true })).kvs.map((kv) => (storedJson(kv) as { record: { server_name: string; schema_max: number } }).record);
      if (schema?.version === 2 && members.length === 3) {
        assert.deepEqual(members.map((m) => [m.server_name, m.schema_max]), [['m1', 2], ['m2', 2], ['m3', 2]]);
        break;
      }
      assert.ok(Date.now() < deadline, `no schema upgrade: ${JSON.stringify({ schema, members })}`);
      await sleep(200);
    }
  });

  it('prints the database as JSON with shoald db dump and get on a running member', async () => {
    c = await newStateCluster(3);
    c.startAll();
    const leader = await c.kv.waitLeader([1, 2, 3]);
    await c.txn(leader, { compare: [], success: [{ kind: 'put', key: 'notes/a', value: b('{"x":1}') }, { kind: 'put', key: 'notes/b', value: b('raw bytes') }], failure: [] });
    const dump = await c.shoald(2, ['db', 'dump', 'notes/']);
    assert.equal(dump.code, 0, dump.stderr);
    const rows = JSON.parse(dump.stdout) as { key: string; value: unknown; version: number; create_revision: number; mod_revision: number }[];
    assert.deepEqual(rows.map((r) => [r.key, r.value, r.version]), [['notes/a', { x: 1 }, 1], ['notes/b', { base64: Buffer.from('raw bytes').toString('base64') }, 1]]);
    assert.ok(rows[0]!.mod_revision > 0 && rows[0]!.mod_revision === rows[0]!.create_revision);
    const get = await c.shoald(3, ['db', 'get', 'notes/a', '--stale']);
    assert.equal(get.code, 0, get.stderr);
    assert.deepEqual((JSON.parse(get.stdout) as { value: unknown }).value, { x: 1 });
    const missing = await c.shoald(1, ['db', 'get', 'notes/zzz']);
    assert.deepEqual([missing.code, missing.stderr.trim()], [1, 'Error: Key "notes/zzz" not found']);
    const usage = await c.shoald(1, ['db', 'frobnicate']);
    assert.equal(usage.code, 2);
  });

  it('after kill -9 in the middle of applying batches, a member restarts with the same state and no entry applied twice', async () => {
    c = await newStateCluster(3);
    c.startAll();
    const leader = await c.kv.waitLeader([1, 2, 3]);
    const victim = [1, 2, 3].find((id) => id !== leader)!;
    // Every entry increments the counter's version and creates its own key, in one transaction.
    const load = new TxnLoad(c, () => [leader], 64, (n) => ({
      compare: [],
      success: [
        { kind: 'put', key: 'counter', value: b(String(n)) },
        { kind: 'put', key: `entry/${String(n).padStart(8, '0')}`, value: b('1') },
      ],
      failure: [],
    }));
    const restarts: number[] = [];
    for (let round = 0; round < 3; round++) {
      await sleep(1500 + Math.floor(Math.random() * 1000));
      const before = await c.kv.status(victim, false, 2000).catch(() => undefined);
      await c.kv.kill(victim); // SIGKILL while it applies the stream of batches
      restarts.push(before?.applied ?? 0);
      await sleep(300);
      c.start(victim);
    }
    await sleep(1500);
    await load.stop();
    assert.ok(load.acked > 500, `only ${load.acked} transactions acknowledged`);
    const { keyCount } = await c.waitConverged([1, 2, 3]);
    const counter = (await c.getLocal(victim, 'counter'))!;
    const entries = await c.range(victim, 'entry/', { prefix: true, serializable: true });
    // Applied exactly once: one counter increment per entry key, every entry key written once.
    assert.equal(counter.version, entries.count);
    assert.ok(entries.kvs.every((kv) => kv.version === 1 && kv.createRevision === kv.modRevision));
    assert.ok(entries.count >= load.acked && entries.count <= load.sent, `${entries.count} entries for ${load.acked} acked, ${load.sent} sent`);
    assert.ok(keyCount >= entries.count + 1);
    // The member restarted from its own applied state (a killed process may lose its last buffered
    // log lines, so not every start need be logged).
    const starts = readFileSync(c.kv.member(victim).logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"member started"'))
      .map((l) => (JSON.parse(l) as { applied: number }).applied);
    assert.ok(starts.length >= 2, `${starts.length} starts logged`);
    assert.ok(starts.slice(1).every((a) => a > 0));
    assert.equal(restarts.length, 3);
  });

  it('adds a member that restores a snapshot and then catches up from the log, to byte-identical state', async () => {
    c = await newStateCluster(3, { snapshotEntries: 300 });
    const trailing = ['--snapshot-trailing', '50'];
    c.startAll({ 1: trailing, 2: trailing, 3: trailing });
    const leader = await c.kv.waitLeader([1, 2, 3]);
    const put = (n: number): Txn => ({ compare: [], success: [{ kind: 'put', key: `data/${n % 500}`, value: b(`v${n}`) }], failure: [] });
    const first = new TxnLoad(c, () => [leader], 32, put);
    while (first.acked < 1500) await sleep(200);
    await first.stop();
    // The leader has compacted its log, so a new member can only start from a snapshot.
    await c.kv.addSlot(4);
    c.start(4, { join: true, peers: [1, 2, 3, 4], extraArgs: trailing });
    await c.kv.admin(leader, 'addLearner', { id: 4, address: c.kv.address(4) });
    const second = new TxnLoad(c, () => [leader], 16, (n) => put(n + 100_000));
    await sleep(3000);
    await second.stop();
    const done = await c.waitConverged([1, 2, 3, 4]);
    assert.ok(done.keyCount >= 500);
    const log4 = readFileSync(c.kv.member(4).logFile, 'utf8');
    assert.match(log4, /"installed snapshot"/);
    // It applied entries after the snapshot (caught up from the log).
    const snapIndex = Math.max(...log4.split('\n').filter((l) => l.includes('"installed snapshot"')).map((l) => (JSON.parse(l) as { index: number }).index));
    assert.ok(done.applied > snapIndex, `applied ${done.applied}, snapshot at ${snapIndex}`);
    // And it answers reads like everyone else.
    assert.deepEqual((await c.range(4, 'data/', { prefix: true, serializable: true })).kvs.map((kv) => kv.key), (await c.range(leader, 'data/', { prefix: true, serializable: true })).kvs.map((kv) => kv.key));
  });
});
