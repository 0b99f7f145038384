// Golden-file tests of the pure LXC config renderer (src/node-agent/drivers/lxc/lxc-config.ts):
// each case renders a runtime for a host shape and compares with
// test/testdata/node-agent/lxc-config/<case>.conf. REWRITE=1 rewrites the files (review the diff).
// Plus the properties the driver relies on: determinism and volume-path-only references.
import { strict as assert } from 'node:assert';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderLxcConfig, type RenderContext } from '../../../../src/node-agent/drivers/lxc/lxc-config.js';
import type { InstanceRuntime } from '../../../../src/node-agent/types.js';
import { ErrorCode, isShoalError } from '../../../../src/shared/index.js';
import { aFullRuntime, aRuntime, HYBRID_HOST, LEGACY_HOST, UNIFIED_HOST } from './fixtures.js';

const DIR = 'test/testdata/node-agent/lxc-config';
const ctx = (features = HYBRID_HOST, hostName = 'web1'): RenderContext => ({
  features,
  instanceDir: `/var/lib/shoal/containers/${hostName}`,
  stopHook: '/var/lib/shoal/containers/.shoal/post-stop',
  diskKinds: { data: 'dir', shared: 'dir', cfg: 'file', opt: 'missing' },
});

const CASES: ReadonlyArray<{ name: string; runtime: () => InstanceRuntime; ctx: () => RenderContext }> = [
  { name: 'minimal-hybrid', runtime: () => aRuntime(), ctx: () => ctx() },
  { name: 'full-hybrid', runtime: aFullRuntime, ctx: () => ctx(HYBRID_HOST, 'shop_web1') },
  { name: 'full-unified', runtime: aFullRuntime, ctx: () => ctx(UNIFIED_HOST, 'shop_web1') },
  {
    name: 'privileged-hybrid',
    runtime: () => aRuntime({ idmap: null, config: { 'security.privileged': 'true', 'raw.lxc': 'lxc.idmap = u 0 200000 65536\nlxc.idmap = g 0 200000 65536' } }),
    ctx: () => ({ ...ctx(), stopHook: null }),
  },
  {
    name: 'privileged-unified',
    runtime: () => aRuntime({ idmap: null, config: { 'security.privileged': 'true', 'limits.memory': '1GiB' } }),
    ctx: () => ctx(UNIFIED_HOST),
  },
  { name: 'minimal-legacy-no-cgroupns', runtime: () => aRuntime({ config: { 'limits.memory': '64MiB' } }), ctx: () => ctx(LEGACY_HOST) },
  {
    name: 'limits-percent-unified',
    runtime: () => aRuntime({ config: { 'limits.memory': '25%', 'limits.cpu': '2-3,6', 'limits.cpu.allowance': '50%' } }),
    ctx: () => ctx(UNIFIED_HOST),
  },
];

describe('src/node-agent/drivers/lxc/lxc-config', () => {
  describe('renderLxcConfig', () => {
    for (const c of CASES) {
      it(`renders ${c.name} as in ${c.name}.conf`, async () => {
        const text = renderLxcConfig(c.runtime(), c.ctx());
        const file = join(DIR, `${c.name}.conf`);
        if (process.env['REWRITE'] === '1') await writeFile(file, text);
        assert.equal(text, await readFile(file, 'utf8'));
      });
    }

    it('is deterministic', () => {
      assert.equal(renderLxcConfig(aFullRuntime(), ctx()), renderLxcConfig(aFullRuntime(), ctx()));
    });

    it('references the volume only through <volumePath>/rootfs, so snapshot restores need no change', () => {
      const text = renderLxcConfig(aFullRuntime(), ctx());
      const rt = aFullRuntime();
      const mentions = text.split('\n').filter((l) => l.includes(rt.volumePath));
      assert.deepEqual(mentions, [`lxc.rootfs.path = dir:${rt.volumePath}/rootfs`]);
    });

    it('refuses to render an unvalidated raw.lxc', () => {
      assert.throws(
        () => renderLxcConfig(aRuntime({ config: { 'raw.lxc': 'lxc.rootfs.path = dir:/' } }), ctx()),
        (err: unknown) => isShoalError(err, ErrorCode.InvalidArgument) && (err as Error).message.includes('"web1"'),
      );
    });
  });
});
