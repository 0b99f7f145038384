/*
 * Real processes: a rolling upgrade of the cluster database. m3 runs as an older release
 * (--schema-max 1); the cluster stays at schema 1 and every member keeps serving reads and writes
 * (LXD would block the newer members). Once m3 is restarted as the new release, the leader
 * upgrades the cluster through Raft, rewriting the certificate records into format 2, and every
 * member ends with the same state.
 */
import { strict as assert } from 'node:assert';
import { sleep, storedJson, type StateCluster } from '../../support/state-cluster.js';
import { newStateCluster } from './support.js';

const FP = 'c'.repeat(64);
const CERT_V1 = { fingerprint: FP, type: 'client', name: 'alice', certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' };

describe('src/state schema upgrade (real processes)', function () {
  this.timeout(120_000);
  let c: StateCluster | undefined;
  afterEach(async () => {
    await c?.destroy();
    c = undefined;
  });

  async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(200);
    }
  }

  it('keeps a mixed-version cluster at schema 1 and serving, then upgrades once every member supports schema 2', async () => {
    c = await newStateCluster(3);
    const cluster = c;
    cluster.startAll({ 3: ['--schema-max', '1'] });
    let leader = await cluster.kv.waitLeader([1, 2, 3]);
    const schemaMax = async (id: number): Promise<Record<string, number> | undefined> => {
      const kvs = (await cluster.range(id, 'members/', { prefix: true })).kvs;
      if (kvs.length < 3) return undefined;
      return Object.fromEntries(kvs.map((kv) => (storedJson(kv) as { record: { server_name: string; schema_max: number } }).record).map((r) => [r.server_name, r.schema_max]));
    };
    assert.deepEqual(await until('3 member records', () => schemaMax(leader)), { m1: 2, m2: 2, m3: 1 });

    // A certificate written the way a schema-1 cluster writes it.
    await cluster.txn(leader, { compare: [], success: [{ kind: 'put', key: `certificates/${FP}`, value: Buffer.from(JSON.stringify({ version: 1, record: CERT_V1 })) }], failure: [] });
    // The upgrader checks on every member change and every 5 s: give it two rounds.
    await sleep(6000);
    assert.equal(await cluster.getLocal(leader, 'meta/schema'), undefined);
    // Everyone serves: a write through the leader, linearizable reads on every member, the old one included.
    await cluster.txn(leader, { compare: [], success: [{ kind: 'put', key: 'during/upgrade', value: Buffer.from('1') }], failure: [] });
    for (const id of [1, 2, 3]) assert.equal((await cluster.range(id, 'during/upgrade')).count, 1, `member ${id}`);

    // m3 is upgraded (restarted as the new release).
    await cluster.kv.stop(3);
    cluster.start(3);
    leader = await cluster.kv.waitLeader([1, 2, 3]);
    const schema = await until('schema 2', async () => {
      const s = storedJson(await cluster.getLocal(leader, 'meta/schema')) as { version: number } | undefined;
      return s?.version === 2 ? s : undefined;
    });
    assert.equal(schema.version, 2);
    await cluster.waitConverged([1, 2, 3]);
    for (const id of [1, 2, 3]) {
      assert.deepEqual(storedJson(await cluster.getLocal(id, `certificates/${FP}`)), { version: 2, record: { ...CERT_V1, restricted: false, projects: [] } }, `member ${id}`);
      assert.deepEqual(await schemaMax(id), { m1: 2, m2: 2, m3: 2 });
    }
  });
});
