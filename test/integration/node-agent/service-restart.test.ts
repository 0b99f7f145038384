// Agent restart with real LXC instances: the service and gRPC server are closed and a new agent
// (new drivers, new service, new server) opens the same state dir. Running instances are adopted
// with their state (same init pid), instances stopped behind the agent's back come back when
// `boot.autostart` says so, stopped ephemeral ones are removed, and the network keeps serving.
import { strict as assert } from 'node:assert';
import { run } from '../../../src/node-agent/exec.js';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';
import { AgentFixture, op } from '../../support/agent-fixture.js';

describe('src/node-agent/service.ts (integration: agent restart)', function () {
  this.timeout(180_000);
  let fx: AgentFixture;
  before(async () => {
    fx = await AgentFixture.start();
  });
  after(async () => {
    await fx?.close();
  });
  afterEach(async () => {
    await fx.cleanObjects();
    assert.deepEqual(await fx.leftovers(), []);
  });

  it('recovers running instances and autostarts the flagged ones', async () => {
    const net = await fx.network();
    const nic = { eth0: { type: 'nic', network: net } };
    const up = fx.name('up');
    const auto = fx.name('auto');
    const manual = fx.name('manual');
    const eph = fx.name('eph');
    await fx.create(up, { devices: nic });
    await fx.create(auto, { config: { 'boot.autostart': 'true' }, devices: nic });
    await fx.create(manual, { config: { 'boot.autostart': 'false' } });
    await fx.create(eph, { ephemeral: true });
    for (const name of [up, auto, manual, eph]) await fx.client.unary('startInstance', { operationId: op(), project: 'default', name });
    const pidBefore = (await fx.client.unary('getInstanceState', { project: 'default', name: up })).state!.pid;
    // Autostart goes through the service's start path, so the image's `start` templates apply.
    assert.equal((await fx.exec(auto, ['sh', '-c', 'echo stale > /etc/hostname'])).exitCode, 0);

    await fx.restart(async () => {
      // While the agent is down, three instances die (as in a host crash of those containers).
      for (const name of [auto, manual, eph]) await run('lxc-stop', ['-P', fx.paths.containers, '-n', name, '-k']);
    });

    const report = fx.service.recovery!;
    // The stopped ephemeral instance is removed by recovery or, just before it, by the stop event
    // the driver reports for it; either way it is gone (checked below).
    assert.deepEqual(
      { adopted: report.adopted, autostarted: report.autostarted, failures: report.failures },
      { adopted: [up], autostarted: [auto], failures: [] },
    );
    assert.ok(report.deleted.every((n) => n === eph));
    const status = async (name: string) => (await fx.client.unary('getInstanceState', { project: 'default', name })).state!;
    const upState = await status(up);
    assert.deepEqual([upState.status, upState.pid], ['Running', pidBefore]);
    assert.equal((await status(auto)).status, 'Running');
    assert.equal((await fx.exec(auto, ['cat', '/etc/hostname'])).stdout, `${auto}\n`);
    assert.equal((await status(manual)).status, 'Stopped');
    await assert.rejects(fx.client.unary('getInstance', { project: 'default', name: eph }), (err: unknown) => isShoalError(err, ErrorCode.NotFound));
    assert.deepEqual(
      (await fx.client.unary('listInstances', { project: 'default' })).instances.map((i) => i.spec?.name).sort(),
      [auto, manual, up].sort(),
    );

    // The recovered agent drives them as before: exec, then a clean stop and delete.
    assert.equal((await fx.exec(up, ['true'])).exitCode, 0);
    await fx.client.unary('stopInstance', { operationId: op(), project: 'default', name: up, force: true });
    await fx.client.unary('deleteInstance', { operationId: op(), project: 'default', name: up });
  });

  it('replays a finished operation after a restart (the ledger survives)', async () => {
    const name = fx.name('ledger');
    const createOp = op();
    const first = await fx.create(name, { operationId: createOp });
    await fx.restart();
    assert.deepEqual(await fx.create(name, { operationId: createOp }), first);
  });
});
