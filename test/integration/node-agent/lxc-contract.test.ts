// Runs the shared InstanceDriver contract (test/support/instance-driver-contract.ts) against the
// real LxcInstanceDriver: real LXC containers from the busybox image in a temp LXC path.
import { describeInstanceDriverContract } from '../../support/instance-driver-contract.js';
import { LxcFixture } from '../../support/lxc-fixture.js';

describe('src/node-agent/drivers/lxc', () => {
  describeInstanceDriverContract('LxcInstanceDriver', async () => {
    const fx = await LxcFixture.create();
    const driver = fx.driver();
    return { driver, newRuntime: () => fx.runtime(fx.name('k')), close: () => fx.close() };
  });
});
