// Builds the real BridgeNetworkDriver for integration tests, isolated for a shared host: a state
// dir under /tmp/shoal-<tag>-net-*, automatic subnets only inside the host plan's network block
// (test/support/host-plan.ts), dnsmasq with no
// upstream resolver (no query leaves the machine), and names starting with the run's tag.
import { strict as assert } from 'node:assert';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BridgeNetworkDriver } from '../../src/node-agent/drivers/network/bridge-driver.js';
import { agentPaths, type AgentPaths } from '../../src/node-agent/types.js';
import { createLogger, seededRng, type Logger, type Rng } from '../../src/shared/index.js';
import { blockCidr, blockSubnet, HOST_TAG, newRunTag } from './host-plan.js';
import { forceCleanup, leftovers } from './network-hosts.js';
import type { NetworkDriverHarness } from './network-driver-contract.js';

/** This run's tag: the host tag + 4 random characters. Every host object of the run starts with it. */
export const RUN_TAG = newRunTag();

/** Where automatic subnets of the tests' networks come from. */
export const AUTO_SUBNET_POOL = blockCidr('network');

const usedOctets = new Set<number>();
let nameCounter = 0;

/** A fresh network name `<tag>n<k>`. */
export function newNetworkName(): string {
  nameCounter++;
  return `${RUN_TAG}n${nameCounter}`;
}

/**
 * A gateway `<prefix>.1/24` in the network block, not used before in this run while unused ones
 * remain (networks of finished tests are gone, so the block is then reused).
 */
export function newGateway(): string {
  if (usedOctets.size >= 48) usedOctets.clear();
  for (;;) {
    const k = 16 + Math.floor(Math.random() * 48);
    if (usedOctets.has(k)) continue;
    usedOctets.add(k);
    return `${blockSubnet('network', k)}.1/24`;
  }
}

/** A logger for tests: silent unless SHOAL_TEST_LOG is set to a level. */
export function testLogger(): Logger {
  const level = process.env.SHOAL_TEST_LOG;
  return createLogger({ level: level === 'debug' || level === 'info' || level === 'warn' ? level : 'silent' });
}

/** A driver over its own temp state dir. */
export interface BridgeFixture {
  readonly driver: BridgeNetworkDriver;
  readonly paths: AgentPaths;
  readonly log: Logger;
  /** Another driver over the same state dir (an agent restart). */
  newDriver(): BridgeNetworkDriver;
  /**
   * The driver of the running "agent": the last one made. Clean up through it, as the product
   * would: an older, closed driver deleting a network races the live driver's dnsmasq restart.
   */
  live(): BridgeNetworkDriver;
  /** Closes the drivers, checks that nothing of the run is left, removes it anyway, removes the dir. */
  cleanup(): Promise<void>;
}

/** Makes a {@link BridgeFixture}. */
export async function bridgeFixture(seed = Math.floor(Math.random() * 2 ** 31), rng?: Rng): Promise<BridgeFixture> {
  const stateDir = await mkdtemp(join(tmpdir(), `shoal-${HOST_TAG}-net-`));
  // Like LXD's 0711 /var/lib/lxd: dnsmasq (running as nobody) must traverse the state dir.
  await chmod(stateDir, 0o711);
  const paths = agentPaths(stateDir);
  const log = testLogger();
  const drivers: BridgeNetworkDriver[] = [];
  const newDriver = (): BridgeNetworkDriver => {
    const d = new BridgeNetworkDriver({
      paths,
      log,
      rng: rng ?? seededRng(seed + drivers.length),
      autoSubnetPool: AUTO_SUBNET_POOL,
      upstreamDns: 'none',
    });
    drivers.push(d);
    return d;
  };
  const driver = newDriver();
  return {
    driver,
    paths,
    log,
    newDriver,
    live: () => drivers[drivers.length - 1] ?? driver,
    async cleanup() {
      for (const d of drivers) d.close();
      const left = await leftovers(RUN_TAG);
      await forceCleanup(RUN_TAG);
      await rm(stateDir, { recursive: true, force: true });
      assert.deepEqual(left, [], 'host objects left behind');
    },
  };
}

/** Asserts that nothing of network `name` exists: link, nft table, dnsmasq process, directory. */
export async function assertNetworkGone(paths: AgentPaths, name: string): Promise<void> {
  const left = (await leftovers(RUN_TAG)).filter((l) => l.includes(name));
  assert.deepEqual(left, [], `objects of network "${name}" left behind`);
  await assert.rejects(stat(join(paths.networks, name)), { code: 'ENOENT' }, `directory of "${name}" left behind`);
}

/** The contract harness over a fresh {@link bridgeFixture}. */
export async function bridgeHarness(): Promise<NetworkDriverHarness> {
  const f = await bridgeFixture();
  return {
    driver: f.driver,
    newName: newNetworkName,
    newGateway,
    assertGone: (name) => assertNetworkGone(f.paths, name),
    cleanup: () => f.cleanup(),
  };
}
