/**
 * The serving member's own interfaces, which LXD lists beside managed networks as unmanaged
 * (`managed: false`) with a type read from sysfs. Read-only: /sys/class/net and Node's
 * os.networkInterfaces(); nothing is changed on the host.
 */
import { access, readFile, readdir } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { errors } from '../../shared/index.js';
import type { NetworkState } from '../types/index.js';

const SYS = '/sys/class/net';

/** An interface of this host. */
export interface HostInterface {
  readonly name: string;
  /** LXD's unmanaged types: loopback, bridge, bond, vlan, physical, unknown. */
  readonly type: string;
}

const exists = (p: string): Promise<boolean> => access(p).then(
  () => true,
  () => false,
);

async function typeOf(name: string): Promise<string> {
  if (name === 'lo') return 'loopback';
  if (await exists(join(SYS, name, 'bridge'))) return 'bridge';
  if (await exists(join(SYS, name, 'bonding'))) return 'bond';
  if (await exists(join('/proc/net/vlan', name))) return 'vlan';
  if (await exists(join(SYS, name, 'device'))) return 'physical';
  return 'unknown';
}

/** Interfaces of this host, sorted by name. */
export async function listHostInterfaces(): Promise<HostInterface[]> {
  const names = (await readdir(SYS)).sort();
  return Promise.all(names.map(async (name) => ({ name, type: await typeOf(name) })));
}

/** The interface named `name`, or undefined. */
export async function findHostInterface(name: string): Promise<HostInterface | undefined> {
  if (!/^[A-Za-z0-9_.@:-]{1,15}$/.test(name) || !(await exists(join(SYS, name)))) return undefined;
  return { name, type: await typeOf(name) };
}

async function readNumber(path: string): Promise<number> {
  const text = await readFile(path, 'utf8').catch(() => '0');
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : 0;
}

/** LXD's NetworkState of a host interface. NOT_FOUND when there is no such interface. */
export async function hostInterfaceState(name: string): Promise<NetworkState> {
  const iface = await findHostInterface(name);
  if (!iface) throw errors.notFound(`Network "${name}" not found`);
  const dir = join(SYS, name);
  const addrs = networkInterfaces()[name] ?? [];
  const operstate = (await readFile(join(dir, 'operstate'), 'utf8').catch(() => 'unknown')).trim();
  const flags = await readNumber(join(dir, 'flags'));
  return {
    addresses: addrs.map((a) => ({
      family: a.family === 'IPv4' ? 'inet' : 'inet6',
      address: a.address,
      netmask: a.cidr ? (a.cidr.split('/')[1] ?? '') : a.netmask,
      scope: a.internal ? 'local' : a.address.startsWith('fe80') ? 'link' : 'global',
    })),
    counters: {
      bytes_received: await readNumber(join(dir, 'statistics/rx_bytes')),
      bytes_sent: await readNumber(join(dir, 'statistics/tx_bytes')),
      packets_received: await readNumber(join(dir, 'statistics/rx_packets')),
      packets_sent: await readNumber(join(dir, 'statistics/tx_packets')),
    },
    hwaddr: (await readFile(join(dir, 'address'), 'utf8').catch(() => '')).trim(),
    mtu: await readNumber(join(dir, 'mtu')),
    // IFF_UP is bit 0 of the flags; operstate is "unknown" for lo and some virtual links.
    state: operstate === 'up' || (flags & 1) === 1 ? 'up' : 'down',
    type: iface.type === 'loopback' ? 'loopback' : 'broadcast',
    bond: null,
    bridge: null,
    vlan: null,
    ovn: null,
  };
}
