// Start-up recovery of the node agent service (src/node-agent/recovery.ts) over the Fake* drivers:
// pools mounted and networks started again, half-made instances rolled back, half-deleted ones
// finished, operations left running closed in the ledger, ephemeral leftovers removed, autostart.
import { strict as assert } from 'node:assert';
import { requestHash } from '../../../src/node-agent/ledger.js';
import { FAKE_FP, aSpec, op, openFakeAgent, sig, type FakeAgent } from '../../support/fake-agent.js';

const image = { type: 'image', fingerprint: FAKE_FP } as const;

describe('src/node-agent/recovery.ts', () => {
  let a: FakeAgent;
  beforeEach(async () => {
    a = await openFakeAgent();
  });
  afterEach(async () => {
    await a.close();
  });

  it('mounts pools, starts networks and adopts running instances', async () => {
    await a.service.instances.create(op(), aSpec('web1'), image, sig());
    await a.service.lifecycle.start(op(), { project: 'default', name: 'web1' }, sig());
    a.network.started.length = 0;
    await a.reopen();
    const r = a.service.recovery!;
    assert.deepEqual([r.poolsMounted, r.networksStarted, r.adopted, r.failures], [['default'], ['net0'], ['web1'], []]);
    assert.equal((await a.service.instances.get({ project: 'default', name: 'web1' }, sig())).status.status, 'Running');
  });

  it('rolls back a create and finishes a delete that a crash interrupted, and closes their operations', async () => {
    await a.service.instances.create(op(), aSpec('half'), image, sig());
    await a.service.instances.create(op(), aSpec('gone'), image, sig());
    const db = a.service.ctx.db;
    await db.instances.put('default/half', { ...(await db.instances.get('default/half'))!, phase: 'creating' });
    await db.instances.put('default/gone', { ...(await db.instances.get('default/gone'))!, phase: 'deleting' });
    const running = (id: string, method: string, request: Record<string, string>) =>
      db.ops.put(id, { id, method, requestHash: requestHash(method, request), request, state: 'running', attempts: 1, startedAt: 1 });
    await running('c1', 'CreateInstance', { name: 'half' });
    await running('d1', 'DeleteInstance', { project: 'default', name: 'gone' });
    await running('n1', 'CreateNetwork', { name: 'lan2' });
    a.network.networks.set('lan2', {});
    await a.reopen();
    const r = a.service.recovery!;
    assert.deepEqual([r.rolledBack, r.deleted, [...r.operationsClosed].sort()], [['half'], ['gone'], ['c1', 'd1', 'n1']]);
    assert.deepEqual(a.storage.volumeKeys().filter((k) => k.includes('/container/')), []);
    assert.deepEqual(a.network.hostKeys(), []);
    assert.equal(a.network.networks.has('lan2'), false);
    assert.equal((await a.service.ctx.ledger.get('d1'))?.state, 'succeeded');
    assert.equal((await a.service.ctx.ledger.get('c1'))?.error?.code, 'ABORTED');
  });

  it('removes stopped ephemeral instances and autostarts through the driver', async () => {
    await a.service.instances.create(op(), aSpec('eph', { ephemeral: true }), image, sig());
    await a.service.instances.create(op(), aSpec('auto', { config: { 'boot.autostart': 'true' } }), image, sig());
    await a.service.instances.create(op(), aSpec('was-up'), image, sig());
    await a.service.instances.create(op(), aSpec('no', { config: { 'boot.autostart': 'false' } }), image, sig());
    for (const n of ['eph', 'was-up', 'no']) await a.service.lifecycle.start(op(), { project: 'default', name: n }, sig());
    a.instance.crash();
    await a.reopen();
    const r = a.service.recovery!;
    assert.deepEqual([r.deleted, r.autostarted], [['eph'], ['auto', 'was-up']]);
    assert.deepEqual((await a.service.instances.list('', sig())).map((i) => `${i.spec.name}:${i.status.status}`).sort(), [
      'auto:Running',
      'no:Stopped',
      'was-up:Running',
    ]);
  });
});
