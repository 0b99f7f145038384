/**
 * The node agent's domain vocabulary, shared by its drivers and its service. Config and devices
 * keep LXD's shapes (flat string maps) so that what the API stores is what the agent receives.
 */
import { join } from 'node:path';

/** An LXD-style flat config map (`limits.memory: "256MiB"`). */
export type ConfigMap = Readonly<Record<string, string>>;
/** An LXD-style device map: device name → `{ type: "nic", network: "shoalbr0", … }`. */
export type DeviceMap = Readonly<Record<string, ConfigMap>>;

/** Where a member keeps its host state (ARCHITECTURE "Where state lives on a member"). */
export interface AgentPaths {
  readonly stateDir: string;
  /** Content-addressed image files: `<images>/<fingerprint>` (+ `.rootfs` for split images). */
  readonly images: string;
  /** One directory per storage pool (dir pools keep data there; btrfs pools mount there). */
  readonly storagePools: string;
  /** The LXC path (`lxc-* -P`): one directory per instance with its `config` and logs. */
  readonly containers: string;
  /** One directory per network: dnsmasq config, hosts, leases, pid. */
  readonly networks: string;
  readonly logs: string;
  /** The agent's local database (idempotency ledger, local records). */
  readonly agentDb: string;
}

/** The standard layout under a state dir. */
export function agentPaths(stateDir: string): AgentPaths {
  return {
    stateDir,
    images: join(stateDir, 'images'),
    storagePools: join(stateDir, 'storage-pools'),
    containers: join(stateDir, 'containers'),
    networks: join(stateDir, 'networks'),
    logs: join(stateDir, 'logs'),
    agentDb: join(stateDir, 'agent-db'),
  };
}

/** The host-level name of an instance: LXD's `<project>_<name>` outside the default project. */
export function hostInstanceName(project: string, name: string): string {
  return project === 'default' ? name : `${project}_${name}`;
}

/** Desired state of an instance as the leader sends it: config and devices already expanded from profiles. */
export interface InstanceSpec {
  readonly name: string;
  readonly project: string;
  readonly ephemeral: boolean;
  /** Expanded config: limits.*, security.*, environment.*, raw.lxc, boot.*, cloud-init.*, user.*, volatile.* … */
  readonly config: ConfigMap;
  /** Expanded devices (root disk, nics, disks, unix-char, unix-block). */
  readonly devices: DeviceMap;
}

export const InstanceStatus = {
  Running: 'Running',
  Stopped: 'Stopped',
  Frozen: 'Frozen',
  Error: 'Error',
} as const;
export type InstanceStatus = (typeof InstanceStatus)[keyof typeof InstanceStatus];

/** LXD's status codes (shared/api/status_code.go). */
export const INSTANCE_STATUS_CODE: Readonly<Record<InstanceStatus, number>> = {
  Running: 103,
  Stopped: 102,
  Frozen: 110,
  Error: 112,
};

export interface NetworkAddress {
  readonly family: 'inet' | 'inet6';
  readonly address: string;
  readonly netmask: string;
  readonly scope: 'global' | 'link' | 'local';
}

export interface InterfaceState {
  readonly addresses: readonly NetworkAddress[];
  readonly hwaddr: string;
  readonly mtu: number;
  readonly state: 'up' | 'down';
  /** The host side of a veth pair, if any. */
  readonly hostName: string;
  readonly counters: {
    readonly bytesReceived: number;
    readonly bytesSent: number;
    readonly packetsReceived: number;
    readonly packetsSent: number;
  };
}

/** Observed state of an instance (LXD `InstanceState`). */
export interface InstanceState {
  readonly status: InstanceStatus;
  /** Host pid of the instance's init, 0 when stopped. */
  readonly pid: number;
  readonly processes: number;
  readonly cpu: { readonly usageNs: number };
  readonly memory: { readonly usageBytes: number; readonly peakBytes: number; readonly limitBytes: number };
  /** Keyed by interface name inside the instance. */
  readonly network: Readonly<Record<string, InterfaceState>>;
  /** Keyed by disk device name (at least `root`). */
  readonly disk: Readonly<Record<string, { readonly usageBytes: number }>>;
}

/** A uid/gid mapping for an unprivileged instance: container ids [0, size) ↔ host ids [hostStart, hostStart+size). */
export interface IdmapRange {
  readonly hostStart: number;
  readonly size: number;
}

/** A nic device resolved by the service to host objects. */
export interface ResolvedNic {
  /** The device name in the instance's devices map. */
  readonly device: string;
  /** Interface name inside the instance (device key `name`, default the device name). */
  readonly ifname: string;
  readonly kind: 'bridged' | 'macvlan';
  /** The host bridge (bridged) or parent interface (macvlan). */
  readonly parent: string;
  /** The MAC address (from `volatile.<dev>.hwaddr`, generated once and kept). */
  readonly hwaddr: string;
  readonly mtu?: number;
  /** Static IPv4 address (device key `ipv4.address`), served by the network's DHCP. */
  readonly ipv4?: string;
  /** Host-side veth name (bridged): `veth` + a stable suffix, ≤ 15 characters. */
  readonly hostName?: string;
}

/** A disk device resolved to a host path (the root disk is not in this list). */
export interface ResolvedDisk {
  readonly device: string;
  /** Absolute path inside the instance. */
  readonly path: string;
  /** Absolute host path to bind-mount (a host directory/file or a custom volume's path). */
  readonly source: string;
  readonly readonly: boolean;
}

/** A unix-char or unix-block device. */
export interface ResolvedUnixDevice {
  readonly device: string;
  readonly kind: 'unix-char' | 'unix-block';
  /** Path inside the instance. */
  readonly path: string;
  readonly major: number;
  readonly minor: number;
  readonly uid: number;
  readonly gid: number;
  /** Octal permission bits, e.g. 0o660. */
  readonly mode: number;
}

/** Everything the instance driver needs to render and run an instance. */
export interface InstanceRuntime {
  readonly spec: InstanceSpec;
  /** Host name of the instance (see hostInstanceName): the LXC container name. */
  readonly hostName: string;
  /** The instance volume's mount path; the root filesystem is `<volumePath>/rootfs`. */
  readonly volumePath: string;
  readonly nics: readonly ResolvedNic[];
  readonly disks: readonly ResolvedDisk[];
  readonly unixDevices: readonly ResolvedUnixDevice[];
  /** Null for privileged instances (`security.privileged=true`). */
  readonly idmap: IdmapRange | null;
}

/** Reference to a storage volume on a pool. */
export interface VolumeRef {
  readonly type: 'container' | 'image' | 'custom';
  /** Host instance name, image fingerprint, or custom volume name. */
  readonly name: string;
}

/** A storage pool as configured for this member. */
export interface PoolSpec {
  readonly name: string;
  readonly driver: string;
  /** source, size, btrfs.mount_options, … (per-member keys already resolved). */
  readonly config: ConfigMap;
}

/** A network as configured for this member. */
export interface NetworkSpec {
  readonly name: string;
  readonly type: 'bridge';
  /** ipv4.address (CIDR, "auto" or "none"), ipv4.nat, ipv4.dhcp, ipv4.dhcp.ranges, dns.domain, bridge.mtu, … */
  readonly config: ConfigMap;
}

/** A DHCP lease as dnsmasq reports it (LXD `NetworkLease`). */
export interface NetworkLease {
  readonly hostname: string;
  readonly hwaddr: string;
  readonly address: string;
  readonly type: 'dynamic' | 'static';
  /** Epoch ms; 0 for infinite/static. */
  readonly expiresAt: number;
}

/** An image's identity and properties (from metadata.yaml). */
export interface ImageInfo {
  /** SHA-256, lowercase hex (LXD: of the unified tarball, or of metadata ‖ rootfs for split images). */
  readonly fingerprint: string;
  readonly format: 'unified' | 'split';
  readonly architecture: string;
  /** Epoch seconds from metadata.yaml `creation_date`. */
  readonly createdAt: number;
  readonly properties: ConfigMap;
  /** Total bytes of the stored file(s). */
  readonly sizeBytes: number;
}
