// Covers src/node-agent/drivers/network/addresses.ts: IPv4 parsing and formatting, subnet math,
// DHCP ranges, the in-use list read from `ip -j` output, and the seeded choice of a free /24
// (checked against a brute-force reference with fast-check).
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  defaultDhcpRange,
  formatInterface,
  formatIpv4,
  formatSubnet,
  gatewayProblem,
  parseInterface,
  parseIpv4,
  parseRanges,
  parseSubnet,
  pickFreeSubnet,
  subnetContains,
  subnetsInUse,
  subnetsOverlap,
  type Ipv4Subnet,
} from '../../../../../src/node-agent/drivers/network/addresses.js';
import { seededRng } from '../../../../../src/shared/index.js';

const sub = (text: string): Ipv4Subnet => {
  const s = parseSubnet(text);
  assert.ok(s, text);
  return s;
};

describe('src/node-agent/drivers/network/addresses', () => {
  describe('parseIpv4 / formatIpv4', () => {
    it('round-trips dotted quads', () => {
      for (const a of ['0.0.0.0', '10.172.3.1', '255.255.255.255', '192.0.2.10'])
        assert.equal(formatIpv4(parseIpv4(a)!), a);
    });
    it('refuses malformed addresses', () => {
      for (const a of ['', '10.0.0', '10.0.0.256', '10.0.0.01', '1.2.3.4.5', 'a.b.c.d', '10.0.0.1 ', '-1.0.0.0']) {
        assert.equal(parseIpv4(a), null, a);
      }
    });
    it('round-trips every 32-bit number', () => {
      fc.assert(fc.property(fc.nat({ max: 0xffffffff }), (n) => parseIpv4(formatIpv4(n)) === n));
    });
  });

  describe('parseSubnet / parseInterface', () => {
    it('parses a subnet only when its host bits are zero', () => {
      assert.deepEqual(parseSubnet('10.172.3.0/24'), { network: parseIpv4('10.172.3.0'), prefix: 24 });
      assert.equal(parseSubnet('10.172.3.1/24'), null);
      assert.equal(parseSubnet('10.172.3.0/33'), null);
      assert.equal(parseSubnet('10.172.3.0'), null);
    });
    it('parses an interface address with its subnet', () => {
      const i = parseInterface('10.172.3.1/24');
      assert.ok(i);
      assert.equal(formatInterface(i), '10.172.3.1/24');
      assert.equal(formatSubnet(i.subnet), '10.172.3.0/24');
      assert.equal(parseInterface('10.172.3.1/2x'), null);
      assert.equal(parseInterface('10.172.3.1/24/1'), null);
    });
  });

  describe('gatewayProblem', () => {
    it('accepts a host address of a /8 to /30', () => {
      assert.equal(gatewayProblem(parseInterface('10.0.3.1/24')!), null);
      assert.equal(gatewayProblem(parseInterface('10.0.3.254/24')!), null);
      assert.equal(gatewayProblem(parseInterface('10.0.0.1/8')!), null);
      assert.equal(gatewayProblem(parseInterface('10.0.0.1/30')!), null);
    });
    it('refuses network and broadcast addresses and unusable prefixes', () => {
      assert.equal(gatewayProblem(parseInterface('10.0.3.0/24')!), 'address is the network address');
      assert.equal(gatewayProblem(parseInterface('10.0.3.255/24')!), 'address is the broadcast address');
      assert.equal(gatewayProblem(parseInterface('10.0.0.1/31')!), 'prefix must be between /8 and /30');
      assert.equal(gatewayProblem(parseInterface('10.0.0.1/7')!), 'prefix must be between /8 and /30');
    });
  });

  describe('subnet relations', () => {
    it('tells containment and overlap', () => {
      assert.ok(subnetContains(sub('10.1.0.0/16'), parseIpv4('10.1.255.255')!));
      assert.ok(!subnetContains(sub('10.1.0.0/16'), parseIpv4('10.2.0.0')!));
      assert.ok(subnetsOverlap(sub('10.0.0.0/8'), sub('10.172.3.0/24')));
      assert.ok(subnetsOverlap(sub('10.172.3.0/24'), sub('10.172.3.0/24')));
      assert.ok(!subnetsOverlap(sub('10.172.3.0/24'), sub('10.172.4.0/24')));
    });
  });

  describe('defaultDhcpRange / parseRanges', () => {
    it('spans network+2 to broadcast-1, as LXD', () => {
      const r = defaultDhcpRange(sub('10.172.3.0/24'));
      assert.deepEqual([formatIpv4(r.first), formatIpv4(r.last)], ['10.172.3.2', '10.172.3.254']);
    });
    it('parses comma-separated ranges and refuses reversed or malformed ones', () => {
      const r = parseRanges('10.0.3.10-10.0.3.20, 10.0.3.100-10.0.3.100');
      assert.deepEqual(
        r?.map((x) => [formatIpv4(x.first), formatIpv4(x.last)]),
        [
          ['10.0.3.10', '10.0.3.20'],
          ['10.0.3.100', '10.0.3.100'],
        ],
      );
      assert.equal(parseRanges('10.0.3.20-10.0.3.10'), null);
      assert.equal(parseRanges('10.0.3.20'), null);
      assert.equal(parseRanges('10.0.3.1-10.0.3.2-10.0.3.3'), null);
    });
  });

  describe('subnetsInUse', () => {
    it('reads routes and addresses, skipping default routes', () => {
      const routes = [
        { dst: 'default', gateway: '192.0.2.1', dev: 'eth0' },
        { dst: '192.0.2.0/24', dev: 'eth0' },
        { type: 'local', dst: '10.171.0.1', dev: 'slxbr0', table: 'local' },
        { dst: 'garbage' },
      ];
      const addrs = [
        { ifname: 'eth0', addr_info: [{ family: 'inet', local: '192.0.2.2', prefixlen: 24 }] },
        {
          ifname: 'br',
          addr_info: [
            { family: 'inet6', local: 'fe80::1', prefixlen: 64 },
            { family: 'inet', local: '10.9.8.1', prefixlen: 24 },
          ],
        },
      ];
      assert.deepEqual(subnetsInUse(routes, addrs).map(formatSubnet), [
        '192.0.2.0/24',
        '10.171.0.1/32',
        '192.0.2.0/24',
        '10.9.8.0/24',
      ]);
    });
  });

  describe('pickFreeSubnet', () => {
    const pool = sub('10.172.0.0/16');
    it('is deterministic for a seed and returns the first host as gateway', () => {
      const a = pickFreeSubnet(pool, [], seededRng(7));
      const b = pickFreeSubnet(pool, [], seededRng(7));
      assert.deepEqual(a, b);
      assert.ok(a.ok);
      assert.equal(a.gateway.address, a.gateway.subnet.network + 1);
      assert.equal(a.gateway.subnet.prefix, 24);
      assert.ok(subnetContains(pool, a.gateway.address));
    });
    it('avoids every subnet in use', () => {
      const inUse = [sub('10.172.0.0/17'), sub('10.172.200.0/22')];
      for (let seed = 0; seed < 50; seed++) {
        const r = pickFreeSubnet(pool, inUse, seededRng(seed));
        assert.ok(r.ok);
        assert.ok(!inUse.some((u) => subnetsOverlap(u, r.gateway.subnet)));
      }
    });
    it('finds the last free /24 by scanning when random picks miss', () => {
      const inUse = [
        sub('10.172.0.0/17'),
        sub('10.172.128.0/18'),
        sub('10.172.192.0/19'),
        sub('10.172.224.0/20'),
        sub('10.172.240.0/21'),
        sub('10.172.248.0/22'),
        sub('10.172.252.0/23'),
        sub('10.172.254.0/24'),
      ];
      const r = pickFreeSubnet(pool, inUse, seededRng(1));
      assert.ok(r.ok);
      assert.equal(formatInterface(r.gateway), '10.172.255.1/24');
    });
    it('reports a full pool', () => {
      assert.deepEqual(pickFreeSubnet(pool, [sub('10.0.0.0/8')], seededRng(1)), { ok: false });
    });
    it('agrees with a brute-force reference on whether a free subnet exists', () => {
      const small = sub('10.172.0.0/20');
      const arbSubnet = fc
        .record({ third: fc.integer({ min: 0, max: 31 }), prefix: fc.integer({ min: 19, max: 28 }) })
        .map(({ third, prefix }) => parseInterface(`10.172.${third}.0/${prefix}`)!.subnet);
      fc.assert(
        fc.property(fc.array(arbSubnet, { maxLength: 20 }), fc.integer(), (inUse, seed) => {
          const r = pickFreeSubnet(small, inUse, seededRng(seed), 24, 4);
          let anyFree = false;
          for (let i = 0; i < 16; i++) {
            const s = { network: small.network + i * 256, prefix: 24 };
            if (!inUse.some((u) => subnetsOverlap(u, s))) anyFree = true;
          }
          if (!r.ok) return !anyFree;
          return (
            anyFree &&
            subnetContains(small, r.gateway.address) &&
            !inUse.some((u) => subnetsOverlap(u, r.gateway.subnet))
          );
        }),
      );
    });
  });
});
