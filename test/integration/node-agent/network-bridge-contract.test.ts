// Runs the shared NetworkDriver contract (test/support/network-driver-contract.ts) against the
// real BridgeNetworkDriver on this machine: real bridges, dnsmasq and nftables, all named with the
// run's `snt` tag and checked for leftovers after every test.
import { describeNetworkDriverContract } from '../../support/network-driver-contract.js';
import { bridgeHarness } from '../../support/network-harness.js';

describe('src/node-agent/drivers/network/bridge-driver', () => {
  describeNetworkDriverContract('BridgeNetworkDriver', bridgeHarness);
});
