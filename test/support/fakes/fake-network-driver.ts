// FakeNetworkDriver: an in-memory NetworkDriver for unit tests of the service: networks and their
// DHCP/DNS host entries are map entries; a static IPv4 already held by another instance is refused
// (ALREADY_EXISTS), as the real driver's static leases are unique.
import type { NetworkDriver, NetworkHost } from '../../../src/node-agent/drivers/network-driver.js';
import type { ConfigMap, InterfaceState, NetworkLease, NetworkSpec } from '../../../src/node-agent/types.js';
import { errors } from './fake-deps.js';
import { FakeFailures } from './fake-failures.js';

export class FakeNetworkDriver implements NetworkDriver {
  readonly type = 'bridge' as const;
  readonly failures = new FakeFailures();
  readonly networks = new Map<string, ConfigMap>();
  /** network → instance → entries. */
  readonly hosts = new Map<string, Map<string, NetworkHost[]>>();
  readonly started: string[] = [];

  validate(spec: NetworkSpec): void {
    for (const k of Object.keys(spec.config)) {
      if (!k.startsWith('ipv4.') && !k.startsWith('dns.') && !k.startsWith('bridge.')) {
        throw errors.invalid(`Invalid network config key "${k}"`);
      }
    }
  }

  async create(spec: NetworkSpec, _signal: AbortSignal): Promise<ConfigMap> {
    this.failures.hit('create', spec.name);
    const effective = { 'ipv4.address': '10.173.99.1/24', 'ipv4.nat': 'true', ...spec.config };
    this.networks.set(spec.name, effective);
    this.hosts.set(spec.name, this.hosts.get(spec.name) ?? new Map());
    return effective;
  }

  async start(spec: NetworkSpec, _signal: AbortSignal): Promise<void> {
    this.failures.hit('start', spec.name);
    this.started.push(spec.name);
  }

  async stop(_name: string, _signal: AbortSignal): Promise<void> {}

  async update(spec: NetworkSpec, _signal: AbortSignal): Promise<void> {
    this.failures.hit('update', spec.name);
    this.networks.set(spec.name, spec.config);
  }

  async delete(name: string, _signal: AbortSignal): Promise<void> {
    this.failures.hit('delete', name);
    this.networks.delete(name);
    this.hosts.delete(name);
  }

  async state(name: string, _signal: AbortSignal): Promise<InterfaceState> {
    if (!this.networks.has(name)) throw errors.notFound(`Network "${name}" not found`);
    return {
      addresses: [],
      hwaddr: '00:00:00:00:00:00',
      mtu: 1500,
      state: 'up',
      hostName: name,
      counters: { bytesReceived: 0, bytesSent: 0, packetsReceived: 0, packetsSent: 0 },
    };
  }

  async leases(name: string, _signal: AbortSignal): Promise<readonly NetworkLease[]> {
    const out: NetworkLease[] = [];
    for (const [instance, entries] of this.hosts.get(name) ?? []) {
      for (const e of entries) if (e.ipv4) out.push({ hostname: instance, hwaddr: e.hwaddr, address: e.ipv4, type: 'static', expiresAt: 0 });
    }
    return out;
  }

  async addHost(name: string, host: NetworkHost, _signal: AbortSignal): Promise<void> {
    this.failures.hit('addHost', `${name}/${host.instance}`);
    const net = this.hosts.get(name);
    if (!net) throw errors.notFound(`Network "${name}" not found`);
    for (const [instance, entries] of net) {
      if (instance !== host.instance && host.ipv4 && entries.some((e) => e.ipv4 === host.ipv4)) {
        throw errors.exists(`Address "${host.ipv4}" on network "${name}" is used by "${instance}"`);
      }
    }
    const entries = (net.get(host.instance) ?? []).filter((e) => e.device !== host.device);
    net.set(host.instance, [...entries, host]);
  }

  async removeHost(name: string, instance: string, _signal: AbortSignal): Promise<void> {
    this.failures.hit('removeHost', `${name}/${instance}`);
    this.hosts.get(name)?.delete(instance);
  }

  /** `network/instance` pairs with entries. */
  hostKeys(): string[] {
    const out: string[] = [];
    for (const [net, m] of this.hosts) for (const i of m.keys()) out.push(`${net}/${i}`);
    return out.sort();
  }
}
