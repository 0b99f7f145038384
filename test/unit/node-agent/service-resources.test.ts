// The node agent service for networks, pools, custom volumes and images, over the Fake* drivers:
// idempotent creates, in-use refusals naming the users, chunked image import with offsets and
// fingerprint checks, export from an offset.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import type { ImageChunkIn } from '../../../src/node-agent/service-images.js';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';
import { FAKE_FP, aSpec, op, openFakeAgent, sig, type FakeAgent } from '../../support/fake-agent.js';

const image = { type: 'image', fingerprint: FAKE_FP } as const;
const code = (c: ErrorCode, includes?: string) => (err: unknown) =>
  isShoalError(err, c) && (includes === undefined || err.message.includes(includes));

async function* chunks(list: ImageChunkIn[]): AsyncGenerator<ImageChunkIn> {
  for (const c of list) yield c;
}

describe('src/node-agent/service-networks.ts, service-storage.ts, service-images.ts', () => {
  let a: FakeAgent;
  beforeEach(async () => {
    a = await openFakeAgent();
  });
  afterEach(async () => {
    await a.close();
  });

  describe('networks', () => {
    it('creates once, returns the effective config, and refuses another config', async () => {
      const id = op();
      const n = await a.service.networks.create(id, { name: 'lan', type: 'bridge', config: { 'ipv4.nat': 'false' }, description: 'd' }, sig());
      assert.deepEqual(n.spec.config, { 'ipv4.address': '10.173.99.1/24', 'ipv4.nat': 'false' });
      assert.deepEqual(await a.service.networks.create(id, { name: 'lan', type: 'bridge', config: { 'ipv4.nat': 'false' }, description: 'd' }, sig()), n);
      assert.equal(a.network.failures.count('create', 'lan'), 1);
      await assert.rejects(
        a.service.networks.create(op(), { name: 'lan', type: 'bridge', config: { 'ipv4.nat': 'true' }, description: '' }, sig()),
        code(ErrorCode.AlreadyExists, 'Network "lan" already exists'),
      );
    });

    it('refuses to delete a network in use, naming the instances', async () => {
      await a.service.instances.create(op(), aSpec('web1'), image, sig());
      await a.service.instances.create(op(), aSpec('web2'), image, sig());
      await assert.rejects(a.service.networks.delete(op(), 'net0', sig()), code(ErrorCode.FailedPrecondition, 'Network "net0" is in use by instances "web1", "web2"'));
      assert.deepEqual((await a.service.networks.list()).find((n) => n.spec.name === 'net0')?.usedBy, ['instance:web1', 'instance:web2']);
      await a.service.instances.delete(op(), { project: 'default', name: 'web1' }, sig());
      await a.service.instances.delete(op(), { project: 'default', name: 'web2' }, sig());
      await a.service.networks.delete(op(), 'net0', sig());
      assert.equal(a.network.networks.has('net0'), false);
      await assert.rejects(a.service.networks.state('net0', sig()), code(ErrorCode.NotFound, 'Network "net0" not found'));
    });
  });

  describe('storage', () => {
    it('refuses to delete a pool in use and an unknown driver', async () => {
      await a.service.instances.create(op(), aSpec('web1'), image, sig());
      await a.service.storage.createVolume(op(), { pool: 'default', name: 'data', config: { size: '1GiB' }, description: '' }, sig());
      await assert.rejects(a.service.storage.deletePool(op(), 'default', sig()), code(ErrorCode.FailedPrecondition, 'instances "web1" and volumes "data"'));
      await assert.rejects(
        a.service.storage.createPool(op(), { name: 'z', driver: 'zfs', config: {}, description: '' }, sig()),
        code(ErrorCode.InvalidArgument, 'Unknown storage driver "zfs"'),
      );
    });

    it('refuses to delete a custom volume attached to an instance', async () => {
      await a.service.storage.createVolume(op(), { pool: 'default', name: 'data', config: {}, description: '' }, sig());
      const s = aSpec('web1');
      await a.service.instances.create(op(), { ...s, devices: { ...s.devices, data: { type: 'disk', pool: 'default', source: 'data', path: '/data' } } }, image, sig());
      await assert.rejects(a.service.storage.deleteVolume(op(), 'default', 'data', sig()), code(ErrorCode.FailedPrecondition, 'instances "web1"'));
      await a.service.storage.createVolumeSnapshot(op(), 'default', 'data', 'snap0', sig());
      assert.deepEqual((await a.service.storage.listVolumes('default', sig()))[0]?.snapshots, ['snap0']);
    });

    it('applies changed pool keys only', async () => {
      await a.service.storage.updatePool(op(), 'default', { size: '2GiB' }, 'bigger', sig());
      assert.ok(a.storage.failures.calls.includes('updatePool:default'));
      assert.equal((await a.service.storage.listPools())[0]?.spec.config['size'], '2GiB');
    });
  });

  describe('images', () => {
    it('imports a split image in chunks, checks the fingerprint, and exports from an offset', async () => {
      const meta = Buffer.from('metadata-bytes');
      const rootfs = Buffer.from('rootfs-bytes-rootfs-bytes');
      const fp = createHash('sha256').update(meta).update(rootfs).digest('hex');
      const list: ImageChunkIn[] = [
        { part: 'metadata', offset: 0, data: meta.subarray(0, 5) },
        { part: 'metadata', offset: 5, data: meta.subarray(5) },
        { part: 'rootfs', offset: 0, data: rootfs },
      ];
      const info = await a.service.images.import(op(), { format: 'split', expectedFingerprint: fp }, chunks(list), sig());
      assert.equal(info.fingerprint, fp);
      const exp = await a.service.images.export(fp.slice(0, 12), 'rootfs', 6, 4);
      const got: Buffer[] = [];
      for await (const c of exp.stream as AsyncIterable<Buffer>) got.push(c);
      assert.deepEqual([exp.totalBytes, Buffer.concat(got).toString()], [rootfs.length, rootfs.subarray(6).toString()]);
      assert.ok(got.every((c) => c.length <= 4));
    });

    it('returns a stored image without reading the chunks', async () => {
      let read = false;
      async function* never(): AsyncGenerator<ImageChunkIn> {
        read = true;
        yield { part: 'metadata', offset: 0, data: Buffer.alloc(1) };
      }
      const info = await a.service.images.import(op(), { format: 'unified', expectedFingerprint: FAKE_FP }, never(), sig());
      assert.equal(info.fingerprint, FAKE_FP);
      assert.equal(read, false);
    });

    it('refuses out-of-order chunks and a fingerprint mismatch', async () => {
      await assert.rejects(
        a.service.images.import(op(), { format: 'unified', expectedFingerprint: '' }, chunks([{ part: 'metadata', offset: 3, data: Buffer.from('x') }]), sig()),
        code(ErrorCode.InvalidArgument, 'offset 3'),
      );
      await assert.rejects(
        a.service.images.import(op(), { format: 'unified', expectedFingerprint: 'c'.repeat(64) }, chunks([{ part: 'metadata', offset: 0, data: Buffer.from('x') }]), sig()),
        code(ErrorCode.InvalidArgument, 'mismatch'),
      );
    });

    it('deletes an image and its image volumes', async () => {
      await a.service.instances.create(op(), aSpec('web1'), image, sig());
      await a.service.images.delete(op(), FAKE_FP, sig());
      assert.deepEqual(a.storage.volumeKeys(), ['default/container/web1']);
      assert.equal(await a.images.has(FAKE_FP), false);
    });
  });

  describe('member', () => {
    it('reports resources per pool and instance counts', async () => {
      await a.service.instances.create(op(), aSpec('web1'), image, sig());
      await a.service.lifecycle.start(op(), { project: 'default', name: 'web1' }, sig());
      const r = await a.service.member.resources(sig());
      assert.ok(r.cpuCount > 0 && r.memoryTotalBytes > 0);
      assert.deepEqual(r.pools, [{ name: 'default', driver: 'dir', totalBytes: 1_000_000, usedBytes: 2000 }]);
      assert.deepEqual([r.instanceCount, r.runningInstanceCount], [1, 1]);
    });
  });
});
