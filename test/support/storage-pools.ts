/**
 * Pool fixtures for storage and LXC integration tests: a real dir pool, or a real btrfs pool on a
 * small loop file, in a fresh temp dir under /tmp/shoal-<tag>-st-*, deleted (and every mount and loop
 * device under the temp dir released) by the CleanupStack even when the test failed.
 */
import { strict as assert } from 'node:assert';
import { storageDrivers } from '../../src/node-agent/drivers/registry.js';
import type { BtrfsStorageDriver } from '../../src/node-agent/drivers/storage/btrfs.js';
import type { StorageDriver } from '../../src/node-agent/drivers/storage-driver.js';
import { agentPaths, type PoolSpec } from '../../src/node-agent/types.js';
import { silentLogger } from '../../src/shared/index.js';
import { releaseHostObjectsUnder, type CleanupStack } from './storage-cleanup.js';
import type { StorageContractFixture } from './storage-driver-contract.js';

const sig = (): AbortSignal => AbortSignal.timeout(120_000);

/** A dir pool in a fresh temp dir. */
export async function makeDirPool(cleanup: CleanupStack, config: Record<string, string> = {}): Promise<StorageContractFixture> {
  const paths = agentPaths(await cleanup.tempDir('dir'));
  const factory = storageDrivers['dir'];
  assert.ok(factory, 'dir driver registered');
  const driver: StorageDriver = factory({ paths, log: silentLogger() });
  const pool: PoolSpec = { name: 'sst-dir', driver: 'dir', config };
  cleanup.add('dir pool', () => driver.deletePool(pool, AbortSignal.timeout(60_000)));
  const effective = await driver.createPool(pool, sig());
  return { driver, pool: { ...pool, config: effective }, paths };
}

export interface BtrfsFixture extends StorageContractFixture {
  readonly driver: BtrfsStorageDriver;
  readonly state: string;
}

/** A btrfs pool on a sparse loop file (default 640MiB) in a fresh temp dir. */
export async function makeBtrfsPool(cleanup: CleanupStack, config: Record<string, string> = { size: '640MiB' }): Promise<BtrfsFixture> {
  const state = await cleanup.tempDir('btrfs');
  cleanup.add(`host objects under ${state}`, async () => {
    const left = await releaseHostObjectsUnder(state);
    if (left.length > 0) console.warn(`      released leftovers: ${left.join(', ')}`);
  });
  const paths = agentPaths(state);
  const factory = storageDrivers['btrfs'];
  assert.ok(factory, 'btrfs driver registered');
  const driver = factory({ paths, log: silentLogger() }) as BtrfsStorageDriver;
  const pool: PoolSpec = { name: 'sst-btrfs', driver: 'btrfs', config };
  cleanup.add('btrfs pool', () => driver.deletePool(pool, AbortSignal.timeout(60_000)));
  const effective = await driver.createPool(pool, sig());
  return { driver, pool: { ...pool, config: effective }, paths, state };
}
