// Covers src/node-agent/drivers/network/nftables.ts renderRuleset against golden files in
// test/testdata/node-agent/nftables-*.nft: NAT with accept rules, accept rules only, and the cases
// that need no table at all. REWRITE=1 rewrites the golden files.
import { strict as assert } from 'node:assert';
import { parseInterface } from '../../../../../src/node-agent/drivers/network/addresses.js';
import { nftTableName, renderRuleset } from '../../../../../src/node-agent/drivers/network/nftables.js';
import { assertGolden } from '../../../../support/golden.js';

const gateway = parseInterface('10.172.3.1/24')!;

describe('src/node-agent/drivers/network/nftables', () => {
  describe('renderRuleset', () => {
    it("renders NAT and accept rules in the network's own table", () => {
      const text = renderRuleset({ network: 'shoalbr0', subnet: gateway.subnet, nat: true, firewall: true });
      assert.ok(text);
      assertGolden('node-agent/nftables-nat.nft', text);
      assert.equal(nftTableName('shoalbr0'), 'shoalbr0-shoal');
    });
    it('renders accept rules only when NAT is off', () => {
      const text = renderRuleset({ network: 'shoalbr0', subnet: gateway.subnet, nat: false, firewall: true });
      assert.ok(text);
      assertGolden('node-agent/nftables-no-nat.nft', text);
    });
    it('renders nothing without IPv4 or without NAT and firewall', () => {
      assert.equal(renderRuleset({ network: 'shoalbr0', subnet: null, nat: true, firewall: true }), null);
      assert.equal(renderRuleset({ network: 'shoalbr0', subnet: gateway.subnet, nat: false, firewall: false }), null);
    });
  });
});
