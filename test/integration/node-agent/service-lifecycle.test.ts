// The node agent service end to end for the instance lifecycle: real LXC, real drivers, real gRPC
// over mutual TLS on loopback (test/support/agent-fixture.ts). One agent and one image import for
// the file; every test's instances and networks are deleted in afterEach, and the host is checked
// for leftovers.
import { strict as assert } from 'node:assert';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentClient } from '../../../src/node-agent/client.js';
import { probeHostFeatures } from '../../../src/node-agent/drivers/lxc/host-features.js';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';
import { AgentFixture, op, removeTestPki } from '../../support/agent-fixture.js';
import { createTestPki } from '../../support/pki.js';
import { HOST_TAG } from '../../support/host-plan.js';

/** The memory limit of the cgroup of `pid` (cgroup v1 memory controller or cgroup v2). */
async function memoryLimitOfPid(pid: number): Promise<number> {
  const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).trim().split('\n');
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes('memory'));
  if (v1) return Number(await readFile(`/sys/fs/cgroup/memory${v1.split(':')[2]}/memory.limit_in_bytes`, 'utf8'));
  const v2 = lines.find((l) => l.startsWith('0::'));
  return Number(await readFile(`/sys/fs/cgroup${v2?.slice(3) ?? ''}/memory.max`, 'utf8'));
}

const code = (c: ErrorCode, includes?: string) => (err: unknown) =>
  isShoalError(err, c) && (includes === undefined || err.message.includes(includes));

// Root hook: the process-wide test CA of test/support/agent-fixture.ts, shared by every file that
// uses the fixture, is removed once after the whole run (it was left in /tmp).
after(() => removeTestPki());

describe('src/node-agent/service.ts (integration: lifecycle over gRPC)', function () {
  this.timeout(120_000);
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

  it('creates, starts, freezes, restarts, stops and deletes an instance', async () => {
    const name = fx.name('life');
    const created = await fx.create(name, { config: { 'limits.processes': '200' } });
    assert.equal(created.instance?.status?.status, 'Stopped');
    assert.equal(created.instance?.status?.volatile['volatile.idmap.base'], '100000');
    const ref = { operationId: '', project: 'default', name };

    const started = await fx.client.unary('startInstance', { ...ref, operationId: op() });
    assert.equal(started.instance?.status?.status, 'Running');
    const st = (await fx.client.unary('getInstanceState', { project: 'default', name })).state!;
    assert.equal(st.status, 'Running');
    assert.equal(st.statusCode, 103);
    assert.ok(st.pid > 0 && st.processes >= 1, `pid ${st.pid} processes ${st.processes}`);
    assert.ok((st.disk['root']?.usageBytes ?? 0) > 100_000, 'root disk usage is reported');

    assert.equal((await fx.client.unary('freezeInstance', { ...ref, operationId: op() })).instance?.status?.status, 'Frozen');
    assert.equal((await fx.client.unary('unfreezeInstance', { ...ref, operationId: op() })).instance?.status?.status, 'Running');
    const restarted = await fx.client.unary('restartInstance', { ...ref, operationId: op(), timeoutMs: 10_000 });
    assert.equal(restarted.instance?.status?.status, 'Running');
    const pid2 = (await fx.client.unary('getInstanceState', { project: 'default', name })).state!.pid;
    assert.notEqual(pid2, st.pid);

    await assert.rejects(fx.client.unary('deleteInstance', { ...ref, operationId: op() }), code(ErrorCode.FailedPrecondition, `Instance "${name}" is running`));
    const stopped = await fx.client.unary('stopInstance', { ...ref, operationId: op(), timeoutMs: 10_000 });
    assert.deepEqual([stopped.deleted, stopped.instance?.status?.status], [false, 'Stopped']);
    assert.match((await fx.client.unary('getConsoleLog', { project: 'default', name })).log, /./s);
    await fx.client.unary('deleteInstance', { ...ref, operationId: op() });
    await assert.rejects(fx.client.unary('getInstance', { project: 'default', name }), code(ErrorCode.NotFound, `Instance "${name}" not found`));
    assert.deepEqual(await readdir(join(fx.dir, 'storage-pools', 'default', 'containers')), []);
  });

  it('gives the same call twice the effect of one (create, start, delete)', async () => {
    const name = fx.name('idem');
    const createOp = op();
    const a = await fx.create(name, { operationId: createOp });
    const b = await fx.create(name, { operationId: createOp });
    assert.deepEqual(b, a);
    assert.deepEqual((await readdir(fx.paths.containers)).filter((n) => n === name), [name]);
    const startOp = op();
    await fx.client.unary('startInstance', { operationId: startOp, project: 'default', name });
    const pid = (await fx.client.unary('getInstanceState', { project: 'default', name })).state!.pid;
    await fx.client.unary('startInstance', { operationId: startOp, project: 'default', name });
    assert.equal((await fx.client.unary('getInstanceState', { project: 'default', name })).state!.pid, pid);
    await fx.client.unary('stopInstance', { operationId: op(), project: 'default', name, force: true });
    const deleteOp = op();
    await fx.client.unary('deleteInstance', { operationId: deleteOp, project: 'default', name });
    await fx.client.unary('deleteInstance', { operationId: deleteOp, project: 'default', name });
    await assert.rejects(fx.client.unary('deleteInstance', { operationId: op(), project: 'default', name }), code(ErrorCode.NotFound));
    await assert.rejects(fx.create(fx.name('other'), { operationId: createOp }), code(ErrorCode.InvalidArgument, createOp));
  });

  it('shows the memory limit in the instance cgroup', async () => {
    const name = fx.name('mem');
    await fx.create(name, { config: { 'limits.memory': '64MiB' } });
    await fx.client.unary('startInstance', { operationId: op(), project: 'default', name });
    const st = (await fx.client.unary('getInstanceState', { project: 'default', name })).state!;
    assert.equal(st.memory?.limitBytes, 64 * 1024 * 1024);
    // The instance's own cgroup, from the host and from inside (LXC mounts the instance's cgroup
    // view at /sys/fs/cgroup: v1 controllers on a hybrid host, cgroup2 on a unified one).
    assert.equal(await memoryLimitOfPid(st.pid), 64 * 1024 * 1024);
    const file = (await probeHostFeatures()).cgroup.memory === 'v1' ? '/sys/fs/cgroup/memory/memory.limit_in_bytes' : '/sys/fs/cgroup/memory.max';
    assert.deepEqual(await fx.exec(name, ['cat', file]), { stdout: `${64 * 1024 * 1024}\n`, stderr: '', exitCode: 0 });
  });

  it('deletes an ephemeral instance when it stops', async () => {
    const name = fx.name('eph');
    await fx.create(name, { ephemeral: true });
    await fx.client.unary('startInstance', { operationId: op(), project: 'default', name });
    const r = await fx.client.unary('stopInstance', { operationId: op(), project: 'default', name, force: true });
    assert.equal(r.deleted, true);
    await assert.rejects(fx.client.unary('getInstance', { project: 'default', name }), code(ErrorCode.NotFound));
    assert.ok(!(await readdir(fx.paths.containers)).includes(name));
  });

  it('refuses a client whose certificate is not from the cluster CA', async () => {
    const other = await createTestPki(`shoal-${HOST_TAG}-other-ca`);
    try {
      const stranger = await other.issue('leader');
      // It trusts the agent's CA, but its own certificate comes from another CA.
      const client = new AgentClient(`127.0.0.1:${fx.server.port}`, { ...stranger, caPem: fx.caPem }, 'agent');
      await assert.rejects(client.unary('getMemberInfo', {}, { timeoutMs: 5000 }), code(ErrorCode.Unavailable));
      await client.close();
    } finally {
      await other.remove();
    }
    const info = await fx.client.unary('getMemberInfo', {});
    assert.deepEqual([info.instanceTypes, info.networkTypes, info.storageDrivers], [['container'], ['bridge'], ['btrfs', 'dir']]);
    const res = await fx.client.unary('getResources', {});
    assert.ok(res.cpuCount >= 1 && res.memoryTotalBytes > 0 && res.pools.some((p) => p.name === 'default' && p.totalBytes > 0));
  });
});
