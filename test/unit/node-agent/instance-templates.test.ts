// Image templates with caching (src/node-agent/instance-templates.ts) on a real temp volume:
// create/start triggers, create_only, no rewrite of identical files between create and the first
// start, rewrite after `forget`, recompilation when metadata.yaml changes.
import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InstanceTemplates } from '../../../src/node-agent/instance-templates.js';
import type { InstanceRuntime } from '../../../src/node-agent/types.js';

const METADATA = `architecture: x86_64
creation_date: 1700000000
templates:
  /etc/hostname:
    when: [create, start]
    template: hostname.tpl
  /etc/motd:
    when: [create]
    create_only: true
    template: motd.tpl
`;

describe('src/node-agent/instance-templates.ts', () => {
  let dir: string;
  let rt: InstanceRuntime;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-ssv-tpl-'));
    await mkdir(join(dir, 'rootfs/etc'), { recursive: true });
    await mkdir(join(dir, 'templates'));
    await writeFile(join(dir, 'metadata.yaml'), METADATA);
    await writeFile(join(dir, 'templates/hostname.tpl'), '{{ container.name }}\n');
    await writeFile(join(dir, 'templates/motd.tpl'), 'hello {{ container.name }}\n');
    rt = { spec: { name: 'c1', project: 'default', ephemeral: false, config: {}, devices: {} }, hostName: 'c1', volumePath: dir, nics: [], disks: [], unixDevices: [], idmap: null };
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('InstanceTemplates', () => {
    it('renders by trigger, honours create_only and skips identical writes only right after create', async () => {
      const t = new InstanceTemplates();
      await writeFile(join(dir, 'rootfs/etc/motd'), 'kept\n');
      await t.apply(rt, 'x86_64', 'create');
      assert.equal(await readFile(join(dir, 'rootfs/etc/hostname'), 'utf8'), 'c1\n');
      assert.equal(await readFile(join(dir, 'rootfs/etc/motd'), 'utf8'), 'kept\n');
      const before = (await stat(join(dir, 'rootfs/etc/hostname'))).mtimeMs;
      await new Promise((r) => setTimeout(r, 20));
      await t.apply(rt, 'x86_64', 'start');
      assert.equal((await stat(join(dir, 'rootfs/etc/hostname'))).mtimeMs, before, 'not rewritten');
      t.forget('c1');
      await writeFile(join(dir, 'rootfs/etc/hostname'), 'changed inside\n');
      await t.apply(rt, 'x86_64', 'start');
      assert.equal(await readFile(join(dir, 'rootfs/etc/hostname'), 'utf8'), 'c1\n');
    });

    it('recompiles when metadata.yaml changes and does nothing without one', async () => {
      const t = new InstanceTemplates();
      await t.apply(rt, 'x86_64', 'create');
      await writeFile(join(dir, 'templates/host2.tpl'), 'new {{ container.name }}\n');
      await writeFile(join(dir, 'metadata.yaml'), METADATA.replace('hostname.tpl', 'host2.tpl') + '\n');
      t.forget('c1');
      await t.apply(rt, 'x86_64', 'start');
      assert.equal(await readFile(join(dir, 'rootfs/etc/hostname'), 'utf8'), 'new c1\n');
      await rm(join(dir, 'metadata.yaml'));
      await t.apply(rt, 'x86_64', 'start');
    });
  });
});
