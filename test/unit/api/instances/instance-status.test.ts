// src/cluster/instance-status.ts over a real one-member database and a real agent service (fake
// drivers): a stop behind the API's back is written, nothing is written when nothing changed,
// records in Creating and instances the agent does not list are left alone, and a database write
// racing with the agent read makes the round write nothing (the next round decides again).
import { strict as assert } from 'node:assert';
import { InstanceStatusReconciler } from '../../../../src/cluster/instance-status.js';
import { silentLogger, systemClock } from '../../../../src/shared/index.js';
import { instances, type InstanceRecord } from '../../../../src/state/index.js';
import { openOneMemberDb, type OneMemberDb } from '../../../support/api/state-harness.js';
import { aSpec, op, openFakeAgent, sig, type FakeAgent } from '../../../support/fake-agent.js';

describe('src/cluster/instance-status', function () {
  // A real database and gRPC agent on a shared 2-core machine: allow for load.
  this.timeout(20_000);
  describe('InstanceStatusReconciler', () => {
    let db: OneMemberDb;
    let agent: FakeAgent;
    let r: InstanceStatusReconciler;
    const record = (name: string, status: InstanceRecord['status']): InstanceRecord => ({
      name,
      project: 'default',
      type: 'container',
      architecture: 'x86_64',
      description: '',
      config: {},
      devices: {},
      profiles: [],
      ephemeral: false,
      stateful: false,
      location: 'm1',
      status,
      created_at: new Date().toISOString(),
      last_used_at: null,
    });
    const statusOf = async (name: string): Promise<string | undefined> => (await db.store.view()).get(instances, 'default', name)?.record.status;

    before(async function () {
      this.timeout(20_000);
      db = await openOneMemberDb('m1');
      agent = await openFakeAgent();
      for (const n of ['c1', 'c2']) await agent.service.instances.create(op(), aSpec(n), { type: 'none' }, sig());
      await db.store.update((tx) => {
        tx.create(instances, record('c1', 'Stopped'));
        tx.create(instances, record('c2', 'Stopped'));
        tx.create(instances, record('c3', 'Creating'));
        tx.create(instances, record('gone', 'Running'));
      });
      r = new InstanceStatusReconciler({ member: 'm1', raft: db.raft, store: db.store, agent: agent.service, tls: { caPem: Buffer.alloc(0), certPem: Buffer.alloc(0), keyPem: Buffer.alloc(0) }, clock: systemClock, log: silentLogger() });
    });
    after(async () => {
      r.dispose();
      await agent.close();
      await db.close();
    });

    it('writes nothing when the database agrees with the agent', async () => {
      const before = (await db.store.view()).revision;
      assert.deepEqual(await r.reconcile(), []);
      assert.equal((await db.store.view()).revision, before);
    });

    it('records a start and a poweroff that happened behind the API, in one transaction, only for what changed', async () => {
      await agent.service.lifecycle.start(op(), { project: 'default', name: 'c1' }, sig());
      assert.deepEqual(await r.reconcile(), [{ project: 'default', name: 'c1', from: 'Stopped', to: 'Running' }]);
      assert.equal(await statusOf('c1'), 'Running');
      const host = [...agent.instance.instances.keys()].find((k) => k.includes('c1'))!;
      agent.instance.stopBehindTheBack(host);
      assert.deepEqual(await r.reconcile(), [{ project: 'default', name: 'c1', from: 'Running', to: 'Stopped' }]);
      assert.equal(await statusOf('c1'), 'Stopped');
      assert.equal(await statusOf('c3'), 'Creating');
      assert.equal(await statusOf('gone'), 'Running');
    });

    it('writes nothing when the record changed after it was read (a racing API write wins)', async () => {
      await agent.service.lifecycle.start(op(), { project: 'default', name: 'c2' }, sig());
      const racing = {
        instances: {
          list: async (project: string, signal: AbortSignal) => {
            // The API writes while the agent is being read.
            await db.store.update((tx) => tx.put(instances, { ...tx.require(instances, 'default', 'c2').record, description: 'edited' }));
            return agent.service.instances.list(project, signal);
          },
        },
      };
      const racer = new InstanceStatusReconciler({ member: 'm1', raft: db.raft, store: db.store, agent: racing, tls: { caPem: Buffer.alloc(0), certPem: Buffer.alloc(0), keyPem: Buffer.alloc(0) }, clock: systemClock, log: silentLogger() });
      try {
        assert.deepEqual(await racer.reconcile(), []);
        assert.equal(await statusOf('c2'), 'Stopped');
        assert.deepEqual(await r.reconcile(), [{ project: 'default', name: 'c2', from: 'Stopped', to: 'Running' }]);
      } finally {
        racer.dispose();
      }
    });
  });
});
