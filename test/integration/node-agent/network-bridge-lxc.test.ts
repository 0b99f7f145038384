// Two real unprivileged busybox containers (LxcInstanceDriver) on a managed bridge network: each
// boots, gets a DHCP lease from the network's dnsmasq, and reaches the other by instance name
// (short and FQDN), one of them on a static lease. Containers, network and dirs are named with the
// run's tag and removed in afterEach, even when the test fails.
import { strict as assert } from 'node:assert';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { LxcInstanceDriver } from '../../../src/node-agent/drivers/lxc/lxc-driver.js';
import { run } from '../../../src/node-agent/exec.js';
import type { InstanceRuntime, NetworkLease } from '../../../src/node-agent/types.js';
import { execCollect } from '../../support/exec-helpers.js';
import { busyboxTarball, TEST_IDMAP } from '../../support/lxc-fixture.js';
import {
  RUN_TAG,
  bridgeFixture,
  newGateway,
  newNetworkName,
  type BridgeFixture,
} from '../../support/network-harness.js';

const signal = (): AbortSignal => AbortSignal.timeout(90_000);

describe('src/node-agent/drivers/network/bridge-driver', () => {
  describe('with LXC containers', () => {
    let f: BridgeFixture;
    let lxc: LxcInstanceDriver;
    let containers: string[];
    let network: string | null;

    const container = async (id: string, mac: string, ipv4?: string): Promise<string> => {
      const name = `${RUN_TAG}-${id}`;
      const volumePath = join(f.paths.stateDir, 'volumes', name);
      await mkdir(volumePath, { recursive: true, mode: 0o700 });
      await run('tar', ['-xf', '-', '-C', volumePath], { input: await busyboxTarball() });
      const device = {
        type: 'nic',
        nictype: 'bridged',
        parent: network ?? '',
        hwaddr: mac,
        ...(ipv4 ? { 'ipv4.address': ipv4 } : {}),
      };
      const rt: InstanceRuntime = {
        spec: { name, project: 'default', ephemeral: false, config: {}, devices: { eth0: device } },
        hostName: name,
        volumePath,
        nics: [
          {
            device: 'eth0',
            ifname: 'eth0',
            kind: 'bridged',
            parent: network ?? '',
            hwaddr: mac,
            hostName: `${RUN_TAG}h${id}`,
            ...(ipv4 ? { ipv4 } : {}),
          },
        ],
        disks: [],
        unixDevices: [],
        idmap: TEST_IDMAP,
      };
      containers.push(name);
      // What the service does for a nic on a managed network: the host entry first, then the instance.
      await f.driver.addHost(
        network ?? '',
        { instance: name, device: 'eth0', hwaddr: mac, ...(ipv4 ? { ipv4 } : {}) },
        signal(),
      );
      await lxc.create(rt, signal());
      await lxc.start(name, signal());
      return name;
    };

    beforeEach(async () => {
      f = await bridgeFixture();
      await mkdir(join(f.paths.stateDir, 'volumes'), { mode: 0o711 });
      lxc = new LxcInstanceDriver({ paths: f.paths, log: f.log });
      containers = [];
      network = null;
    });
    afterEach(async () => {
      const failures: string[] = [];
      for (const c of containers) {
        await lxc
          .stop(c, { force: true, timeoutMs: 0 }, signal())
          .then(() => lxc.delete(c, signal()))
          .catch(async (err: unknown) => {
            failures.push(`${c}: ${String(err)}`);
            await run('lxc-stop', ['-P', f.paths.containers, '-n', c, '-k'], { okCodes: [0, 1, 2] });
          });
      }
      lxc.dispose();
      if (network) await f.driver.delete(network, signal());
      await f.cleanup();
      assert.deepEqual(failures, []);
    });

    it('gives two containers leases; they resolve and ping each other by name', async () => {
      const gw = newGateway();
      network = newNetworkName();
      await f.driver.create({ name: network, type: 'bridge', config: { 'ipv4.address': gw } }, signal());
      const pinned = gw.replace(/\.1\/24$/, '.42');
      const started = performance.now();
      const one = await container('one', '00:16:3e:5a:00:01');
      const two = await container('two', '00:16:3e:5a:00:02', pinned);

      let leases: readonly NetworkLease[] = [];
      for (let i = 0; i < 300; i++) {
        leases = await f.driver.leases(network, signal());
        if (leases.length === 2 && leases.some((l) => l.hwaddr === '00:16:3e:5a:00:01')) break;
        await delay(50);
      }
      console.log(
        `      both containers leased ${(performance.now() - started).toFixed(0)} ms after their creation began`,
      );
      const first = leases.find((l) => l.hwaddr === '00:16:3e:5a:00:01');
      assert.ok(first, `no lease for ${one}: ${JSON.stringify(leases)}`);
      assert.equal(first.hostname, one);
      assert.equal(first.type, 'dynamic');
      assert.deepEqual(
        leases.find((l) => l.hwaddr === '00:16:3e:5a:00:02'),
        { hostname: two, hwaddr: '00:16:3e:5a:00:02', address: pinned, type: 'static', expiresAt: 0 },
      );

      // udhcpc writes resolv.conf right after the lease: allow it a moment.
      let r = { code: 1, stdout: '', stderr: '' };
      for (let i = 0; i < 50 && r.code !== 0; i++) {
        r = await execCollect(lxc, one, ['ping', '-c', '1', '-W', '2', two]);
        if (r.code !== 0) await delay(100);
      }
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`PING ${two} \\(${pinned.replace(/\./g, '\\.')}\\)`));
      const back = await execCollect(lxc, two, ['ping', '-c', '1', '-W', '2', `${one}.shoal`]);
      assert.equal(back.code, 0, back.stdout + back.stderr);
      assert.match(back.stdout, new RegExp(`\\(${first.address.replace(/\./g, '\\.')}\\)`));
    });
  });
});
