// Keeps the unit-test fakes honest: FakeInstanceDriver passes the shared InstanceDriver contract
// that the real LXC driver passes in the integration suite.
import { FakeInstanceDriver } from '../../support/fakes/fake-instance-driver.js';
import { describeInstanceDriverContract } from '../../support/instance-driver-contract.js';

let n = 0;
describe('test/support/fakes/fake-instance-driver.ts', () => {
  describeInstanceDriverContract('FakeInstanceDriver', async () => {
    const driver = new FakeInstanceDriver();
    return {
      driver,
      newRuntime: async () => {
        const name = `fake${++n}`;
        return {
          spec: { name, project: 'default', ephemeral: false, config: {}, devices: {} },
          hostName: name,
          volumePath: `/nonexistent/${name}`,
          nics: [],
          disks: [],
          unixDevices: [],
          idmap: { hostStart: 100000, size: 65536 },
        };
      },
      close: async () => undefined,
    };
  });
});
