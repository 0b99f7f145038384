// Covers the pure parts of src/node-agent/drivers/network/bridge.ts: the LXD NetworkState built
// from `ip -j -s -d addr show` output, ownership detection and the stable bridge MAC.
import { strict as assert } from 'node:assert';
import {
  interfaceStateOf,
  isShoalBridge,
  SHOAL_BRIDGE_ALIAS,
  stableBridgeMac,
  type IpLink,
} from '../../../../../src/node-agent/drivers/network/bridge.js';

const link: IpLink = {
  ifname: 'shoalbr0',
  flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
  mtu: 1500,
  address: '00:16:3e:7a:7a:a9',
  ifalias: SHOAL_BRIDGE_ALIAS,
  linkinfo: { info_kind: 'bridge' },
  addr_info: [
    { family: 'inet', local: '10.172.80.1', prefixlen: 24, scope: 'global' },
    { family: 'inet6', local: 'fe80::216:3eff:fe7a:7aa9', prefixlen: 64, scope: 'link' },
  ],
  stats64: { rx: { bytes: 1685, packets: 9 }, tx: { bytes: 1626, packets: 7 } },
};

describe('src/node-agent/drivers/network/bridge', () => {
  describe('interfaceStateOf', () => {
    it('maps addresses, MAC, MTU, state and counters', () => {
      assert.deepEqual(interfaceStateOf(link), {
        addresses: [
          { family: 'inet', address: '10.172.80.1', netmask: '24', scope: 'global' },
          { family: 'inet6', address: 'fe80::216:3eff:fe7a:7aa9', netmask: '64', scope: 'link' },
        ],
        hwaddr: '00:16:3e:7a:7a:a9',
        mtu: 1500,
        state: 'up',
        hostName: '',
        counters: { bytesReceived: 1685, bytesSent: 1626, packetsReceived: 9, packetsSent: 7 },
      });
    });
    it('reports a link without UP as down and tolerates missing fields', () => {
      assert.deepEqual(interfaceStateOf({ ifname: 'x', flags: ['BROADCAST'] }), {
        addresses: [],
        hwaddr: '',
        mtu: 0,
        state: 'down',
        hostName: '',
        counters: { bytesReceived: 0, bytesSent: 0, packetsReceived: 0, packetsSent: 0 },
      });
    });
  });

  describe('isShoalBridge', () => {
    it("recognises only bridges carrying Shoal's alias", () => {
      assert.ok(isShoalBridge(link));
      assert.ok(!isShoalBridge({ ...link, ifalias: 'something' }));
      assert.ok(!isShoalBridge({ ...link, linkinfo: { info_kind: 'veth' } }));
    });
  });

  describe('stableBridgeMac', () => {
    it('is stable per name, unicast and under the 00:16:3e prefix', () => {
      assert.equal(stableBridgeMac('shoalbr0'), stableBridgeMac('shoalbr0'));
      assert.notEqual(stableBridgeMac('shoalbr0'), stableBridgeMac('shoalbr1'));
      assert.match(stableBridgeMac('shoalbr0'), /^00:16:3e(:[0-9a-f]{2}){3}$/);
    });
  });
});
