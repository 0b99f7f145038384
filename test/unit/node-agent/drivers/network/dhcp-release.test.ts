// Covers src/node-agent/drivers/network/dhcp-release.ts: the DHCPRELEASE packet sent on behalf of
// a removed instance (RFC 2131 layout: op, htype, hlen, xid, ciaddr, chaddr, magic cookie, options).
import { strict as assert } from 'node:assert';
import { dhcpReleasePacket } from '../../../../../src/node-agent/drivers/network/dhcp-release.js';

describe('src/node-agent/drivers/network/dhcp-release', () => {
  describe('dhcpReleasePacket', () => {
    const lease = {
      expiresAtSec: 0,
      hwaddr: '02:00:00:00:99:0b',
      address: '10.172.3.50',
      hostname: 'b',
      clientId: '01:02:00:00:00:99:0b',
    };
    it('carries the client address, MAC, server id and client id', () => {
      const p = dhcpReleasePacket(lease, '10.172.3.1', 0xdeadbeef);
      assert.deepEqual([p[0], p[1], p[2]], [1, 1, 6]);
      assert.equal(p.readUInt32BE(4), 0xdeadbeef);
      assert.deepEqual([...p.subarray(12, 16)], [10, 172, 3, 50]);
      assert.deepEqual([...p.subarray(28, 34)], [2, 0, 0, 0, 0x99, 0x0b]);
      assert.equal(p.readUInt32BE(236), 0x63825363);
      assert.deepEqual([...p.subarray(240)], [53, 1, 7, 54, 4, 10, 172, 3, 1, 61, 7, 1, 2, 0, 0, 0, 0x99, 0x0b, 255]);
    });
    it('omits the client id when the lease has none', () => {
      const p = dhcpReleasePacket({ ...lease, clientId: '' }, '10.172.3.1', 1);
      assert.deepEqual([...p.subarray(240)], [53, 1, 7, 54, 4, 10, 172, 3, 1, 255]);
    });
  });
});
