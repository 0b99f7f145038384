/**
 * Device resolution: an instance spec (LXD devices) → host objects the drivers understand
 * (InstanceRuntime), plus the volatile keys the agent decided (MAC addresses, veth names, idmap
 * base) and the DHCP/DNS entries its nics need. Pure apart from the lookups and randomness it
 * is given, so the rules are unit-tested without a host.
 */
import { isAbsolute } from 'node:path';
import { errors } from '../shared/index.js';
import type { NetworkHost } from './drivers/network-driver.js';
import type {
  ConfigMap,
  IdmapRange,
  InstanceRuntime,
  InstanceSpec,
  NetworkSpec,
  PoolSpec,
  ResolvedDisk,
  ResolvedNic,
  ResolvedUnixDevice,
} from './types.js';
import { parseByteSize } from '../shared/units.js';

/** What resolution may look up. */
export interface DeviceLookups {
  /** A pool on this member. */
  pool(name: string): PoolSpec | undefined;
  /** A managed network on this member. */
  network(name: string): NetworkSpec | undefined;
  /** The host path of a custom volume, or undefined when there is no such volume. */
  customVolumePath(pool: string, name: string): string | undefined;
  /** The host path of the instance's root volume on `pool`. */
  instanceVolumePath(pool: PoolSpec, hostName: string): string;
  /** Major/minor numbers of a host device node (for unix-* devices without major/minor keys). */
  deviceNumbers(hostPath: string): { readonly major: number; readonly minor: number } | undefined;
  /** `bytes` random bytes as lowercase hex. */
  randomHex(bytes: number): string;
  /** The idmap for unprivileged instances. */
  readonly idmap: IdmapRange;
  /** Prefix of generated host-side veth names (≤ 7 characters). */
  readonly vethPrefix: string;
}

/** A nic's entry on a managed network. */
export interface NetworkHostEntry {
  readonly network: string;
  readonly host: NetworkHost;
}

/** The outcome of {@link resolveDevices}. */
export interface ResolvedInstance {
  readonly runtime: InstanceRuntime;
  readonly pool: PoolSpec;
  /** Root disk `size`, if set. */
  readonly rootSizeBytes: number | undefined;
  /** Every volatile key the agent holds for the instance (existing ones kept, new ones generated). */
  readonly volatile: ConfigMap;
  readonly networkHosts: readonly NetworkHostEntry[];
  /** Managed networks the instance uses (for locking and in-use checks). */
  readonly networks: readonly string[];
}

/** LXD's MAC prefix (Xensource OUI) for generated addresses. */
const MAC_PREFIX = '00:16:3e';

/** True when a device is the root disk. */
export function isRootDisk(dev: ConfigMap): boolean {
  return dev['type'] === 'disk' && dev['path'] === '/';
}

/** The name and config of the root disk device, or undefined. */
export function findRootDisk(spec: InstanceSpec): [string, ConfigMap] | undefined {
  for (const [name, dev] of Object.entries(spec.devices)) if (isRootDisk(dev)) return [name, dev];
  return undefined;
}

/** Managed networks referenced by an instance's nics. */
export function managedNetworksOf(spec: InstanceSpec): string[] {
  const out = new Set<string>();
  for (const dev of Object.values(spec.devices)) {
    const net = dev['network'];
    if (dev['type'] === 'nic' && net) out.add(net);
  }
  return [...out].sort();
}

/** Custom volumes `[pool, name]` referenced by an instance's disk devices. */
export function customVolumesOf(spec: InstanceSpec): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const dev of Object.values(spec.devices)) {
    const pool = dev['pool'];
    const source = dev['source'];
    if (dev['type'] === 'disk' && !isRootDisk(dev) && pool && source) out.push([pool, source]);
  }
  return out;
}

/**
 * Resolves every device of `spec`. `existing` holds the volatile keys already decided for this
 * instance; keys in `spec.config` win over them (the leader persisted them). Throws
 * INVALID_ARGUMENT or NOT_FOUND naming the device and the missing object.
 */
export function resolveDevices(
  spec: InstanceSpec,
  hostName: string,
  existing: ConfigMap,
  look: DeviceLookups,
): ResolvedInstance {
  const volatile: Record<string, string> = {};
  const known = (key: string): string | undefined => spec.config[key] ?? existing[key];
  const remember = (key: string, make: () => string): string => {
    const v = known(key) ?? make();
    volatile[key] = v;
    return v;
  };

  const root = findRootDisk(spec);
  if (!root) throw errors.invalid(`Instance "${spec.name}" has no root disk device (a disk with path "/")`);
  const [rootName, rootDev] = root;
  const poolName = rootDev['pool'];
  if (!poolName) throw errors.invalid(`Root disk device "${rootName}" of instance "${spec.name}" has no pool`);
  const pool = look.pool(poolName);
  if (!pool) throw errors.notFound(`Storage pool "${poolName}" not found`);
  const sizeStr = rootDev['size'];
  const rootSizeBytes = sizeStr ? parseByteSize(sizeStr, `${rootName}.size`) : undefined;

  const nics: ResolvedNic[] = [];
  const disks: ResolvedDisk[] = [];
  const unixDevices: ResolvedUnixDevice[] = [];
  const networkHosts: NetworkHostEntry[] = [];
  const networks = new Set<string>();
  const ifnames = new Set<string>();

  for (const [device, dev] of Object.entries(spec.devices).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const type = dev['type'];
    switch (type) {
      case 'disk':
        if (device !== rootName) disks.push(resolveDisk(spec, device, dev, look));
        break;
      case 'nic': {
        const nic = resolveNic(spec, device, dev, look, remember);
        if (ifnames.has(nic.ifname)) throw errors.invalid(`Device "${device}": interface name "${nic.ifname}" is used twice`);
        ifnames.add(nic.ifname);
        nics.push(nic);
        const net = dev['network'];
        if (net) {
          networks.add(net);
          networkHosts.push({
            network: net,
            host: { instance: hostName, device, hwaddr: nic.hwaddr, ...(nic.ipv4 ? { ipv4: nic.ipv4 } : {}) },
          });
        }
        break;
      }
      case 'unix-char':
      case 'unix-block':
        unixDevices.push(resolveUnix(device, type, dev, look));
        break;
      case 'none':
        break;
      case undefined:
      default:
        throw errors.invalid(`Device "${device}" of instance "${spec.name}" has unsupported type "${type ?? ''}"`);
    }
  }

  const privileged = spec.config['security.privileged'] === 'true';
  let idmap: IdmapRange | null = null;
  if (!privileged) {
    const base = Number(remember('volatile.idmap.base', () => String(look.idmap.hostStart)));
    idmap = { hostStart: base, size: look.idmap.size };
  }

  return {
    runtime: {
      spec,
      hostName,
      volumePath: look.instanceVolumePath(pool, hostName),
      nics,
      disks,
      unixDevices,
      idmap,
    },
    pool,
    rootSizeBytes,
    volatile,
    networkHosts,
    networks: [...networks].sort(),
  };
}

function resolveNic(
  spec: InstanceSpec,
  device: string,
  dev: ConfigMap,
  look: DeviceLookups,
  remember: (key: string, make: () => string) => string,
): ResolvedNic {
  const ifname = dev['name'] ?? device;
  const network = dev['network'];
  const nictype = dev['nictype'];
  let kind: 'bridged' | 'macvlan';
  let parent: string;
  if (network) {
    if (nictype && nictype !== 'bridged') {
      throw errors.invalid(`Device "${device}": nictype "${nictype}" cannot be used with network "${network}"`);
    }
    const net = look.network(network);
    if (!net) throw errors.notFound(`Network "${network}" not found`);
    kind = 'bridged';
    parent = net.config['bridge.name'] ?? net.name;
  } else if (nictype === 'bridged' || nictype === 'macvlan') {
    const p = dev['parent'];
    if (!p) throw errors.invalid(`Device "${device}": nictype "${nictype}" needs a parent`);
    kind = nictype;
    parent = p;
  } else {
    throw errors.invalid(`Device "${device}" of instance "${spec.name}" needs a network or a nictype of bridged or macvlan`);
  }
  const ipv4 = dev['ipv4.address'];
  if (ipv4 && !network) throw errors.invalid(`Device "${device}": ipv4.address needs a managed network`);
  if (ipv4 && !/^\d{1,3}(\.\d{1,3}){3}$/.test(ipv4)) throw errors.invalid(`Device "${device}": invalid ipv4.address "${ipv4}"`);
  const hwaddr = dev['hwaddr'] ?? remember(`volatile.${device}.hwaddr`, () => generateMac(look));
  const mtuStr = dev['mtu'];
  const mtu = mtuStr === undefined ? undefined : Number(mtuStr);
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < 576 || mtu > 65535)) {
    throw errors.invalid(`Device "${device}": invalid mtu "${mtuStr ?? ''}"`);
  }
  const nic: ResolvedNic = {
    device,
    ifname,
    kind,
    parent,
    hwaddr,
    ...(mtu === undefined ? {} : { mtu }),
    ...(ipv4 ? { ipv4 } : {}),
    ...(kind === 'bridged'
      ? { hostName: remember(`volatile.${device}.host_name`, () => `${look.vethPrefix}${look.randomHex(4)}`) }
      : {}),
  };
  return nic;
}

function resolveDisk(spec: InstanceSpec, device: string, dev: ConfigMap, look: DeviceLookups): ResolvedDisk {
  const path = dev['path'];
  const source = dev['source'];
  if (!path || !isAbsolute(path)) throw errors.invalid(`Device "${device}" of instance "${spec.name}" needs an absolute path`);
  if (!source) throw errors.invalid(`Device "${device}" of instance "${spec.name}" needs a source`);
  const pool = dev['pool'];
  let hostPath: string;
  if (pool) {
    if (!look.pool(pool)) throw errors.notFound(`Storage pool "${pool}" not found`);
    const p = look.customVolumePath(pool, source);
    if (!p) throw errors.notFound(`Storage volume "${source}" not found in pool "${pool}"`);
    hostPath = p;
  } else {
    if (!isAbsolute(source)) throw errors.invalid(`Device "${device}": source "${source}" must be an absolute host path`);
    hostPath = source;
  }
  // Custom volumes are idmapped like the rootfs (LXD shifts them); host paths follow `shift`.
  return { device, path, source: hostPath, readonly: dev['readonly'] === 'true', ...(pool ? { shift: true } : {}) };
}

function resolveUnix(
  device: string,
  kind: 'unix-char' | 'unix-block',
  dev: ConfigMap,
  look: DeviceLookups,
): ResolvedUnixDevice {
  const source = dev['source'];
  const path = dev['path'] ?? source;
  if (!path || !isAbsolute(path)) throw errors.invalid(`Device "${device}" needs an absolute path or source`);
  let major = intKey(device, dev, 'major');
  let minor = intKey(device, dev, 'minor');
  if (major === undefined || minor === undefined) {
    const nums = source ? look.deviceNumbers(source) : undefined;
    if (!nums) throw errors.invalid(`Device "${device}": needs major and minor, or an existing host source`);
    major ??= nums.major;
    minor ??= nums.minor;
  }
  const modeStr = dev['mode'] ?? '0660';
  if (!/^[0-7]{3,4}$/.test(modeStr)) throw errors.invalid(`Device "${device}": invalid mode "${modeStr}"`);
  return {
    device,
    kind,
    path,
    major,
    minor,
    uid: intKey(device, dev, 'uid') ?? 0,
    gid: intKey(device, dev, 'gid') ?? 0,
    mode: parseInt(modeStr, 8),
  };
}

function intKey(device: string, dev: ConfigMap, key: string): number | undefined {
  const v = dev[key];
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw errors.invalid(`Device "${device}": invalid ${key} "${v}"`);
  return Number(v);
}

function generateMac(look: DeviceLookups): string {
  const hex = look.randomHex(3);
  return `${MAC_PREFIX}:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
}
