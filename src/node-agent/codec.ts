/**
 * Conversions between the service's domain values and the generated AgentService messages
 * (proto/gen, ts-proto). Pure; the server decodes requests and encodes responses only here.
 */
import { errors } from '../shared/index.js';
import * as pb from '../../proto/gen/shoal/agent/v1/agent.js';
import type { ImagePart } from './images/image-store.js';
import type {
  InstanceView,
  NetworkView,
  PoolResources,
  PoolView,
  RecordMeta,
  SnapshotRecord,
  VolumeView,
} from './local-records.js';
import type { FileInfo, PushFileSpec } from './service-exec-files.js';
import type { ImageDescription } from './service-images.js';
import type { InstanceStateView } from './service-instances.js';
import type { MemberInfo, MemberResources } from './service-member.js';
import { INSTANCE_STATUS_CODE, type ConfigMap, type DeviceMap, type ImageInfo, type InstanceSpec, type InterfaceState, type NetworkLease } from './types.js';

// ---- common ----

export function metaToPb(meta: RecordMeta): pb.Meta {
  return { revision: meta.revision, createdAt: new Date(meta.createdAt), updatedAt: new Date(meta.updatedAt) };
}

export function devicesFromPb(devices: Readonly<Record<string, pb.Device>>): DeviceMap {
  return Object.fromEntries(Object.entries(devices).map(([k, d]) => [k, { ...d.config }]));
}

export function devicesToPb(devices: DeviceMap): Record<string, pb.Device> {
  return Object.fromEntries(Object.entries(devices).map(([k, d]) => [k, { config: { ...d } }]));
}

export function interfaceStateToPb(s: InterfaceState): pb.InterfaceState {
  return {
    addresses: s.addresses.map((a) => ({ ...a })),
    hwaddr: s.hwaddr,
    mtu: s.mtu,
    state: s.state,
    hostName: s.hostName,
    counters: { ...s.counters },
  };
}

// ---- instances ----

/** The domain spec of a request's spec; INVALID_ARGUMENT when absent. */
export function specFromPb(spec: pb.InstanceSpec | undefined): InstanceSpec {
  if (!spec) throw errors.invalid('Missing instance spec');
  return {
    name: spec.name,
    project: spec.project || 'default',
    ephemeral: spec.ephemeral,
    config: { ...spec.config, ...(spec.description ? { 'user.description': spec.description } : {}) },
    devices: devicesFromPb(spec.devices),
  };
}

export function specToPb(spec: InstanceSpec, description = ''): pb.InstanceSpec {
  const config: Record<string, string> = { ...spec.config };
  delete config['user.description'];
  return {
    project: spec.project,
    name: spec.name,
    ephemeral: spec.ephemeral,
    config,
    devices: devicesToPb(spec.devices),
    description: description || (spec.config['user.description'] ?? ''),
  };
}

export function instanceToPb(v: InstanceView): pb.Instance {
  return {
    spec: specToPb(v.spec, v.description),
    status: {
      status: v.status.status,
      statusCode: v.status.statusCode,
      volatile: { ...v.status.volatile },
      storagePool: v.status.storagePool,
      imageFingerprint: v.status.imageFingerprint,
      hostName: v.status.hostName,
    },
    meta: metaToPb(v.meta),
  };
}

export function instanceStateToPb(s: InstanceStateView): pb.InstanceState {
  return {
    status: s.status,
    statusCode: INSTANCE_STATUS_CODE[s.status],
    pid: s.pid,
    processes: s.processes,
    cpu: { usageNs: s.cpu.usageNs },
    memory: { ...s.memory },
    network: Object.fromEntries(Object.entries(s.network).map(([k, v]) => [k, interfaceStateToPb(v)])),
    disk: Object.fromEntries(Object.entries(s.disk).map(([k, v]) => [k, { usageBytes: v.usageBytes, totalBytes: v.totalBytes }])),
  };
}

export function snapshotToPb(s: SnapshotRecord): pb.InstanceSnapshot {
  return { name: s.name, spec: specToPb(s.spec), createdAt: new Date(s.createdAt) };
}

// ---- storage and networks ----

export function poolToPb(p: PoolView): pb.StoragePool {
  return {
    spec: { name: p.spec.name, driver: p.spec.driver, config: { ...p.spec.config }, description: p.description },
    status: { status: 'Created', usedBy: [...p.usedBy] },
    meta: metaToPb(p.meta),
  };
}

export function poolResourcesToPb(r: PoolResources): pb.StoragePoolResources {
  return { name: r.name, driver: r.driver, totalBytes: r.totalBytes, usedBytes: r.usedBytes };
}

export function volumeToPb(v: VolumeView): pb.StorageVolume {
  return {
    spec: { pool: v.pool, name: v.name, config: { ...v.config }, description: v.description },
    status: { usedBy: [...v.usedBy], snapshots: [...v.snapshots], usedBytes: v.usedBytes },
    meta: metaToPb(v.meta),
  };
}

export function networkToPb(n: NetworkView): pb.Network {
  return {
    spec: { name: n.spec.name, type: n.spec.type, config: { ...n.spec.config }, description: n.description },
    status: { status: 'Created', usedBy: [...n.usedBy] },
    meta: metaToPb(n.meta),
  };
}

export function leaseToPb(l: NetworkLease): pb.NetworkLease {
  return { hostname: l.hostname, hwaddr: l.hwaddr, address: l.address, type: l.type, expiresAtMs: l.expiresAt };
}

// ---- images ----

export function imageFormatFromPb(f: pb.ImageFormat): 'unified' | 'split' {
  if (f === pb.ImageFormat.IMAGE_FORMAT_UNIFIED) return 'unified';
  if (f === pb.ImageFormat.IMAGE_FORMAT_SPLIT) return 'split';
  throw errors.invalid('Missing or unknown image format');
}

export function imagePartFromPb(p: pb.ImagePart): ImagePart {
  if (p === pb.ImagePart.IMAGE_PART_METADATA) return 'metadata';
  if (p === pb.ImagePart.IMAGE_PART_ROOTFS) return 'rootfs';
  throw errors.invalid('Missing or unknown image part');
}

export function imagePartToPb(p: ImagePart): pb.ImagePart {
  return p === 'metadata' ? pb.ImagePart.IMAGE_PART_METADATA : pb.ImagePart.IMAGE_PART_ROOTFS;
}

export function imageToPb(i: ImageInfo, parts: { readonly metadata: number; readonly rootfs: number }): pb.Image {
  return {
    fingerprint: i.fingerprint,
    format: i.format === 'unified' ? pb.ImageFormat.IMAGE_FORMAT_UNIFIED : pb.ImageFormat.IMAGE_FORMAT_SPLIT,
    architecture: i.architecture,
    createdAt: new Date(i.createdAt * 1000),
    properties: { ...i.properties },
    sizeBytes: i.sizeBytes,
    metadataSizeBytes: parts.metadata,
    rootfsSizeBytes: parts.rootfs,
  };
}

/** The proto image of a description. */
export function imageOf(d: ImageDescription): pb.Image {
  return imageToPb(d.info, d.parts);
}

// ---- member ----

export function memberInfoToPb(m: MemberInfo): pb.GetMemberInfoResponse {
  return {
    ...m,
    storageDrivers: [...m.storageDrivers],
    networkTypes: [...m.networkTypes],
    instanceTypes: [...m.instanceTypes],
  };
}

export function resourcesToPb(r: MemberResources): pb.GetResourcesResponse {
  return { ...r, pools: r.pools.map(poolResourcesToPb) };
}

// ---- files ----

const FILE_TYPE_TO_PB: Readonly<Record<FileInfo['type'], pb.FileType>> = {
  file: pb.FileType.FILE_TYPE_FILE,
  directory: pb.FileType.FILE_TYPE_DIRECTORY,
  symlink: pb.FileType.FILE_TYPE_SYMLINK,
};

export function fileHeaderToPb(f: FileInfo): pb.FileHeader {
  return {
    type: FILE_TYPE_TO_PB[f.type],
    uid: f.uid,
    gid: f.gid,
    mode: f.mode,
    size: f.size,
    entries: [...(f.entries ?? [])],
    target: f.target ?? '',
  };
}

export function pushSpecFromPb(h: pb.PushFileHeader): PushFileSpec {
  const type =
    h.type === pb.FileType.FILE_TYPE_DIRECTORY ? 'directory' : h.type === pb.FileType.FILE_TYPE_SYMLINK ? 'symlink' : 'file';
  if (!h.path) throw errors.invalid('Missing file path');
  if (type === 'symlink' && !h.target) throw errors.invalid(`Symlink "${h.path}" needs a target`);
  return {
    path: h.path,
    type,
    append: h.writeMode === pb.FileWriteMode.FILE_WRITE_MODE_APPEND,
    ...(h.uid === undefined ? {} : { uid: h.uid }),
    ...(h.gid === undefined ? {} : { gid: h.gid }),
    ...(h.mode === undefined ? {} : { mode: h.mode }),
    ...(type === 'symlink' ? { target: h.target } : {}),
  };
}

/** A config map from a proto map (copies, so the service owns it). */
export function configFromPb(m: Readonly<Record<string, string>>): ConfigMap {
  return { ...m };
}
