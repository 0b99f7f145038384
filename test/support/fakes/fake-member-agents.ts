// FakeMemberAgents: the API's MemberAgents port over in-memory node agents, for unit tests of the
// storage, network, metrics and resources routes. Each FakeAgentClient keeps pools, volumes,
// networks, leases and instance states in maps and answers the unary RPCs those routes call;
// `failOn(method, err)` makes the next calls of a method fail (failure injection), `calls` records
// what was called. Only `unary` exists: the routes never stream.
import type { AgentClient } from '../../../src/node-agent/client.js';
import type { MemberAgents } from '../../../src/api/ports.js';
import { errors, type ShoalError } from '../../../src/shared/index.js';

type Req = Record<string, unknown>;
type Config = Record<string, string>;

/** One member's fake agent. */
export class FakeAgentClient {
  readonly pools = new Map<string, { driver: string; config: Config; description: string }>();
  readonly volumes = new Map<string, { config: Config; snapshots: string[] }>();
  readonly networks = new Map<string, { config: Config; description: string }>();
  readonly leases = new Map<string, Array<{ hostname: string; hwaddr: string; address: string; type: string }>>();
  readonly instances: Array<{ project: string; name: string; status: string; cpuNs: number; memBytes: number; memLimit: number; processes: number; rxBytes: number; txBytes: number }> = [];
  readonly calls: string[] = [];
  private readonly failures = new Map<string, ShoalError>();
  cpuCount = 2;
  memoryTotal = 4 * 2 ** 30;

  constructor(readonly member: string) {}

  /** Every later call of `method` fails with `err` until `clearFailures()`. */
  failOn(method: string, err: ShoalError): void {
    this.failures.set(method, err);
  }

  clearFailures(): void {
    this.failures.clear();
  }

  async unary(method: string, req: Req): Promise<unknown> {
    this.calls.push(method);
    const fail = this.failures.get(method);
    if (fail) throw fail;
    return this.answer(method, req);
  }

  private answer(method: string, req: Req): unknown {
    const str = (k: string): string => String(req[k] ?? '');
    switch (method) {
      case 'createStoragePool': {
        const p = req['pool'] as { name: string; driver: string; config?: Config; description?: string };
        if (this.pools.has(p.name)) throw errors.exists(`Storage pool "${p.name}" already exists`);
        const config = { ...(p.config ?? {}), source: p.config?.['source'] ?? `/fake/${this.member}/${p.name}` };
        this.pools.set(p.name, { driver: p.driver, config, description: p.description ?? '' });
        return { pool: { spec: { name: p.name, driver: p.driver, config, description: p.description ?? '' } } };
      }
      case 'updateStoragePool': {
        const p = this.pool(str('name'));
        p.config = { ...(req['config'] as Config) };
        p.description = str('description');
        return { pool: { spec: { name: str('name'), driver: p.driver, config: p.config } } };
      }
      case 'deleteStoragePool':
        this.pool(str('name'));
        this.pools.delete(str('name'));
        return {};
      case 'getStoragePoolResources':
        this.pool(str('name'));
        return { resources: { name: str('name'), driver: 'dir', totalBytes: 1000, usedBytes: 250 } };
      case 'createStorageVolume': {
        const v = req['volume'] as { pool: string; name: string; config?: Config };
        this.pool(v.pool);
        const key = `${v.pool}/${v.name}`;
        if (this.volumes.has(key)) throw errors.exists(`Storage volume "${v.name}" already exists in pool "${v.pool}"`);
        this.volumes.set(key, { config: { ...(v.config ?? {}) }, snapshots: [] });
        return { volume: { spec: v } };
      }
      case 'deleteStorageVolume':
        this.volume(str('pool'), str('name'));
        this.volumes.delete(`${str('pool')}/${str('name')}`);
        return {};
      case 'listStorageVolumes':
        return {
          volumes: [...this.volumes.entries()]
            .filter(([k]) => k.startsWith(`${str('pool')}/`))
            .map(([k, v]) => ({ spec: { pool: str('pool'), name: k.slice(str('pool').length + 1), config: v.config }, status: { usedBy: [], snapshots: [...v.snapshots], usedBytes: 0 } })),
        };
      case 'createStorageVolumeSnapshot':
        this.volume(str('pool'), str('name')).snapshots.push(str('snapshot'));
        return {};
      case 'deleteStorageVolumeSnapshot': {
        const v = this.volume(str('pool'), str('name'));
        if (!v.snapshots.includes(str('snapshot'))) throw errors.notFound(`Snapshot "${str('snapshot')}" not found`);
        v.snapshots = v.snapshots.filter((s) => s !== str('snapshot'));
        return {};
      }
      case 'restoreStorageVolumeSnapshot':
        if (!this.volume(str('pool'), str('name')).snapshots.includes(str('snapshot'))) throw errors.notFound(`Snapshot "${str('snapshot')}" not found`);
        return {};
      case 'createNetwork': {
        const n = req['network'] as { name: string; config?: Config; description?: string };
        if (this.networks.has(n.name)) throw errors.exists(`Network "${n.name}" already exists`);
        const config = { ...(n.config ?? {}) };
        if ((config['ipv4.address'] ?? 'auto') === 'auto') config['ipv4.address'] = '10.64.7.1/24';
        this.networks.set(n.name, { config, description: n.description ?? '' });
        return { network: { spec: { name: n.name, type: 'bridge', config } } };
      }
      case 'updateNetwork': {
        const n = this.network(str('name'));
        n.config = { ...(req['config'] as Config) };
        n.description = str('description');
        return { network: { spec: { name: str('name'), type: 'bridge', config: n.config } } };
      }
      case 'deleteNetwork':
        this.network(str('name'));
        this.networks.delete(str('name'));
        return {};
      case 'getNetworkState':
        this.network(str('name'));
        return {
          state: {
            addresses: [{ family: 'inet', address: '10.64.7.1', netmask: '24', scope: 'global' }],
            hwaddr: '00:16:3e:00:00:01',
            mtu: 1500,
            state: 'up',
            hostName: '',
            counters: { bytesReceived: 10, bytesSent: 20, packetsReceived: 1, packetsSent: 2 },
          },
        };
      case 'listNetworkLeases':
        this.network(str('name'));
        return { leases: (this.leases.get(str('name')) ?? []).map((l) => ({ ...l, expiresAtMs: 0 })) };
      case 'getResources':
        return { cpuCount: this.cpuCount, memoryTotalBytes: this.memoryTotal, memoryUsedBytes: 2 ** 30, pools: [], instanceCount: this.instances.length, runningInstanceCount: 0 };
      case 'getMemberInfo':
        return { hostname: this.member, architecture: 'x86_64', kernelVersion: '6.1.0', agentVersion: 'test', storageDrivers: ['dir', 'btrfs'], networkTypes: ['bridge'], instanceTypes: ['container'] };
      case 'listInstances':
        return { instances: this.instances.map((i) => ({ spec: { project: i.project, name: i.name }, status: { status: i.status, statusCode: i.status === 'Running' ? 103 : 102 } })) };
      case 'getInstanceState': {
        const i = this.instances.find((x) => x.project === str('project') && x.name === str('name'));
        if (!i) throw errors.notFound(`Instance "${str('name')}" not found`);
        return {
          state: {
            status: i.status,
            statusCode: i.status === 'Running' ? 103 : 102,
            pid: 0,
            processes: i.processes,
            cpu: { usageNs: i.cpuNs },
            memory: { usageBytes: i.memBytes, peakBytes: i.memBytes, limitBytes: i.memLimit },
            network: { eth0: { addresses: [], hwaddr: '', mtu: 1500, state: 'up', hostName: '', counters: { bytesReceived: i.rxBytes, bytesSent: i.txBytes, packetsReceived: 3, packetsSent: 4 } } },
            disk: { root: { usageBytes: 4096, totalBytes: 0 } },
          },
        };
      }
      default:
        throw new Error(`FakeAgentClient: ${method} is not faked`);
    }
  }

  private pool(name: string): { driver: string; config: Config; description: string } {
    const p = this.pools.get(name);
    if (!p) throw errors.notFound(`Storage pool "${name}" not found`);
    return p;
  }

  private volume(pool: string, name: string): { config: Config; snapshots: string[] } {
    const v = this.volumes.get(`${pool}/${name}`);
    if (!v) throw errors.notFound(`Storage volume "${name}" not found in pool "${pool}"`);
    return v;
  }

  private network(name: string): { config: Config; description: string } {
    const n = this.networks.get(name);
    if (!n) throw errors.notFound(`Network "${name}" not found`);
    return n;
  }
}

/** The port over a set of fake agents, one per member name. */
export class FakeMemberAgents implements MemberAgents {
  readonly agents = new Map<string, FakeAgentClient>();

  constructor(memberNames: readonly string[]) {
    for (const m of memberNames) this.agents.set(m, new FakeAgentClient(m));
  }

  agent(member: string): FakeAgentClient {
    const a = this.agents.get(member);
    if (!a) throw new Error(`no fake agent ${member}`);
    return a;
  }

  client(member: string): AgentClient {
    const a = this.agents.get(member);
    if (!a) throw errors.notFound(`Member "${member}" not found`);
    // The routes call only `unary`; the fake answers it with the same shapes (see the header).
    return a as unknown as AgentClient;
  }
}
