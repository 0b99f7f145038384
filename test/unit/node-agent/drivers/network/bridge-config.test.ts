// Covers src/node-agent/drivers/network/bridge-config.ts: network name rules, every accepted key
// with good and bad values, refusal of unknown keys by name, defaults, and the effective config
// filled in after creation (LXD: auto address resolved, nat on for auto, ipv6 none).
import { strict as assert } from 'node:assert';
import {
  effectiveConfig,
  networkNameProblem,
  parseBridgeConfig,
} from '../../../../../src/node-agent/drivers/network/bridge-config.js';
import { parseInterface } from '../../../../../src/node-agent/drivers/network/addresses.js';

function problem(config: Record<string, string>): { key: string; reason: string } | null {
  const r = parseBridgeConfig(config);
  return r.ok ? null : { key: r.key, reason: r.reason };
}

describe('src/node-agent/drivers/network/bridge-config', () => {
  describe('networkNameProblem', () => {
    it('accepts LXD-style interface names up to 15 characters', () => {
      for (const n of ['br0', 'shoalbr0', 'lxdbr0', 'a1', 'net-1_x.y', 'abcdefghijklmno'])
        assert.equal(networkNameProblem(n), null, n);
    });
    it('refuses long, short, odd or reserved names', () => {
      assert.equal(networkNameProblem('abcdefghijklmnop'), 'must be 2 to 15 characters long');
      assert.equal(networkNameProblem('a'), 'must be 2 to 15 characters long');
      for (const n of ['0br', '-br', '.br', 'br/0', 'br 0', 'br:0', 'bré']) {
        assert.match(networkNameProblem(n) ?? '', /must start with a letter/, n);
      }
      assert.equal(networkNameProblem('none'), 'is reserved');
    });
  });

  describe('parseBridgeConfig', () => {
    it('applies LXD defaults to an empty config', () => {
      assert.deepEqual(parseBridgeConfig({}), {
        ok: true,
        settings: {
          ipv4: { kind: 'auto' },
          nat: false,
          dhcp: true,
          dhcpRanges: null,
          dhcpExpiry: '1h',
          routing: true,
          firewall: true,
          dnsDomain: 'shoal',
          dnsMode: 'managed',
          mtu: null,
          hwaddr: null,
          rawDnsmasq: '',
        },
      });
    });
    it('reads every supported key', () => {
      const r = parseBridgeConfig({
        'ipv4.address': '10.172.3.1/24',
        'ipv4.nat': 'YES',
        'ipv4.dhcp': 'off',
        'ipv4.dhcp.ranges': '10.172.3.10-10.172.3.20',
        'ipv4.dhcp.expiry': '45m',
        'ipv4.routing': '0',
        'ipv4.firewall': 'false',
        'ipv6.address': 'none',
        'ipv6.nat': 'true',
        'dns.domain': 'lab.example',
        'dns.mode': 'none',
        'bridge.mtu': '1400',
        'bridge.hwaddr': '00:16:3E:AA:BB:CC',
        'bridge.driver': 'native',
        'raw.dnsmasq': 'dhcp-option=42,10.172.3.1',
        'user.comment': 'anything at all',
      });
      assert.ok(r.ok);
      assert.deepEqual(r.settings, {
        ipv4: { kind: 'static', gateway: parseInterface('10.172.3.1/24') },
        nat: true,
        dhcp: false,
        dhcpRanges: [{ first: 0x0aac030a, last: 0x0aac0314 }],
        dhcpExpiry: '45m',
        routing: false,
        firewall: false,
        dnsDomain: 'lab.example',
        dnsMode: 'none',
        mtu: 1400,
        hwaddr: '00:16:3e:aa:bb:cc',
        rawDnsmasq: 'dhcp-option=42,10.172.3.1',
      });
      assert.deepEqual(parseBridgeConfig({ 'ipv4.address': 'none' }), {
        ok: true,
        settings: { ...(parseBridgeConfig({}) as { settings: object }).settings, ipv4: { kind: 'none' } },
      });
    });
    it('refuses an unknown key by name', () => {
      assert.deepEqual(problem({ 'ipv4.nat': 'true', 'bridge.mode': 'fan' }), {
        key: 'bridge.mode',
        reason: 'unknown configuration key',
      });
      assert.deepEqual(problem({ volatile: 'x' }), { key: 'volatile', reason: 'unknown configuration key' });
    });
    it('refuses bad values naming the key', () => {
      const cases: [Record<string, string>, string, RegExp][] = [
        [{ 'ipv4.address': '10.172.3.0/24' }, 'ipv4.address', /network address/],
        [{ 'ipv4.address': '10.172.3.1' }, 'ipv4.address', /CIDR/],
        [{ 'ipv4.address': '10.172.3.1/31' }, 'ipv4.address', /prefix/],
        [{ 'ipv4.nat': 'maybe' }, 'ipv4.nat', /boolean/],
        [{ 'ipv4.dhcp': '' }, 'ipv4.dhcp', /boolean/],
        [{ 'ipv4.dhcp.ranges': '10.0.0.9-10.0.0.2' }, 'ipv4.dhcp.ranges', /ranges/],
        [{ 'ipv4.dhcp.expiry': '1 hour' }, 'ipv4.dhcp.expiry', /duration/],
        [{ 'ipv6.address': 'auto' }, 'ipv6.address', /not implemented/],
        [{ 'ipv6.address': 'fd42::1/64' }, 'ipv6.address', /not implemented/],
        [{ 'dns.domain': 'bad_domain' }, 'dns.domain', /DNS domain/],
        [{ 'dns.domain': '' }, 'dns.domain', /DNS domain/],
        [{ 'dns.mode': 'dynamic' }, 'dns.mode', /managed/],
        [{ 'bridge.mtu': '67' }, 'bridge.mtu', /68/],
        [{ 'bridge.mtu': '1500x' }, 'bridge.mtu', /68/],
        [{ 'bridge.hwaddr': '01:16:3e:00:00:01' }, 'bridge.hwaddr', /unicast/],
        [{ 'bridge.hwaddr': '00:16:3e:00:00' }, 'bridge.hwaddr', /MAC/],
        [{ 'bridge.driver': 'openvswitch' }, 'bridge.driver', /native/],
      ];
      for (const [config, key, reason] of cases) {
        const p = problem(config);
        assert.equal(p?.key, key, JSON.stringify(config));
        assert.match(p?.reason ?? '', reason, JSON.stringify(config));
      }
    });
    it('refuses DHCP ranges outside the subnet', () => {
      assert.deepEqual(problem({ 'ipv4.address': '10.172.3.1/24', 'ipv4.dhcp.ranges': '10.172.3.10-10.172.4.10' }), {
        key: 'ipv4.dhcp.ranges',
        reason: 'ranges must lie inside 10.172.3.1/24',
      });
    });
  });

  describe('effectiveConfig', () => {
    it('resolves auto, turns nat on and fills ipv6.address, as LXD does on creation', () => {
      assert.deepEqual(effectiveConfig({ 'user.x': 'y' }, parseInterface('10.172.9.1/24')), {
        'user.x': 'y',
        'ipv4.address': '10.172.9.1/24',
        'ipv4.nat': 'true',
        'ipv6.address': 'none',
      });
    });
    it('keeps an explicit nat setting and an explicit address', () => {
      assert.deepEqual(
        effectiveConfig({ 'ipv4.address': 'auto', 'ipv4.nat': 'false' }, parseInterface('10.172.9.1/24')),
        {
          'ipv4.address': '10.172.9.1/24',
          'ipv4.nat': 'false',
          'ipv6.address': 'none',
        },
      );
      assert.deepEqual(
        effectiveConfig({ 'ipv4.address': '10.172.5.1/24', 'ipv6.address': 'none' }, parseInterface('10.172.5.1/24')),
        {
          'ipv4.address': '10.172.5.1/24',
          'ipv6.address': 'none',
        },
      );
    });
  });
});
