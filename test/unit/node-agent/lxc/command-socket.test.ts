// Covers commandSocketName: the abstract command socket name liblxc 5 gives a container's monitor,
// plain when it fits in sun_path, else the FNV-1a 64 hash of "<lxcpath>/<name>" (the expected
// hash below was computed independently).
import { strict as assert } from 'node:assert';
import { commandSocketName } from '../../../../src/node-agent/drivers/lxc/lxc-tools.js';

describe('src/node-agent/drivers/lxc/lxc-tools', () => {
  describe('commandSocketName', () => {
    it('is <lxcpath>/<name>/command when it fits', () => {
      assert.equal(commandSocketName('/var/lib/shoal/containers', 'web1'), '/var/lib/shoal/containers/web1/command');
    });

    it('is lxc/<fnv-1a 64 of lxcpath/name>/command when it does not fit', () => {
      const lxcpath = `/var/lib/shoal/${'x'.repeat(80)}/containers`;
      assert.equal(commandSocketName(lxcpath, 'web1'), 'lxc/6f95fa35edf89175/command');
    });
  });
});
