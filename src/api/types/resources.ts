/**
 * `GET /1.0/resources` (shared/api/resource.go): the host's hardware inventory. The top level and
 * the parts Shoal fills (CPU, memory, storage, network cards, system) are typed; GPU, USB and PCI
 * device lists are typed loosely (objects with LXD's keys) because Shoal reports them empty.
 */
import { Type, type Static } from 'typebox';
import { Nullable, StringList } from './common.js';

const Loose = Type.Record(Type.String(), Type.Unknown());

export const ResourcesCPUThread = Type.Object({
  id: Type.Integer(),
  numa_node: Type.Integer(),
  thread: Type.Integer(),
  online: Type.Boolean(),
  isolated: Type.Boolean(),
});
export const ResourcesCPUCore = Type.Object({
  core: Type.Integer(),
  die: Type.Integer(),
  threads: Type.Array(ResourcesCPUThread),
  frequency: Type.Optional(Type.Integer()),
});
export const ResourcesCPUCache = Type.Object({ level: Type.Integer(), type: Type.String(), size: Type.Integer() });
export const ResourcesCPUSocket = Type.Object({
  name: Type.Optional(Type.String()),
  vendor: Type.Optional(Type.String()),
  socket: Type.Integer(),
  cache: Type.Optional(Type.Array(ResourcesCPUCache)),
  cores: Type.Array(ResourcesCPUCore),
  frequency: Type.Optional(Type.Integer()),
  frequency_minimum: Type.Optional(Type.Integer()),
  frequency_turbo: Type.Optional(Type.Integer()),
});
export const ResourcesCPU = Type.Object({
  architecture: Type.String(),
  sockets: Type.Array(ResourcesCPUSocket),
  total: Type.Integer(),
});

export const ResourcesMemoryNode = Type.Object({
  numa_node: Type.Integer(),
  hugepages_used: Type.Integer(),
  hugepages_total: Type.Integer(),
  used: Type.Integer(),
  total: Type.Integer(),
});
export const ResourcesMemory = Type.Object({
  nodes: Type.Optional(Type.Array(ResourcesMemoryNode)),
  hugepages_total: Type.Integer(),
  hugepages_used: Type.Integer(),
  hugepages_size: Type.Integer(),
  used: Type.Integer(),
  total: Type.Integer(),
});

export const ResourcesStorageDiskPartition = Type.Object({
  id: Type.String(),
  device: Type.String(),
  read_only: Type.Boolean(),
  size: Type.Integer(),
  partition: Type.Integer(),
});
export const ResourcesStorageDisk = Type.Object({
  id: Type.String(),
  device: Type.String(),
  model: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  read_only: Type.Boolean(),
  size: Type.Integer(),
  removable: Type.Boolean(),
  wwn: Type.Optional(Type.String()),
  numa_node: Type.Integer(),
  device_path: Type.Optional(Type.String()),
  block_size: Type.Integer(),
  firmware_version: Type.Optional(Type.String()),
  rpm: Type.Integer(),
  serial: Type.Optional(Type.String()),
  device_id: Type.Optional(Type.String()),
  partitions: Type.Array(ResourcesStorageDiskPartition),
});
export const ResourcesStorage = Type.Object({ disks: Type.Array(ResourcesStorageDisk), total: Type.Integer() });

export const ResourcesNetworkCardPort = Type.Object({
  id: Type.String(),
  address: Type.Optional(Type.String()),
  port: Type.Integer(),
  protocol: Type.String(),
  supported_modes: Type.Optional(StringList),
  supported_ports: Type.Optional(StringList),
  port_type: Type.Optional(Type.String()),
  transceiver_type: Type.Optional(Type.String()),
  auto_negotiation: Type.Boolean(),
  link_detected: Type.Boolean(),
  link_speed: Type.Optional(Type.Integer()),
  link_duplex: Type.Optional(Type.String()),
});
export const ResourcesNetworkCard = Type.Object({
  driver: Type.Optional(Type.String()),
  driver_version: Type.Optional(Type.String()),
  ports: Type.Optional(Type.Array(ResourcesNetworkCardPort)),
  numa_node: Type.Integer(),
  pci_address: Type.Optional(Type.String()),
  vendor: Type.Optional(Type.String()),
  vendor_id: Type.Optional(Type.String()),
  product: Type.Optional(Type.String()),
  product_id: Type.Optional(Type.String()),
});
export const ResourcesNetwork = Type.Object({ cards: Type.Array(ResourcesNetworkCard), total: Type.Integer() });

export const ResourcesGPU = Type.Object({ cards: Type.Array(Loose), total: Type.Integer() });
export const ResourcesUSB = Type.Object({ devices: Type.Array(Loose), total: Type.Integer() });
export const ResourcesPCI = Type.Object({ devices: Type.Array(Loose), total: Type.Integer() });

export const ResourcesSystem = Type.Object({
  uuid: Type.String(),
  vendor: Type.String(),
  product: Type.String(),
  family: Type.String(),
  version: Type.String(),
  sku: Type.String(),
  serial: Type.String(),
  type: Type.String(),
  firmware: Nullable(Loose),
  chassis: Nullable(Loose),
  motherboard: Nullable(Loose),
});

/** The whole inventory of one member (`?target=` picks the member). */
export const Resources = Type.Object({
  cpu: ResourcesCPU,
  memory: ResourcesMemory,
  gpu: ResourcesGPU,
  network: ResourcesNetwork,
  storage: ResourcesStorage,
  usb: ResourcesUSB,
  pci: ResourcesPCI,
  system: ResourcesSystem,
});
export type Resources = Static<typeof Resources>;
