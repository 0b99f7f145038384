// A real node agent for integration tests: a temp state dir (/tmp/shoal-<tag>-*, 0711), the real
// drivers (LXC, bridge network, dir storage, filesystem image store), the AgentService served over
// gRPC with mutual TLS on loopback, and a typed client holding a certificate of the same test CA.
// The busybox image is built once per process and imported through gRPC once per fixture.
// Host objects are named with this run's tag (host tag + 4 characters, test/support/host-plan.ts):
// instances `<tag>-<word>-<hex>`, networks `<tag>n<k>`, veths `<tag><8 hex>`; subnets are in the
// plan's agent block. Storage drivers:
// dir and btrfs (loop files and mounts stay under the state dir).
// `cleanObjects()` (afterEach) deletes every instance, network, volume and extra pool through the
// service, then sweeps the host by tag; `close()` (after) also stops the agent and removes the dir.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient } from '../../src/node-agent/client.js';
import { LxcInstanceDriver } from '../../src/node-agent/drivers/lxc/lxc-driver.js';
import { BridgeNetworkDriver } from '../../src/node-agent/drivers/network/bridge-driver.js';
import type { StorageDriver } from '../../src/node-agent/drivers/storage-driver.js';
import { BtrfsStorageDriver } from '../../src/node-agent/drivers/storage/btrfs.js';
import { DirStorageDriver } from '../../src/node-agent/drivers/storage/dir.js';
import { run } from '../../src/node-agent/exec.js';
import { buildBusyboxImage } from '../../src/node-agent/images/busybox.js';
import { FsImageStore } from '../../src/node-agent/images/fs-image-store.js';
import type { AgentTls } from '../../src/node-agent/grpc-options.js';
import { startAgentServer, type AgentServer } from '../../src/node-agent/server.js';
import { AgentService } from '../../src/node-agent/service.js';
import { agentPaths, type AgentPaths } from '../../src/node-agent/types.js';
import { createLogger, ErrorCode, isShoalError, newOperationId, silentLogger, type Logger } from '../../src/shared/index.js';
import * as pb from '../../proto/gen/shoal/agent/v1/agent.js';
import { blockCidr, blockSubnet, HOST_TAG, newRunTag } from './host-plan.js';
import { forceCleanup, leftovers } from './network-hosts.js';
import { releaseHostObjectsUnder } from './storage-cleanup.js';
import { createTestPki, type TestPki } from './pki.js';

/** This run's tag: every host object of this process's agent tests starts with it. */
export const RUN_TAG = newRunTag();

let gatewayCounter = 0;

let tarballP: Promise<Buffer> | undefined;
/** The busybox image (unified tarball), built once per process. */
export function busyboxImage(): Promise<Buffer> {
  tarballP ??= buildBusyboxImage({}, AbortSignal.timeout(120_000)).then((img) => img.tarball);
  return tarballP;
}

let pkiP: Promise<{ pki: TestPki; server: AgentTls; client: AgentTls }> | undefined;
/** One test CA per process, with a server ("agent") and a client ("leader") certificate. */
function testPki(): Promise<{ pki: TestPki; server: AgentTls; client: AgentTls }> {
  pkiP ??= (async () => {
    const pki = await createTestPki(`shoal-${HOST_TAG}-test-ca`);
    return { pki, server: await pki.issue('agent'), client: await pki.issue('leader') };
  })();
  return pkiP;
}

/** Removes the process-wide test CA (call from a root `after` hook or leave to the OS temp dir). */
export async function removeTestPki(): Promise<void> {
  if (pkiP) await (await pkiP).pki.remove();
  pkiP = undefined;
}

/** A unique operation id. */
export const op = (): string => newOperationId();

/** The drivers of one agent process. */
interface Drivers {
  readonly instance: LxcInstanceDriver;
  readonly network: BridgeNetworkDriver;
  readonly storage: Record<string, StorageDriver>;
  readonly images: FsImageStore;
}

export class AgentFixture {
  service!: AgentService;
  client!: AgentClient;
  server!: AgentServer;
  private drivers!: Drivers;
  /** Fingerprint of the busybox image imported through gRPC. */
  fingerprint = '';
  private counter = 0;
  private readonly cleanups: Array<{ what: string; fn: () => Promise<void> }> = [];

  private constructor(
    readonly dir: string,
    readonly paths: AgentPaths,
    readonly log: Logger,
    private readonly tls: { server: AgentTls; client: AgentTls },
    readonly extraStorage: (paths: AgentPaths, log: Logger) => Record<string, StorageDriver>,
  ) {}

  /**
   * Starts an agent on a fresh state dir with a `default` dir pool and the busybox image.
   * `extraStorage` adds storage drivers (e.g. btrfs) next to dir.
   */
  static async start(
    extraStorage: (paths: AgentPaths, log: Logger) => Record<string, StorageDriver> = () => ({}),
  ): Promise<AgentFixture> {
    const dir = await mkdtemp(join(tmpdir(), `shoal-${HOST_TAG}-${RUN_TAG.slice(HOST_TAG.length)}-`));
    await chmod(dir, 0o711);
    const level = process.env['SHOAL_TEST_LOG'];
    const log = level === 'debug' || level === 'info' || level === 'warn' ? createLogger({ level }) : silentLogger();
    const { server, client } = await testPki();
    const fx = new AgentFixture(dir, agentPaths(dir), log, { server, client }, extraStorage);
    try {
      await fx.open();
      const tarball = await busyboxImage();
      fx.fingerprint = createHash('sha256').update(tarball).digest('hex');
      await fx.importImage(tarball);
      await fx.client.unary('createStoragePool', { operationId: op(), pool: { name: 'default', driver: 'dir' } });
    } catch (err) {
      await fx.close();
      throw err;
    }
    return fx;
  }

  /** The cluster CA the agent trusts. */
  get caPem(): Buffer {
    return this.tls.client.caPem;
  }

  /** Imports a unified tarball through gRPC in 256 KiB chunks. */
  async importImage(tarball: Buffer): Promise<pb.ImportImageResponse> {
    async function* chunks(): AsyncGenerator<{ part: pb.ImagePart; data: Buffer }> {
      for (let i = 0; i < tarball.length; i += 256 * 1024) {
        yield { part: pb.ImagePart.IMAGE_PART_METADATA, data: tarball.subarray(i, i + 256 * 1024) };
      }
    }
    return this.client.importImage(op(), { format: pb.ImageFormat.IMAGE_FORMAT_UNIFIED, expectedFingerprint: this.fingerprint }, chunks());
  }

  private async open(): Promise<void> {
    const { paths, log } = this;
    this.drivers = {
      instance: new LxcInstanceDriver({ paths, log: log.child({ component: 'lxc' }) }),
      network: new BridgeNetworkDriver({ paths, log, autoSubnetPool: blockCidr('agent'), upstreamDns: 'none' }),
      storage: { dir: new DirStorageDriver({ paths, log }), btrfs: new BtrfsStorageDriver({ paths, log }), ...this.extraStorage(paths, log) },
      images: await FsImageStore.open(paths.images, log),
    };
    this.service = await AgentService.open({
      paths,
      log,
      drivers: this.drivers,
      options: { vethPrefix: RUN_TAG },
    });
    this.server = await startAgentServer(this.service, '127.0.0.1:0', this.tls.server, log);
    this.client = new AgentClient(`127.0.0.1:${this.server.port}`, this.tls.client, 'agent');
  }

  /** Stops the client, the server, the service and the drivers (the host objects stay). */
  async stopAgent(): Promise<void> {
    await this.client?.close();
    await this.server?.close(2000);
    await this.service?.close();
    this.drivers?.instance.dispose();
    this.drivers?.network.close();
  }

  /** An agent restart: stop everything, then open new drivers and a new service on the same dir. */
  async restart(between: () => Promise<void> = async () => undefined): Promise<void> {
    await this.stopAgent();
    await between();
    await this.open();
  }

  /** A fresh instance name `<tag>-<word>-<4 hex>`. */
  name(word = 'c'): string {
    return `${RUN_TAG}-${word}-${randomBytes(2).toString('hex')}`;
  }

  /** A fresh network name `<tag>n<k>` (≤ 15 characters). */
  networkName(): string {
    return `${RUN_TAG}n${++this.counter}`;
  }

  /** A gateway `<prefix>.1/24` in the agent block, a different /24 each time (cycling over 48). */
  gateway(): string {
    return `${blockSubnet('agent', 16 + (gatewayCounter++ % 48))}.1/24`;
  }

  /** Registers an extra cleanup (mounts, loop devices…) run by cleanObjects, last in, first out. */
  onCleanup(what: string, fn: () => Promise<void>): void {
    this.cleanups.push({ what, fn });
  }

  /** Creates (and registers for cleanup) a bridged managed network. */
  async network(config: Record<string, string> = {}): Promise<string> {
    const name = this.networkName();
    await this.client.unary('createNetwork', {
      operationId: op(),
      network: { name, type: 'bridge', config: { 'ipv4.address': this.gateway(), 'ipv4.nat': 'false', ...config } },
    });
    return name;
  }

  /** Creates an instance from the busybox image (root disk on `pool`, extra devices/config). */
  async create(
    name: string,
    opts: { config?: Record<string, string>; devices?: Record<string, Record<string, string>>; ephemeral?: boolean; pool?: string; operationId?: string } = {},
  ): Promise<pb.CreateInstanceResponse> {
    const devices: Record<string, pb.Device> = { root: { config: { type: 'disk', path: '/', pool: opts.pool ?? 'default' } } };
    for (const [k, v] of Object.entries(opts.devices ?? {})) devices[k] = { config: v };
    return this.client.unary('createInstance', {
      operationId: opts.operationId ?? op(),
      spec: { project: 'default', name, ephemeral: opts.ephemeral ?? false, config: opts.config ?? {}, devices },
      sourceType: pb.InstanceSourceType.INSTANCE_SOURCE_TYPE_IMAGE,
      imageFingerprint: this.fingerprint,
    });
  }

  /** Runs a command through gRPC and collects its output. */
  async exec(name: string, command: string[], stdin?: string): Promise<{ stdout: string; stderr: string; exitCode: number }> {
    const h = this.client.exec(op(), { project: 'default', name, command });
    if (stdin !== undefined) await h.write(stdin);
    await h.closeStdin();
    const r = await h.collect();
    return { stdout: r.stdout.toString(), stderr: r.stderr.toString(), exitCode: r.exitCode };
  }

  /** Deletes every instance, network, custom volume and non-default pool; then sweeps the host. */
  async cleanObjects(): Promise<void> {
    const failures: string[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        // Gone already (an ephemeral instance removed on its stop, a volume deleted with it): done.
        if (isShoalError(err, ErrorCode.NotFound)) return;
        failures.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    const s = this.service;
    const signal = AbortSignal.timeout(60_000);
    await attempt('instances', async () => {
      for (const i of await s.instances.list('', signal)) {
        const ref = { project: i.spec.project, name: i.spec.name };
        await attempt(`stop ${i.spec.name}`, () => s.lifecycle.stop(op(), ref, { force: true, timeoutMs: 0 }, signal));
        if (!i.spec.ephemeral) await attempt(`delete ${i.spec.name}`, () => s.instances.delete(op(), ref, signal));
      }
    });
    await attempt('volumes', async () => {
      for (const p of await s.storage.listPools()) {
        for (const v of await s.storage.listVolumes(p.spec.name, signal)) {
          await attempt(`volume ${v.name}`, () => s.storage.deleteVolume(op(), p.spec.name, v.name, signal));
        }
      }
    });
    await attempt('networks', async () => {
      for (const n of await s.networks.list()) await attempt(`network ${n.spec.name}`, () => s.networks.delete(op(), n.spec.name, signal));
    });
    await attempt('pools', async () => {
      for (const p of await s.storage.listPools()) {
        if (p.spec.name !== 'default') await attempt(`pool ${p.spec.name}`, () => s.storage.deletePool(op(), p.spec.name, signal));
      }
    });
    for (const c of this.cleanups.splice(0).reverse()) await attempt(c.what, c.fn);
    await attempt('host sweep', () => this.sweepHost());
    if (failures.length > 0) throw new Error(`Cleanup failed:\n${failures.join('\n')}`);
  }

  /** Kills whatever of this fixture is left on the host: containers of its LXC path, tagged links, dnsmasq, nft tables. */
  async sweepHost(): Promise<void> {
    const names = await readdir(this.paths.containers).catch(() => [] as string[]);
    for (const n of names) {
      if (n.startsWith('.')) continue;
      await run('lxc-stop', ['-P', this.paths.containers, '-n', n, '-k'], { okCodes: [0, 1, 2] });
    }
    const left = await leftovers(RUN_TAG);
    if (left.length > 0) await forceCleanup(RUN_TAG);
    await releaseHostObjectsUnder(this.dir);
  }

  /** Everything of this fixture left on the host (should be empty after cleanObjects). */
  async leftovers(): Promise<string[]> {
    const containers = (await readdir(this.paths.containers).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));
    const prefix = `${this.dir}/`;
    const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p.startsWith(prefix));
    const loops = (await run('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE'])).stdout
      .split('\n')
      .filter((l) => l.includes(prefix));
    return [
      ...containers.map((c) => `container ${c}`),
      ...(await leftovers(RUN_TAG)),
      ...mounts.filter((m) => !m.includes('/storage-pools/default')).map((m) => `mount ${m}`),
      ...loops.map((l) => `loop ${l.trim()}`),
    ];
  }

  /** Cleans everything, stops the agent and removes the state dir. */
  async close(): Promise<void> {
    const failures: string[] = [];
    try {
      if (this.service) await this.cleanObjects();
    } catch (err) {
      failures.push(String(err));
    }
    try {
      await this.stopAgent();
    } catch (err) {
      failures.push(String(err));
    }
    await this.sweepHost().catch((err: unknown) => failures.push(String(err)));
    await rm(this.dir, { recursive: true, force: true }).catch((err: unknown) => failures.push(String(err)));
    if (failures.length > 0) throw new Error(`Fixture close failed:\n${failures.join('\n')}`);
  }
}
