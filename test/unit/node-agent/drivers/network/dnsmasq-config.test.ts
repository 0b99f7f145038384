// Covers src/node-agent/drivers/network/dnsmasq-config.ts against golden files in
// test/testdata/node-agent/dnsmasq-*.conf: the default network (LXD's options), a fully configured
// one, DNS only (no DHCP) and DHCP only (dns.mode=none). REWRITE=1 rewrites the golden files.
import { strict as assert } from 'node:assert';
import { parseInterface } from '../../../../../src/node-agent/drivers/network/addresses.js';
import { parseBridgeConfig, type BridgeSettings } from '../../../../../src/node-agent/drivers/network/bridge-config.js';
import { renderDnsmasqConfig } from '../../../../../src/node-agent/drivers/network/dnsmasq-config.js';
import { networkFiles } from '../../../../../src/node-agent/drivers/network/network-dir.js';
import { assertGolden } from '../../../../support/golden.js';

function settings(config: Record<string, string>): BridgeSettings {
  const r = parseBridgeConfig(config);
  assert.ok(r.ok);
  return r.settings;
}

const files = networkFiles('/var/lib/shoal/networks', 'shoalbr0');
const gateway = parseInterface('10.172.3.1/24')!;

describe('src/node-agent/drivers/network/dnsmasq-config', () => {
  describe('renderDnsmasqConfig', () => {
    it('renders the default network like LXD with the host resolver upstream', () => {
      const text = renderDnsmasqConfig({
        network: 'shoalbr0',
        gateway,
        settings: settings({}),
        files,
        upstream: 'host',
      });
      assertGolden('node-agent/dnsmasq-default.conf', text);
    });
    it('renders ranges, expiry, MTU, domain, raw config and no upstream', () => {
      const s = settings({
        'ipv4.address': '10.172.3.1/24',
        'ipv4.dhcp.ranges': '10.172.3.10-10.172.3.50,10.172.3.100-10.172.3.150',
        'ipv4.dhcp.expiry': '30m',
        'bridge.mtu': '1400',
        'dns.domain': 'lab.example',
        'raw.dnsmasq': 'dhcp-option=42,10.172.3.1',
      });
      const text = renderDnsmasqConfig({ network: 'shoalbr0', gateway, settings: s, files, upstream: 'none' });
      assertGolden('node-agent/dnsmasq-full.conf', text);
    });
    it('renders DNS only without DHCP, and DHCP only with dns.mode=none', () => {
      const dnsOnly = renderDnsmasqConfig({
        network: 'shoalbr0',
        gateway,
        settings: settings({ 'ipv4.dhcp': 'false' }),
        files,
        upstream: 'none',
      });
      const dhcpOnly = renderDnsmasqConfig({
        network: 'shoalbr0',
        gateway,
        settings: settings({ 'dns.mode': 'none' }),
        files,
        upstream: 'none',
      });
      assertGolden('node-agent/dnsmasq-dns-only.conf', dnsOnly);
      assertGolden('node-agent/dnsmasq-dhcp-only.conf', dhcpOnly);
      assert.ok(!dnsOnly.includes('dhcp-range'));
      assert.ok(dhcpOnly.includes('port=0\n') && !dhcpOnly.includes('local=/'));
    });
  });
});
