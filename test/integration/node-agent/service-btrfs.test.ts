// btrfs storage through the node agent's gRPC API: a loop-backed pool is created, an instance's
// root disk `size` is enforced as a quota, the pool grows online when its `size` is raised, and
// deleting the pool releases its mount and loop device.
import { strict as assert } from 'node:assert';
import { run } from '../../../src/node-agent/exec.js';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';
import { AgentFixture, op } from '../../support/agent-fixture.js';

const MiB = 1024 * 1024;

describe('src/node-agent/service.ts (integration: btrfs pool over gRPC)', function () {
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

  it('creates a loop-backed pool, enforces a root quota, grows online and releases everything on delete', async () => {
    const created = await fx.client.unary('createStoragePool', { operationId: op(), pool: { name: 'bt', driver: 'btrfs', config: { size: '512MiB' } } });
    const source = created.pool?.spec?.config['source'] ?? '';
    assert.ok(source.startsWith(fx.dir), `loop file under the state dir: ${source}`);
    const total0 = (await fx.client.unary('getStoragePoolResources', { name: 'bt' })).resources!.totalBytes;
    assert.ok(Math.abs(total0 - 512 * MiB) < 16 * MiB, `size ${total0}`);

    const name = fx.name('quota');
    await fx.create(name, { pool: 'bt', devices: { root: { type: 'disk', path: '/', pool: 'bt', size: '48MiB' } } });
    await fx.client.unary('startInstance', { operationId: op(), project: 'default', name });
    const root = (await fx.client.unary('getInstanceState', { project: 'default', name })).state!.disk['root']!;
    assert.equal(root.totalBytes, 48 * MiB);
    assert.ok(root.usageBytes > 0);
    const fill = await fx.exec(name, ['sh', '-c', 'dd if=/dev/zero of=/root/fill bs=1M count=96 conv=fsync 2>&1; echo "dd=$?"']);
    assert.match(fill.stdout, /dd=[1-9]/, `a 96 MiB write into a 48 MiB quota fails: ${fill.stdout}`);
    assert.match(fill.stdout, /quota|space/i);
    await fx.exec(name, ['rm', '/root/fill']);

    await fx.client.unary('updateStoragePool', { operationId: op(), name: 'bt', config: { ...created.pool!.spec!.config, size: '1GiB' } });
    const total1 = (await fx.client.unary('getStoragePoolResources', { name: 'bt' })).resources!.totalBytes;
    assert.ok(Math.abs(total1 - 1024 * MiB) < 16 * MiB, `grown size ${total1}`);
    assert.equal((await fx.exec(name, ['true'])).exitCode, 0, 'the instance keeps running while the pool grows');

    await assert.rejects(
      fx.client.unary('deleteStoragePool', { operationId: op(), name: 'bt' }),
      (err: unknown) => isShoalError(err, ErrorCode.FailedPrecondition) && err.message.includes(`instances "${name}"`),
    );
    await fx.client.unary('stopInstance', { operationId: op(), project: 'default', name, force: true });
    await fx.client.unary('deleteInstance', { operationId: op(), project: 'default', name });
    await fx.client.unary('deleteStoragePool', { operationId: op(), name: 'bt' });
    const loops = await run('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE']);
    assert.ok(!loops.stdout.includes(source), 'loop device released');
  });
});
