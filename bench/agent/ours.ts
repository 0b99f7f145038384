/**
 * Our side of the agent benchmark: a node agent (real drivers, AgentService, gRPC server with
 * mutual TLS on loopback) in this process, driven through the typed client, so every call crosses
 * real gRPC with TLS and the agent's durable ledger writes. Pools `bdir` (dir) and `bbtrfs`
 * (btrfs on a loop file), a managed bridge network, the busybox image imported through gRPC.
 */
import { createHash, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pb from '../../proto/gen/shoal/agent/v1/agent.js';
import { AgentClient } from '../../src/node-agent/client.js';
import { LxcInstanceDriver } from '../../src/node-agent/drivers/lxc/lxc-driver.js';
import { BridgeNetworkDriver } from '../../src/node-agent/drivers/network/bridge-driver.js';
import { BtrfsStorageDriver } from '../../src/node-agent/drivers/storage/btrfs.js';
import { DirStorageDriver } from '../../src/node-agent/drivers/storage/dir.js';
import { FsImageStore } from '../../src/node-agent/images/fs-image-store.js';
import { startAgentServer } from '../../src/node-agent/server.js';
import { AgentService } from '../../src/node-agent/service.js';
import { agentPaths } from '../../src/node-agent/types.js';
import { silentLogger } from '../../src/shared/index.js';
import { releaseHostObjectsUnder } from '../../test/support/storage-cleanup.js';
import { blockCidr } from '../../test/support/host-plan.js';
import type { TestPki } from '../../test/support/pki.js';
import { onCleanup } from './cleanup.js';
import { SUBNETS, type BenchSide, type BenchStorage } from './side.js';

const POOLS: Readonly<Record<BenchStorage, string>> = { dir: 'bdir', btrfs: 'bbtrfs' };

export class OursSide implements BenchSide {
  readonly label = 'ours';

  private constructor(
    /** The agent itself (in this process), for instrumentation (timeline.ts). */
    readonly service: AgentService,
    private readonly client: AgentClient,
    private readonly network: string,
    private readonly fingerprint: string,
  ) {}

  /** Starts the agent and prepares pools, network and image. Cleanup is registered. */
  static async setup(tag: string, pki: TestPki, tarball: Buffer, btrfsSize: string): Promise<OursSide> {
    const dir = await mkdtemp(join(tmpdir(), `shoal-${tag}-ours-`));
    await chmod(dir, 0o711);
    onCleanup(`agent state dir ${dir}`, async () => {
      await releaseHostObjectsUnder(dir);
      await rm(dir, { recursive: true, force: true });
    });
    const paths = agentPaths(dir);
    const log = silentLogger();
    const instance = new LxcInstanceDriver({ paths, log });
    const network = new BridgeNetworkDriver({ paths, log, autoSubnetPool: blockCidr('bench'), upstreamDns: 'none' });
    const service = await AgentService.open({
      paths,
      log,
      drivers: {
        instance,
        network,
        storage: { dir: new DirStorageDriver({ paths, log }), btrfs: new BtrfsStorageDriver({ paths, log }) },
        images: await FsImageStore.open(paths.images, log),
      },
      options: { vethPrefix: tag },
    });
    const serverTls = await pki.issue('agent');
    const server = await startAgentServer(service, '127.0.0.1:0', serverTls, log);
    const client = new AgentClient(`127.0.0.1:${server.port}`, await pki.issue('leader'), 'agent');
    onCleanup('agent', async () => {
      // Everything the agent made, through the agent, then the agent itself.
      const signal = AbortSignal.timeout(120_000);
      for (const i of await service.instances.list('', signal)) {
        const ref = { project: i.spec.project, name: i.spec.name };
        await service.lifecycle.stop(randomUUID(), ref, { force: true, timeoutMs: 0 }, signal);
        await service.instances.delete(randomUUID(), ref, signal);
      }
      for (const n of await service.networks.list()) await service.networks.delete(randomUUID(), n.spec.name, signal);
      for (const p of await service.storage.listPools()) await service.storage.deletePool(randomUUID(), p.spec.name, signal);
      await client.close();
      await server.close(2000);
      await service.close();
      instance.dispose();
      network.close();
    });

    const net = `${tag}o`;
    await client.unary('createNetwork', { operationId: randomUUID(), network: { name: net, type: 'bridge', config: { 'ipv4.address': SUBNETS.ours, 'ipv4.nat': 'false' } } });
    await client.unary('createStoragePool', { operationId: randomUUID(), pool: { name: POOLS.dir, driver: 'dir' } });
    await client.unary('createStoragePool', { operationId: randomUUID(), pool: { name: POOLS.btrfs, driver: 'btrfs', config: { size: btrfsSize } } });
    const fingerprint = createHash('sha256').update(tarball).digest('hex');
    async function* chunks(): AsyncGenerator<{ part: pb.ImagePart; data: Buffer }> {
      for (let i = 0; i < tarball.length; i += 256 * 1024) yield { part: pb.ImagePart.IMAGE_PART_METADATA, data: tarball.subarray(i, i + 256 * 1024) };
    }
    await client.importImage(randomUUID(), { format: pb.ImageFormat.IMAGE_FORMAT_UNIFIED, expectedFingerprint: fingerprint }, chunks());
    return new OursSide(service, client, net, fingerprint);
  }

  async createStart(name: string, storage: BenchStorage): Promise<void> {
    await this.client.unary('createInstance', {
      operationId: randomUUID(),
      spec: {
        project: 'default',
        name,
        devices: {
          root: { config: { type: 'disk', path: '/', pool: POOLS[storage] } },
          eth0: { config: { type: 'nic', network: this.network, name: 'eth0' } },
        },
      },
      sourceType: pb.InstanceSourceType.INSTANCE_SOURCE_TYPE_IMAGE,
      imageFingerprint: this.fingerprint,
    });
    await this.client.unary('startInstance', { operationId: randomUUID(), project: 'default', name });
  }

  async stop(name: string): Promise<void> {
    await this.client.unary('stopInstance', { operationId: randomUUID(), project: 'default', name, force: true });
  }

  async delete(name: string): Promise<void> {
    await this.client.unary('deleteInstance', { operationId: randomUUID(), project: 'default', name });
  }
}
