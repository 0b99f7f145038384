// Covers src/node-agent/images/template-apply.ts and src/node-agent/safe-path.ts on a real
// filesystem: the busybox image's hostname/hosts templates, triggers and create_only, owners of
// new files, and every way a rootfs (or an image's templates/) can try to redirect a write or read
// to the host through `..` or symlinks.
import { strict as assert } from 'node:assert';
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buildBusyboxImage } from '../../../src/node-agent/images/busybox.js';
import { FsImageStore } from '../../../src/node-agent/images/fs-image-store.js';
import { applyTemplates, type ApplyTemplatesInput } from '../../../src/node-agent/images/template-apply.js';
import { resolveInRoot, writeFileInRoot } from '../../../src/node-agent/safe-path.js';
import { ErrorCode, isShoalError, silentLogger } from '../../../src/shared/index.js';
import { CleanupStack } from '../../support/storage-cleanup.js';

const denied = (err: unknown): boolean => isShoalError(err, ErrorCode.PermissionDenied);

describe('src/node-agent/images/template-apply', () => {
  const cleanup = new CleanupStack();
  let base: string;
  let volume: string;
  let rootfs: string;
  const input = (over: Partial<ApplyTemplatesInput> = {}): ApplyTemplatesInput => ({
    volumePath: volume,
    trigger: 'create',
    name: 'web1',
    architecture: 'x86_64',
    privileged: false,
    ephemeral: false,
    config: {},
    devices: {},
    ...over,
  });
  const writeMeta = async (templates: string): Promise<void> => {
    await writeFile(join(volume, 'metadata.yaml'), `architecture: x86_64\ntemplates:\n${templates}`);
  };

  beforeEach(async () => {
    base = await cleanup.tempDir('tpl');
    volume = join(base, 'volume');
    rootfs = join(volume, 'rootfs');
  });
  afterEach(() => cleanup.run());

  describe('applyTemplates', () => {
    it('renders the busybox image hostname and hosts on create, copy and start', async () => {
      const store = await FsImageStore.open(join(base, 'images'), silentLogger());
      const img = await buildBusyboxImage({}, AbortSignal.timeout(30_000));
      await store.importUnified(Readable.from([img.tarball]), {}, AbortSignal.timeout(30_000));
      await store.unpack(img.fingerprint, volume, AbortSignal.timeout(30_000));
      assert.deepEqual(await applyTemplates(input()), ['/etc/hostname', '/etc/hosts']);
      assert.equal(await readFile(join(rootfs, 'etc/hostname'), 'utf8'), 'web1\n');
      assert.match(await readFile(join(rootfs, 'etc/hosts'), 'utf8'), /^127\.0\.1\.1\tweb1$/m);
      assert.deepEqual(await applyTemplates(input({ trigger: 'copy', name: 'web2' })), ['/etc/hostname', '/etc/hosts']);
      assert.deepEqual(await applyTemplates(input({ trigger: 'start', name: 'web3' })), ['/etc/hostname', '/etc/hosts']);
      assert.equal(await readFile(join(rootfs, 'etc/hostname'), 'utf8'), 'web3\n');
    });

    it('honours when, create_only, properties and config_get, and creates parents owned by the instance root', async () => {
      await mkdir(join(volume, 'templates'), { recursive: true });
      await mkdir(join(rootfs, 'etc'), { recursive: true });
      await writeFile(join(volume, 'templates/a.tpl'), '{{ properties.greeting }} {{ config_get("user.who", "nobody") }}\n');
      await writeFile(join(volume, 'templates/b.tpl'), 'b\n');
      await writeMeta(`  /etc/a:
    when: [start]
    template: a.tpl
    properties: {greeting: hello}
  /etc/b:
    when: [create]
    create_only: true
    template: b.tpl
  /var/lib/new/c:
    when: [create]
    template: b.tpl
`);
      await writeFile(join(rootfs, 'etc/b'), 'kept\n');
      assert.deepEqual(await applyTemplates(input({ rootUid: 100000, rootGid: 100000 })), ['/var/lib/new/c']);
      assert.equal(await readFile(join(rootfs, 'etc/b'), 'utf8'), 'kept\n');
      const st = await stat(join(rootfs, 'var/lib/new/c'));
      const dir = await stat(join(rootfs, 'var/lib'));
      assert.deepEqual([st.uid, st.gid, st.mode & 0o777, dir.uid, dir.mode & 0o777], [100000, 100000, 0o644, 100000, 0o755]);
      assert.deepEqual(await applyTemplates(input({ trigger: 'start', config: { 'user.who': 'ops' } })), ['/etc/a']);
      assert.equal(await readFile(join(rootfs, 'etc/a'), 'utf8'), 'hello ops\n');
    });

    it('keeps the mode and owner of a file it overwrites', async () => {
      await mkdir(join(volume, 'templates'), { recursive: true });
      await mkdir(join(rootfs, 'etc'), { recursive: true });
      await writeFile(join(volume, 'templates/h.tpl'), '{{ instance.name }}\n');
      await writeMeta('  /etc/hostname:\n    when: [create]\n    template: h.tpl\n');
      await writeFile(join(rootfs, 'etc/hostname'), 'old\n', { mode: 0o600 });
      await applyTemplates(input({ rootUid: 100000 }));
      const st = await stat(join(rootfs, 'etc/hostname'));
      assert.deepEqual([st.mode & 0o777, st.uid], [0o600, 0]);
    });

    it('reads templates only from inside templates/', async () => {
      await mkdir(join(volume, 'templates'), { recursive: true });
      await mkdir(rootfs, { recursive: true });
      await writeFile(join(base, 'host-secret'), 'secret\n');
      await symlink(join(base, 'host-secret'), join(volume, 'templates/evil.tpl'));
      await writeMeta('  /etc/leak:\n    when: [create]\n    template: evil.tpl\n');
      await assert.rejects(applyTemplates(input()), /ENOENT/);
    });

    it('never writes through a symlink the instance planted to leave its rootfs', async () => {
      await mkdir(join(volume, 'templates'), { recursive: true });
      await mkdir(join(rootfs, 'etc'), { recursive: true });
      await writeFile(join(volume, 'templates/h.tpl'), 'pwned\n');
      await writeMeta('  /etc/hostname:\n    when: [create]\n    template: h.tpl\n');
      const victim = join(base, 'victim');
      await writeFile(victim, 'safe\n');
      await symlink('../../../victim', join(rootfs, 'etc/hostname'));
      await assert.rejects(applyTemplates(input()), denied);
      assert.equal(await readFile(victim, 'utf8'), 'safe\n');
    });
  });

  describe('resolveInRoot / writeFileInRoot', () => {
    beforeEach(async () => {
      await mkdir(join(rootfs, 'etc'), { recursive: true });
      await mkdir(join(rootfs, 'run'), { recursive: true });
    });

    it('follows absolute symlinks inside the rootfs, as the instance sees them', async () => {
      await symlink('/run/hosts', join(rootfs, 'etc/hosts'));
      await symlink('/', join(rootfs, 'etc/up'));
      assert.equal(await resolveInRoot(rootfs, '/etc/hosts'), join(rootfs, 'run/hosts'));
      assert.equal(await resolveInRoot(rootfs, '/etc/up/etc/up/run/x'), join(rootfs, 'run/x'));
      assert.equal(await resolveInRoot(rootfs, '/etc/hosts', { followFinal: false }), join(rootfs, 'etc/hosts'));
      await writeFileInRoot(rootfs, '/etc/hosts', 'x\n');
      assert.equal(await readFile(join(rootfs, 'run/hosts'), 'utf8'), 'x\n');
    });

    it('refuses ".." and relative symlinks that climb out, in any component', async () => {
      await symlink('../..', join(rootfs, 'etc/out'));
      await symlink('../../../..', join(rootfs, 'run/far'));
      for (const p of ['/../victim', '/etc/../../victim', '/etc/out/victim', '/run/far']) {
        await assert.rejects(resolveInRoot(rootfs, p), denied, p);
      }
      await assert.rejects(writeFileInRoot(rootfs, '/etc/out/victim', 'x'), denied);
    });

    it('stops symlink loops', async () => {
      await symlink('/etc/b', join(rootfs, 'etc/a'));
      await symlink('/etc/a', join(rootfs, 'etc/b'));
      await assert.rejects(resolveInRoot(rootfs, '/etc/a'), (err: unknown) => isShoalError(err, ErrorCode.InvalidArgument));
    });

    it('refuses to write through a non-directory parent', async () => {
      await writeFile(join(rootfs, 'etc/file'), 'x');
      await assert.rejects(writeFileInRoot(rootfs, '/etc/file/child', 'x'), (err: unknown) =>
        isShoalError(err, ErrorCode.InvalidArgument),
      );
    });
  });
});
