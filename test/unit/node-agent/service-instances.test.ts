// Orchestration of instance creation, update, deletion and lifecycle in the node agent service,
// over the Fake* drivers (test/support/fake-agent.ts) with a real agent DB: idempotency by
// operation id, revert on failure at every step, in-use and running checks, ephemeral removal.
import { strict as assert } from 'node:assert';
import { ErrorCode, RevertIncompleteError, ShoalError, isShoalError } from '../../../src/shared/index.js';
import { FAKE_FP, aSpec, op, openFakeAgent, sig, type FakeAgent } from '../../support/fake-agent.js';

const image = { type: 'image', fingerprint: FAKE_FP } as const;
const code = (c: ErrorCode, includes?: string) => (err: unknown) =>
  isShoalError(err, c) && (includes === undefined || err.message.includes(includes));

describe('src/node-agent/service-instances.ts', () => {
  let a: FakeAgent;
  beforeEach(async () => {
    a = await openFakeAgent();
  });
  afterEach(async () => {
    await a.close();
  });

  describe('create', () => {
    it('creates the volume, the network entry and the definition, and returns the volatile keys', async () => {
      const v = await a.service.instances.create(op(), aSpec('web1'), image, sig());
      assert.equal(v.status.status, 'Stopped');
      assert.equal(v.status.statusCode, 102);
      assert.equal(v.status.storagePool, 'default');
      assert.equal(v.status.imageFingerprint, FAKE_FP);
      assert.match(v.status.volatile['volatile.eth0.hwaddr'] ?? '', /^00:16:3e(:[0-9a-f]{2}){3}$/);
      assert.match(v.status.volatile['volatile.eth0.host_name'] ?? '', /^ssv[0-9a-f]{8}$/);
      assert.equal(v.status.volatile['volatile.idmap.base'], '100000');
      assert.deepEqual(a.storage.volumeKeys(), [`default/container/web1`, `default/image/${FAKE_FP}`]);
      assert.deepEqual(a.network.hostKeys(), ['net0/web1']);
      assert.deepEqual([...a.instance.instances.keys()], ['web1']);
      const rt = a.instance.instances.get('web1')!.runtime;
      assert.deepEqual(rt.idmap, { hostStart: 100000, size: 65536 });
      assert.equal(rt.nics[0]?.parent, 'net0');
    });

    it('has the effect of one create when called twice with the same operation id', async () => {
      const id = op();
      const first = await a.service.instances.create(id, aSpec('web1'), image, sig());
      const again = await a.service.instances.create(id, aSpec('web1'), image, sig());
      assert.deepEqual(again, first);
      assert.equal(a.instance.failures.count('create'), 1);
    });

    it('joins a create still running under the same operation id', async () => {
      const id = op();
      const [x, y] = await Promise.all([
        a.service.instances.create(id, aSpec('web1'), image, sig()),
        a.service.instances.create(id, aSpec('web1'), image, sig()),
      ]);
      assert.deepEqual(x, y);
      assert.equal(a.instance.failures.count('create'), 1);
    });

    it('refuses the same operation id for a different request', async () => {
      const id = op();
      await a.service.instances.create(id, aSpec('web1'), image, sig());
      await assert.rejects(a.service.instances.create(id, aSpec('web2'), image, sig()), code(ErrorCode.InvalidArgument, `"${id}"`));
    });

    it('returns an existing instance created with the same spec, and refuses another spec', async () => {
      const first = await a.service.instances.create(op(), aSpec('web1'), image, sig());
      const same = await a.service.instances.create(op(), aSpec('web1'), image, sig());
      assert.deepEqual(same.status.volatile, first.status.volatile);
      await assert.rejects(
        a.service.instances.create(op(), aSpec('web1', { config: { 'limits.memory': '64MiB' } }), image, sig()),
        code(ErrorCode.AlreadyExists, 'Instance "web1" already exists'),
      );
    });

    it('fails with NOT_FOUND naming an image that is not here, leaving nothing', async () => {
      const missing = 'b'.repeat(64);
      await assert.rejects(
        a.service.instances.create(op(), aSpec('web1'), { type: 'image', fingerprint: missing }, sig()),
        code(ErrorCode.NotFound, `Image "${missing}" not found`),
      );
      assert.deepEqual(await a.service.instances.list('', sig()), []);
    });

    it('names the missing pool or network', async () => {
      const spec = aSpec('web1');
      await assert.rejects(
        a.service.instances.create(op(), { ...spec, devices: { ...spec.devices, root: { type: 'disk', path: '/', pool: 'nope' } } }, image, sig()),
        code(ErrorCode.NotFound, 'Storage pool "nope" not found'),
      );
      await assert.rejects(
        a.service.instances.create(op(), { ...spec, devices: { ...spec.devices, eth0: { type: 'nic', network: 'nonet' } } }, image, sig()),
        code(ErrorCode.NotFound, 'Network "nonet" not found'),
      );
    });

    for (const [driver, method] of [
      ['network', 'addHost'],
      ['storage', 'ensureImageVolume'],
      ['storage', 'createVolumeFromImage'],
      ['instance', 'create'],
    ] as const) {
      it(`leaves nothing behind when ${driver}.${method} fails`, async () => {
        a[driver].failures.fail(method, new ShoalError(ErrorCode.ResourceExhausted, 'No space left on pool'));
        const id = op();
        await assert.rejects(a.service.instances.create(id, aSpec('web1'), image, sig()), code(ErrorCode.ResourceExhausted));
        assert.deepEqual(a.storage.volumeKeys().filter((k) => k.includes('/container/')), []);
        assert.deepEqual(a.network.hostKeys(), []);
        assert.deepEqual([...a.instance.instances.keys()], []);
        assert.deepEqual(await a.service.instances.list('', sig()), []);
        assert.equal((await a.service.ctx.ledger.get(id))?.state, 'failed');
        // The same operation id runs again once the cause is gone.
        const v = await a.service.instances.create(id, aSpec('web1'), image, sig());
        assert.equal(v.spec.name, 'web1');
      });
    }

    it('keeps the record for recovery when the revert itself fails, and says what remains', async () => {
      a.instance.failures.fail('create', new ShoalError(ErrorCode.Internal, 'lxc broke'));
      a.storage.failures.fail('deleteVolume', new ShoalError(ErrorCode.Internal, 'busy'));
      await assert.rejects(
        a.service.instances.create(op(), aSpec('web1'), image, sig()),
        (err: unknown) => err instanceof RevertIncompleteError && err.remaining.some((r) => r.includes('containers/web1')),
      );
      assert.equal((await a.service.ctx.db.instances.get('default/web1'))?.phase, 'creating');
      await a.reopen();
      assert.deepEqual(a.service.recovery?.rolledBack, ['web1']);
      assert.deepEqual(a.storage.volumeKeys().filter((k) => k.includes('/container/')), []);
      assert.equal(await a.service.ctx.db.instances.get('default/web1'), undefined);
    });

    it('reuses volatile keys the leader sends back', async () => {
      const spec = aSpec('web1', { config: { 'volatile.eth0.hwaddr': '00:16:3e:01:02:03' } });
      const v = await a.service.instances.create(op(), spec, image, sig());
      assert.equal(v.status.volatile['volatile.eth0.hwaddr'], '00:16:3e:01:02:03');
      assert.equal(a.network.hosts.get('net0')?.get('web1')?.[0]?.hwaddr, '00:16:3e:01:02:03');
    });

    it('fails a static address taken by another instance before touching storage', async () => {
      const withIp = (name: string) => {
        const s = aSpec(name);
        return { ...s, devices: { ...s.devices, eth0: { type: 'nic', network: 'net0', 'ipv4.address': '10.173.99.10' } } };
      };
      await a.service.instances.create(op(), withIp('web1'), image, sig());
      await assert.rejects(a.service.instances.create(op(), withIp('web2'), image, sig()), code(ErrorCode.AlreadyExists, '10.173.99.10'));
      assert.ok(!a.storage.volumeKeys().includes('default/container/web2'));
    });
  });

  describe('lifecycle', () => {
    it('starts and stops idempotently, and refuses to delete a running instance', async () => {
      await a.service.instances.create(op(), aSpec('web1'), image, sig());
      const ref = { project: 'default', name: 'web1' };
      assert.equal((await a.service.lifecycle.start(op(), ref, sig())).status.status, 'Running');
      assert.equal((await a.service.lifecycle.start(op(), ref, sig())).status.status, 'Running');
      assert.equal(a.instance.failures.count('start'), 1);
      await assert.rejects(a.service.instances.delete(op(), ref, sig()), code(ErrorCode.FailedPrecondition, 'Instance "web1" is running'));
      const stopped = await a.service.lifecycle.stop(op(), ref, { force: false, timeoutMs: 0 }, sig());
      assert.equal(stopped.deleted, false);
      await a.service.instances.delete(op(), ref, sig());
      assert.deepEqual(a.storage.volumeKeys().filter((k) => k.includes('/container/')), []);
      assert.deepEqual(a.network.hostKeys(), []);
      await assert.rejects(a.service.instances.get(ref, sig()), code(ErrorCode.NotFound, 'Instance "web1" not found'));
    });

    it('deletes an ephemeral instance when it is stopped', async () => {
      await a.service.instances.create(op(), aSpec('tmp1', { ephemeral: true }), image, sig());
      const ref = { project: 'default', name: 'tmp1' };
      await a.service.lifecycle.start(op(), ref, sig());
      assert.deepEqual(await a.service.lifecycle.stop(op(), ref, { force: true, timeoutMs: 0 }, sig()), { deleted: true });
      assert.deepEqual(a.storage.volumeKeys().filter((k) => k.includes('/container/')), []);
      assert.deepEqual(await a.service.instances.list('', sig()), []);
    });

    it('removes an ephemeral instance that stopped by itself', async () => {
      await a.service.instances.create(op(), aSpec('tmp1', { ephemeral: true }), image, sig());
      await a.service.lifecycle.start(op(), { project: 'default', name: 'tmp1' }, sig());
      a.instance.stopBehindTheBack('tmp1');
      for (let i = 0; i < 50 && (await a.service.ctx.db.instances.get('default/tmp1')); i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await a.service.ctx.db.instances.get('default/tmp1'), undefined);
      assert.deepEqual([...a.instance.instances.keys()], []);
    });

    it('freezes and unfreezes', async () => {
      await a.service.instances.create(op(), aSpec('web1'), image, sig());
      const ref = { project: 'default', name: 'web1' };
      await assert.rejects(a.service.lifecycle.freeze(op(), ref, sig()), code(ErrorCode.FailedPrecondition));
      await a.service.lifecycle.start(op(), ref, sig());
      assert.equal((await a.service.lifecycle.freeze(op(), ref, sig())).status.status, 'Frozen');
      assert.equal((await a.service.lifecycle.unfreeze(op(), ref, sig())).status.status, 'Running');
    });
  });

  describe('update and rename', () => {
    it('sets the root quota and moves the network entry with the nic', async () => {
      await a.service.networks.create(op(), { name: 'net1', type: 'bridge', config: {}, description: '' }, sig());
      await a.service.instances.create(op(), aSpec('web1'), image, sig());
      const spec = aSpec('web1');
      await a.service.instances.update(
        op(),
        { ...spec, devices: { root: { type: 'disk', path: '/', pool: 'default', size: '1GiB' }, eth0: { type: 'nic', network: 'net1' } } },
        sig(),
      );
      assert.equal(a.storage.volumes.get('default/container/web1')?.quota, 1024 ** 3);
      assert.deepEqual(a.network.hostKeys(), ['net1/web1']);
    });

    it('rolls an update back when the definition cannot be written', async () => {
      await a.service.instances.create(op(), aSpec('web1'), image, sig());
      a.instance.failures.fail('update', new ShoalError(ErrorCode.InvalidArgument, 'bad'));
      const spec = aSpec('web1');
      await assert.rejects(
        a.service.instances.update(op(), { ...spec, devices: { ...spec.devices, root: { type: 'disk', path: '/', pool: 'default', size: '1GiB' } } }, sig()),
        code(ErrorCode.InvalidArgument),
      );
      assert.equal(a.storage.volumes.get('default/container/web1')?.quota, undefined);
      assert.deepEqual((await a.service.instances.get({ project: 'default', name: 'web1' }, sig())).spec.devices['root'], spec.devices['root']);
    });

    it('renames a stopped instance with its volume and network entry', async () => {
      await a.service.instances.create(op(), aSpec('web1'), image, sig());
      const v = await a.service.instances.rename(op(), { project: 'default', name: 'web1' }, 'web2', sig());
      assert.equal(v.status.hostName, 'web2');
      assert.ok(a.storage.volumeKeys().includes('default/container/web2'));
      assert.deepEqual(a.network.hostKeys(), ['net0/web2']);
      assert.deepEqual([...a.instance.instances.keys()], ['web2']);
    });
  });

  describe('snapshots', () => {
    it('restores content and config from a snapshot', async () => {
      const ref = { project: 'default', name: 'web1' };
      await a.service.instances.create(op(), aSpec('web1', { config: { 'user.v': '1' } }), image, sig());
      await a.service.snapshots.create(op(), ref, 's0', sig());
      await a.service.instances.update(op(), aSpec('web1', { config: { 'user.v': '2' } }), sig());
      await assert.rejects(a.service.snapshots.create(op(), ref, 's0', sig()), code(ErrorCode.AlreadyExists, 'Snapshot "s0"'));
      const restored = await a.service.snapshots.restore(op(), ref, 's0', sig());
      assert.equal(restored.spec.config['user.v'], '1');
      assert.equal(a.storage.volumes.get('default/container/web1')?.restoredFrom, 's0');
      assert.deepEqual((await a.service.snapshots.list(ref)).map((s) => s.name), ['s0']);
      await a.service.snapshots.rename(op(), ref, 's0', 's1', sig());
      await a.service.snapshots.delete(op(), ref, 's1', sig());
      assert.deepEqual(await a.service.snapshots.list(ref), []);
    });
  });
});
