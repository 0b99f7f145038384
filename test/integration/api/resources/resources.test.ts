// GET /1.0/resources over a real one-node database with fake node agents: LXD's shape filled from
// the serving member's agent (CPU count as cores, memory, architecture), ?target= of this member
// served here, of an unknown member 404.
import { strict as assert } from 'node:assert';
import { netstoreApp, type NetstoreApp } from '../../../support/api/netstore-app.js';

describe('src/api/routes/resources', () => {
  let t: NetstoreApp;
  before(async () => {
    t = await netstoreApp(['m1']);
    t.agents.agent('m1').cpuCount = 3;
  });
  after(async () => {
    await t.close();
  });

  it('reports the serving member in LXD shape', async () => {
    for (const url of ['/1.0/resources', '/1.0/resources?target=m1']) {
      const res = await t.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, res.body);
      const r = res.json().metadata;
      assert.equal(r.cpu.architecture, 'x86_64');
      assert.equal(r.cpu.total, 3);
      assert.deepEqual(r.cpu.sockets[0].cores.map((c: { core: number }) => c.core), [0, 1, 2]);
      assert.deepEqual(r.memory, { hugepages_total: 0, hugepages_used: 0, hugepages_size: 0, used: 2 ** 30, total: 4 * 2 ** 30 });
      assert.deepEqual([r.gpu, r.usb, r.pci, r.storage, r.network], [{ cards: [], total: 0 }, { devices: [], total: 0 }, { devices: [], total: 0 }, { disks: [], total: 0 }, { cards: [], total: 0 }]);
    }
  });

  it('answers 404 for ?target= naming no member', async () => {
    const res = await t.inject({ method: 'GET', url: '/1.0/resources?target=nope' });
    assert.equal(res.statusCode, 404);
    assert.match(res.json().error, /Cluster member "nope" not found/);
  });
});
