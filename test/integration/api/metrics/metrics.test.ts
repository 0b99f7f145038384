// GET /1.0/metrics over a real one-node database with fake node agents: Prometheus text of the
// serving member's running instances (stopped ones skipped, ?project= narrows), server figures,
// `metrics` certificates allowed, untrusted callers refused, ?target= of an unknown member 404.
import { strict as assert } from 'node:assert';
import { netstoreApp, type NetstoreApp } from '../../../support/api/netstore-app.js';
import { raiseWarning } from '../../../../src/api/warnings/index.js';
import { systemClock } from '../../../../src/shared/index.js';
import type { Identity } from '../../../../src/api/auth.js';

const metricsCert: Identity = {
  trusted: false,
  protocol: 'tls',
  username: 'f'.repeat(64),
  address: '127.0.0.1:5000',
  fingerprint: 'f'.repeat(64),
  certificate: undefined,
  certificateType: 'metrics',
  restricted: false,
  projects: [],
  forwardedBy: undefined,
};

describe('src/api/routes/metrics', () => {
  let t: NetstoreApp;
  before(async () => {
    t = await netstoreApp(['m1', 'm2']);
    const a = t.agents.agent('m1');
    a.instances.push({ project: 'default', name: 'web1', status: 'Running', cpuNs: 2_500_000_000, memBytes: 100, memLimit: 0, processes: 5, rxBytes: 111, txBytes: 222 });
    a.instances.push({ project: 'other', name: 'db1', status: 'Running', cpuNs: 1e9, memBytes: 50, memLimit: 1000, processes: 2, rxBytes: 1, txBytes: 2 });
    a.instances.push({ project: 'default', name: 'off1', status: 'Stopped', cpuNs: 0, memBytes: 0, memLimit: 0, processes: 0, rxBytes: 0, txBytes: 0 });
    t.agents.agent('m2').instances.push({ project: 'default', name: 'elsewhere', status: 'Running', cpuNs: 1, memBytes: 1, memLimit: 0, processes: 1, rxBytes: 0, txBytes: 0 });
    await raiseWarning(t.db.store, systemClock, { type: 'Test', location: 'm1', message: 'x' });
  });
  after(async () => {
    await t.close();
  });

  it('serves Prometheus text for the running instances of this member', async () => {
    const res = await t.inject({ method: 'GET', url: '/1.0/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const lines = res.body.split('\n');
    assert.ok(lines.includes('lxd_cpu_seconds_total{name="web1",project="default",type="container",cpu="total",mode="total"} 2.5'));
    assert.ok(lines.includes(`lxd_memory_MemTotal_bytes{name="web1",project="default",type="container"} ${4 * 2 ** 30}`));
    assert.ok(lines.includes('lxd_memory_MemTotal_bytes{name="db1",project="other",type="container"} 1000'));
    assert.ok(lines.includes('lxd_network_transmit_bytes_total{name="web1",project="default",type="container",device="eth0"} 222'));
    assert.ok(lines.includes('lxd_procs_total{name="web1",project="default",type="container"} 5'));
    assert.ok(lines.includes('lxd_warnings_total 1'));
    assert.equal(res.body.includes('off1'), false);
    assert.equal(res.body.includes('elsewhere'), false);
  });

  it('narrows to ?project=', async () => {
    const res = await t.inject({ method: 'GET', url: '/1.0/metrics?project=other' });
    assert.ok(res.body.includes('name="db1"'));
    assert.equal(res.body.includes('name="web1"'), false);
  });

  it('lets metrics certificates in and keeps untrusted callers out', async () => {
    assert.equal((await t.inject({ method: 'GET', url: '/1.0/metrics', as: metricsCert })).statusCode, 200);
    const res = await t.inject({ method: 'GET', url: '/1.0/metrics', as: 'untrusted' });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().type, 'error');
    assert.equal((await t.inject({ method: 'GET', url: '/1.0/resources', as: metricsCert })).statusCode, 403);
  });

  it('answers 404 for ?target= naming no member', async () => {
    assert.equal((await t.inject({ method: 'GET', url: '/1.0/metrics?target=nope' })).statusCode, 404);
  });
});
