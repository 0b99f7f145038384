// Failures injected into real host work through the node agent's gRPC API: a create that fails
// halfway (the pool fills up while the root volume is copied) leaves no volume, no LXC dir, no
// DHCP host entry and no ledger success; a start that fails on a device leaves the instance
// stopped with no veth behind, and deleting it then leaves nothing.
import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../src/node-agent/exec.js';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';
import { AgentFixture, RUN_TAG, op } from '../../support/agent-fixture.js';

const code = (c: ErrorCode, includes?: string) => (err: unknown) =>
  isShoalError(err, c) && (includes === undefined || err.message.includes(includes));

async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((e) => !e.startsWith('.shoal')).sort();
}

describe('src/node-agent/service.ts (integration: failures leave nothing behind)', function () {
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

  it('reverts a create that fails halfway because the pool is full', async () => {
    // A 3 MiB tmpfs holds the unpacked busybox image (≈2 MiB) but not a copy of it.
    const mnt = await mkdtemp(join(tmpdir(), `shoal-${RUN_TAG}-full-`));
    await run('mount', ['-t', 'tmpfs', '-o', 'size=3m,mode=0711', `${RUN_TAG}full`, mnt]);
    fx.onCleanup(`tmpfs ${mnt}`, async () => {
      await run('umount', [mnt]);
      await rm(mnt, { recursive: true, force: true });
    });
    await fx.client.unary('createStoragePool', { operationId: op(), pool: { name: 'full', driver: 'dir', config: { source: mnt } } });
    const net = await fx.network();
    const gw = (await fx.client.unary('listNetworks', {})).networks.find((n) => n.spec?.name === net)!.spec!.config['ipv4.address']!;
    const ip = `${gw.split('.').slice(0, 3).join('.')}.50`;
    const name = fx.name('full');
    const createOp = op();

    await assert.rejects(
      fx.create(name, { pool: 'full', operationId: createOp, devices: { eth0: { type: 'nic', network: net, 'ipv4.address': ip } } }),
      (err: unknown) => isShoalError(err) && err.code !== ErrorCode.InvalidArgument,
    );
    // The failure came from the copy: the image volume made it onto the pool first.
    assert.equal((await entries(join(mnt, 'images'))).length, 1);
    assert.deepEqual(await entries(join(mnt, 'containers')), []);
    assert.deepEqual((await readdir(fx.paths.containers)).filter((n) => !n.startsWith('.')), []);
    assert.deepEqual(await entries(join(fx.paths.networks, net, 'dnsmasq.hosts')), []);
    assert.deepEqual((await fx.client.unary('listNetworkLeases', { name: net })).leases, []);
    await assert.rejects(fx.client.unary('getInstance', { project: 'default', name }), code(ErrorCode.NotFound));
    assert.equal((await fx.service.ctx.ledger.get(createOp))?.state, 'failed');

    // Nothing blocks the name or the address afterwards.
    await fx.create(name, { devices: { eth0: { type: 'nic', network: net, 'ipv4.address': ip } } });
  });

  it('leaves a stopped instance and no veth when a start fails on a device, and deleting it leaves nothing', async () => {
    const src = await mkdtemp(join(tmpdir(), `shoal-${RUN_TAG}-src-`));
    await mkdir(join(src, 'data'));
    fx.onCleanup(`dir ${src}`, () => rm(src, { recursive: true, force: true }));
    const net = await fx.network();
    const name = fx.name('baddev');
    await fx.create(name, {
      devices: { eth0: { type: 'nic', network: net }, data: { type: 'disk', source: join(src, 'data'), path: '/mnt/data' } },
    });
    await rmdir(join(src, 'data')); // the bind mount source disappears before the start

    await assert.rejects(fx.client.unary('startInstance', { operationId: op(), project: 'default', name }), (err: unknown) => isShoalError(err));
    assert.equal((await fx.client.unary('getInstance', { project: 'default', name })).instance?.status?.status, 'Stopped');
    const links = JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as Array<{ ifname: string }>;
    assert.deepEqual(links.filter((l) => l.ifname.startsWith(RUN_TAG) && l.ifname !== net).map((l) => l.ifname), []);

    await fx.client.unary('deleteInstance', { operationId: op(), project: 'default', name });
    assert.deepEqual((await readdir(fx.paths.containers)).filter((n) => !n.startsWith('.')), []);
    assert.deepEqual(await entries(join(fx.dir, 'storage-pools', 'default', 'containers')), []);
    assert.deepEqual(await entries(join(fx.paths.networks, net, 'dnsmasq.hosts')), []);
  });
});
