// Test hosts for multi-member tests: the production module scripts/demo/net-hosts.ts (a bridge
// playing the physical network and one network namespace per member), re-exported, plus
// `createTestNetHosts` which picks a run-unique prefix (`sdm` + 4 random characters) and a free /24
// in 10.213.0.0/16 so concurrent runs never collide. Call `destroy()` in after/afterEach.
import { randomBytes } from 'node:crypto';
import { NetHosts, pickFreeSubnet } from '../../scripts/demo/net-hosts.js';
import { ErrorCode, isShoalError } from '../../src/shared/index.js';

export * from '../../scripts/demo/net-hosts.js';

/** The /16 test host subnets come from (the demo uses 10.213.77.0/24 in it). */
export const TEST_NET_POOL = '10.213.0.0/16';

/** A run-unique prefix: `sdm` + 4 random lower-case hex characters. */
export function testNetPrefix(): string {
  return `sdm${randomBytes(2).toString('hex')}`;
}

/**
 * Creates test hosts named `names` on a fresh prefix and free subnet, retrying when a concurrent
 * run took the same subnet between the check and the creation.
 */
export async function createTestNetHosts(names: readonly string[]): Promise<NetHosts> {
  for (let attempt = 1; ; attempt++) {
    const subnet = await pickFreeSubnet(TEST_NET_POOL);
    try {
      return await NetHosts.create({ prefix: testNetPrefix(), subnet, names });
    } catch (err) {
      if (attempt >= 5 || !isShoalError(err) || err.code !== ErrorCode.FailedPrecondition) throw err;
    }
  }
}
