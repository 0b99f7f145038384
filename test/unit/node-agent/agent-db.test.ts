// The agent DB (src/node-agent/agent-db.ts) over a real classic-level DB in a temp dir: atomic
// batches across tables, whole-table reads, and the resources version that the service's device
// lookup cache relies on (it moves on every write to pools, networks or volumes, and only then).
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allValues, delOp, openAgentDb, putOp, type AgentDb } from '../../../src/node-agent/agent-db.js';
import type { PoolRecord } from '../../../src/node-agent/local-records.js';

const pool = (name: string): PoolRecord => ({ spec: { name, driver: 'dir', config: {} } }) as unknown as PoolRecord;

describe('src/node-agent/agent-db.ts', () => {
  let dir: string;
  let db: AgentDb;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-ap-db-'));
    db = await openAgentDb(join(dir, 'db'));
  });
  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('batch', () => {
    it('writes several tables at once and reads them back whole', async () => {
      await db.batch([putOp(db.pools, 'p1', pool('p1')), putOp(db.opsByTime, 'k', 'v')], { sync: true });
      assert.deepEqual((await allValues(db.pools)).map((p) => p.spec.name), ['p1']);
      assert.equal(await db.opsByTime.get('k'), 'v');
      await db.batch([delOp(db.pools, 'p1'), delOp(db.opsByTime, 'k')]);
      assert.deepEqual(await allValues(db.pools), []);
      assert.equal(await db.opsByTime.get('k'), undefined);
    });
  });

  describe('resourcesVersion', () => {
    it('moves on writes to pools, networks and volumes, by any method, and not on others', async () => {
      let v = db.resourcesVersion();
      const moved = (): boolean => {
        const now = db.resourcesVersion();
        const changed = now !== v;
        v = now;
        return changed;
      };
      await db.pools.put('p1', pool('p1'));
      assert.ok(moved(), 'put');
      await db.pools.del('p1');
      assert.ok(moved(), 'del');
      await db.networks.batch([{ type: 'del', key: 'n1' }]);
      assert.ok(moved(), 'table batch');
      await db.batch([putOp(db.volumes, 'p1/v1', { pool: 'p1', name: 'v1' } as never)]);
      assert.ok(moved(), 'db batch');
      await db.instances.put('default/c1', {} as never);
      await db.ops.put('op1', {} as never);
      await db.batch([putOp(db.opsByTime, 'k', 'v')]);
      assert.ok(!moved(), 'other tables');
    });

    it('differs while a write is in flight from both before and after it', async () => {
      const before = db.resourcesVersion();
      const write = db.pools.put('p1', pool('p1'));
      const during = db.resourcesVersion();
      await write;
      const after = db.resourcesVersion();
      assert.notEqual(during, before);
      assert.notEqual(after, during);
    });
  });
});
