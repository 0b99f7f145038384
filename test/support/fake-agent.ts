// A node agent service over the Fake* drivers, for unit tests of the service's orchestration:
// real AgentService, real agent DB (classic-level in a temp dir), in-memory drivers with failure
// injection. `reopen()` closes the service and opens a new one on the same state dir and drivers
// (an agent restart); `close()` removes everything.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentService } from '../../src/node-agent/service.js';
import { agentPaths, type AgentPaths, type InstanceSpec } from '../../src/node-agent/types.js';
import { silentLogger } from '../../src/shared/index.js';
import { FakeImageStore } from './fakes/fake-image-store.js';
import { FakeInstanceDriver } from './fakes/fake-instance-driver.js';
import { FakeNetworkDriver } from './fakes/fake-network-driver.js';
import { FakeStorageDriver } from './fakes/fake-storage-driver.js';
import { HOST_TAG } from './host-plan.js';

export const FAKE_FP = 'a'.repeat(64);

export interface FakeAgent {
  service: AgentService;
  readonly paths: AgentPaths;
  readonly images: FakeImageStore;
  readonly instance: FakeInstanceDriver;
  readonly network: FakeNetworkDriver;
  readonly storage: FakeStorageDriver;
  reopen(): Promise<void>;
  close(): Promise<void>;
}

export const sig = (): AbortSignal => AbortSignal.timeout(10_000);

let opCounter = 0;
/** A fresh operation id. */
export function op(): string {
  return `op-${++opCounter}`;
}

/** Opens a service over fresh fakes with pool "default", network "net0" and image FAKE_FP. */
export async function openFakeAgent(): Promise<FakeAgent> {
  const dir = await mkdtemp(join(tmpdir(), `shoal-${HOST_TAG}-unit-`));
  const paths = agentPaths(dir);
  const images = new FakeImageStore();
  const instance = new FakeInstanceDriver();
  const network = new FakeNetworkDriver();
  const storage = new FakeStorageDriver('dir');
  images.add(FAKE_FP);
  const open = (): Promise<AgentService> =>
    AgentService.open({
      paths,
      log: silentLogger(),
      drivers: { images, instance, network, storage: { dir: storage } },
      idmap: { hostStart: 100000, size: 65536 },
      options: { vethPrefix: 'ssv' },
    });
  const agent: FakeAgent = {
    service: await open(),
    paths,
    images,
    instance,
    network,
    storage,
    async reopen() {
      await agent.service.close();
      agent.service = await open();
    },
    async close() {
      await agent.service.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await agent.service.storage.createPool(op(), { name: 'default', driver: 'dir', config: {}, description: '' }, sig());
  await agent.service.networks.create(op(), { name: 'net0', type: 'bridge', config: {}, description: '' }, sig());
  return agent;
}

/** A spec with a root disk on "default" and one nic on "net0". */
export function aSpec(name: string, extra: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    name,
    project: 'default',
    ephemeral: false,
    config: {},
    devices: {
      root: { type: 'disk', path: '/', pool: 'default' },
      eth0: { type: 'nic', network: 'net0', name: 'eth0' },
    },
    ...extra,
  };
}
