/*
 * Unit tests of the integrity rules (src/state/tables/integrity.ts), one describe per rule the
 * issue names plus the cascades: each refusal carries a clear message naming the objects, and the
 * state after a refused transaction is byte-identical to the state before (same digest, revision).
 */
import { strict as assert } from 'node:assert';
import {
  clusterGroups,
  imageAliases,
  images,
  instanceSnapshots,
  instances,
  members,
  profiles,
  projects,
  type InstanceSnapshotRecord,
} from '../../../src/state/index.js';
import type { ShoalError } from '../../../src/shared/index.js';
import { anImage, anInstance, aProfile, FP, openTestStore, T0, withMembers, type TestStore } from '../../support/state/fixtures.js';

describe('src/state/tables/integrity', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore();
    await withMembers(t.store);
  });
  afterEach(async () => {
    await t.close();
  });

  /** Asserts `fn` is refused with `code` and `message`, and that nothing changed. */
  async function refused(fn: Parameters<typeof t.store.update>[0], code: string, message: string | RegExp): Promise<void> {
    const before = await t.sm.digest();
    await assert.rejects(t.store.update(fn), (err: ShoalError) => {
      assert.equal(err.code, code);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    });
    assert.deepEqual(await t.sm.digest(), before);
  }

  describe('instance names are unique per project', () => {
    it('refuses a second instance of the same name in a project, allows it in another', async () => {
      await t.store.update((tx) => tx.create(instances, anInstance()));
      await refused((tx) => tx.create(instances, anInstance({ location: 'm2' })), 'ALREADY_EXISTS', 'Instance "web1" in project "default" already exists');
      await t.store.update((tx) => {
        tx.create(projects, { name: 'blue', description: '', config: { 'features.profiles': 'false' } });
        tx.create(instances, anInstance({ project: 'blue' }));
      });
      assert.equal((await t.store.view()).list(instances).length, 2);
    });

    it('refuses an instance in a missing project, on a missing member or with a missing profile', async () => {
      await refused((tx) => tx.create(instances, anInstance({ project: 'nope' })), 'NOT_FOUND', 'Project "nope" not found (for instance "web1")');
      await refused((tx) => tx.create(instances, anInstance({ location: 'm9' })), 'NOT_FOUND', 'Member "m9" not found (for instance "web1")');
      await refused((tx) => tx.create(instances, anInstance({ profiles: ['default', 'gpu'] })), 'NOT_FOUND', 'Profile "gpu" not found in project "default" (for instance "web1")');
    });
  });

  describe('a profile in use cannot be deleted', () => {
    it('refuses while an instance uses it, and deletes it once unused', async () => {
      await t.store.update((tx) => {
        tx.create(profiles, aProfile());
        tx.create(instances, anInstance({ profiles: ['default', 'small'] }));
      });
      await refused((tx) => tx.delete(profiles, 'default', 'small'), 'FAILED_PRECONDITION', 'Profile "small" is currently in use by instance "web1" in project "default"');
      await t.store.update((tx) => tx.delete(instances, 'default', 'web1'));
      await t.store.update((tx) => tx.delete(profiles, 'default', 'small'));
      assert.equal((await t.store.view()).get(profiles, 'default', 'small'), undefined);
    });

    it('counts instances of projects that share the default profiles', async () => {
      await t.store.update((tx) => {
        tx.create(profiles, aProfile());
        tx.create(projects, { name: 'blue', description: '', config: { 'features.profiles': 'false' } });
        tx.create(instances, anInstance({ project: 'blue', profiles: ['small'] }));
      });
      await refused((tx) => tx.delete(profiles, 'default', 'small'), 'FAILED_PRECONDITION', /in use by instance "web1" in project "blue"/);
    });

    it('refuses to delete the default profile', async () => {
      await refused((tx) => tx.delete(profiles, 'default', 'default'), 'FAILED_PRECONDITION', 'The "default" profile cannot be deleted');
    });

    it('holds against a concurrent instance creation (the check is part of the transaction)', async () => {
      await t.store.update((tx) => tx.create(profiles, aProfile()));
      const results = await Promise.allSettled([
        t.store.update((tx) => tx.delete(profiles, 'default', 'small'), { maxAttempts: 1 }),
        t.store.update((tx) => tx.create(instances, anInstance({ profiles: ['small'] })), { maxAttempts: 1 }),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const v = await t.store.view();
      const inst = v.get(instances, 'default', 'web1');
      // Never both: an instance using a deleted profile.
      assert.ok(!(inst && !v.get(profiles, 'default', 'small')));
    });
  });

  describe('an alias points to an existing image', () => {
    it('refuses an alias to a missing image', async () => {
      await refused(
        (tx) => tx.create(imageAliases, { name: 'busybox', project: 'default', description: '', target: FP, type: 'container' }),
        'NOT_FOUND',
        `Image alias "busybox" points to image "${FP}", which does not exist in project "default"`,
      );
    });

    it('accepts an alias to an existing image and deletes it with the image', async () => {
      await t.store.update((tx) => {
        tx.create(images, anImage());
        tx.create(imageAliases, { name: 'busybox', project: 'default', description: '', target: FP, type: 'container' });
      });
      await t.store.update((tx) => tx.delete(images, 'default', FP));
      assert.deepEqual((await t.store.view()).list(imageAliases), []);
    });
  });

  describe('a member with instances cannot be deleted', () => {
    it('refuses while instances are located on it and names them', async () => {
      await t.store.update((tx) => {
        tx.create(instances, anInstance({ location: 'm2' }));
        tx.create(instances, anInstance({ name: 'db1', location: 'm2' }));
      });
      await refused((tx) => tx.delete(members, 'm2'), 'FAILED_PRECONDITION', 'Member "m2" still has instances: "db1" in project "default", "web1" in project "default"');
    });

    it('deletes an empty member once it left its cluster groups', async () => {
      await refused((tx) => tx.delete(members, 'm3'), 'FAILED_PRECONDITION', 'Member "m3" is still in cluster group "default"');
      await t.store.update((tx) => {
        const g = tx.require(clusterGroups, 'default').record;
        tx.update(clusterGroups, { ...g, members: g.members.filter((m) => m !== 'm3') });
        tx.delete(members, 'm3');
      });
      assert.equal((await t.store.view()).get(members, 'm3'), undefined);
    });
  });

  describe('cascades and other rules', () => {
    it('deletes an instance together with its snapshots, and refuses a snapshot of a missing instance', async () => {
      const snap = (name: string): InstanceSnapshotRecord => ({
        name,
        instance: 'web1',
        project: 'default',
        description: '',
        config: {},
        devices: {},
        profiles: ['default'],
        ephemeral: false,
        stateful: false,
        created_at: T0,
        expires_at: null,
      });
      await refused((tx) => tx.create(instanceSnapshots, snap('s0')), 'NOT_FOUND', 'Instance "web1" not found in project "default" (for snapshot "s0")');
      await t.store.update((tx) => {
        tx.create(instances, anInstance());
        tx.create(instanceSnapshots, snap('s1'));
        tx.create(instanceSnapshots, snap('s2'));
      });
      await t.store.update((tx) => tx.delete(instances, 'default', 'web1'));
      assert.deepEqual((await t.store.view()).list(instanceSnapshots), []);
    });

    it('refuses to delete a project that is not empty, or the default project', async () => {
      await t.store.update((tx) => {
        tx.create(projects, { name: 'blue', description: '', config: {} });
        tx.create(profiles, { name: 'default', project: 'blue', description: '', config: {}, devices: {} });
        tx.create(instances, anInstance({ project: 'blue' }));
      });
      await refused((tx) => tx.delete(projects, 'blue'), 'FAILED_PRECONDITION', 'Project "blue" is not empty: it still has instance "web1"');
      await refused((tx) => tx.delete(projects, 'default'), 'FAILED_PRECONDITION', 'The "default" project cannot be deleted');
      await t.store.update((tx) => tx.delete(instances, 'blue', 'web1'));
      await t.store.update((tx) => tx.delete(projects, 'blue'));
      assert.equal((await t.store.view()).get(profiles, 'blue', 'default'), undefined);
    });

    it('validates records before any rule: bad names, unknown config keys, bad devices', async () => {
      await refused((tx) => tx.create(instances, anInstance({ name: 'a/b' })), 'INVALID_ARGUMENT', /^Invalid instance "a\/b": field "name" must be a name/);
      await refused((tx) => tx.create(instances, anInstance({ config: { 'limits.cpus': '2' } })), 'INVALID_ARGUMENT', 'Invalid instance "web1": Unknown configuration key "limits.cpus"');
      await refused((tx) => tx.create(instances, anInstance({ config: { 'limits.memory': 'lots' } })), 'INVALID_ARGUMENT', 'Invalid instance "web1": Invalid value for "limits.memory": "lots" is not a size');
      await refused((tx) => tx.create(instances, anInstance({ devices: { root: { path: '/' } } })), 'INVALID_ARGUMENT', 'Invalid instance "web1": device "root" has no "type"');
      await t.store.update((tx) => tx.create(instances, anInstance({ config: { 'user.anything': 'goes', 'limits.cpu': '0-3' } })));
    });
  });
});
