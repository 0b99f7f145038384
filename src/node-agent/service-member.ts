/** What the member is and has: host facts for GetMemberInfo, capacity for the scheduler. */
import { arch, cpus, freemem, hostname, release, totalmem } from 'node:os';
import { allValues } from './agent-db.js';
import { currentStatus } from './instance-common.js';
import type { PoolResources } from './local-records.js';
import type { ServiceContext } from './service-context.js';
import { InstanceStatus } from './types.js';

/** The agent's version (reported to the leader for rolling upgrades). */
export const AGENT_VERSION = '0.1.0';

/** Node's arch → LXD's architecture name. */
const LXD_ARCH: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** This host's architecture, LXD's name. */
export const LXD_ARCHITECTURE = LXD_ARCH[arch()] ?? arch();

/** Host facts. */
export interface MemberInfo {
  readonly hostname: string;
  readonly architecture: string;
  readonly kernelVersion: string;
  readonly agentVersion: string;
  readonly storageDrivers: readonly string[];
  readonly networkTypes: readonly string[];
  readonly instanceTypes: readonly string[];
}

/** Capacity and usage. */
export interface MemberResources {
  readonly cpuCount: number;
  readonly memoryTotalBytes: number;
  readonly memoryUsedBytes: number;
  readonly pools: readonly PoolResources[];
  readonly instanceCount: number;
  readonly runningInstanceCount: number;
}

export class MemberService {
  constructor(private readonly ctx: ServiceContext) {}

  info(): MemberInfo {
    return {
      hostname: hostname(),
      architecture: LXD_ARCHITECTURE,
      kernelVersion: release(),
      agentVersion: AGENT_VERSION,
      storageDrivers: Object.keys(this.ctx.drivers.storage).sort(),
      networkTypes: [this.ctx.drivers.network.type],
      instanceTypes: [this.ctx.drivers.instance.type],
    };
  }

  async resources(signal: AbortSignal): Promise<MemberResources> {
    const pools = await allValues(this.ctx.db.pools);
    const poolResources = await Promise.all(
      pools.map(async (p) => {
        const u = await this.ctx.storage(p.spec).poolUsage(p.spec, signal);
        return { name: p.spec.name, driver: p.spec.driver, totalBytes: u.totalBytes, usedBytes: u.usedBytes };
      }),
    );
    const instances = (await allValues(this.ctx.db.instances)).filter((r) => r.phase === 'created');
    const statuses = await Promise.all(instances.map((r) => currentStatus(this.ctx, r.hostName, signal)));
    return {
      cpuCount: cpus().length,
      memoryTotalBytes: totalmem(),
      memoryUsedBytes: totalmem() - freemem(),
      pools: poolResources,
      instanceCount: instances.length,
      runningInstanceCount: statuses.filter((s) => s !== InstanceStatus.Stopped).length,
    };
  }
}
