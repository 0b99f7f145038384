/** `/1.0/instances` (shared/api/instance.go). */
import { Type, type Static } from 'typebox';
import { DeviceMap, NDeviceMap, NStringList, NStringMap, Nullable, STRICT, StringList, StringMap, Timestamp } from './common.js';
import { InstanceState } from './instance-state.js';
import { InstanceSnapshot } from './instance-snapshot.js';
import { InstancePostTarget } from './migration.js';

/** Instance types (`type`). Shoal runs containers only; "" means "container". */
export const InstanceType = { Any: '', Container: 'container', VirtualMachine: 'virtual-machine' } as const;
export type InstanceType = (typeof InstanceType)[keyof typeof InstanceType];

/** The user-editable part of an instance, as returned (PUT body is {@link InstancePut}). */
const instancePutFields = {
  architecture: Type.String(),
  config: StringMap,
  devices: DeviceMap,
  ephemeral: Type.Boolean(),
  profiles: StringList,
  stateful: Type.Boolean(),
  description: Type.String(),
};

/** `PUT|PATCH /1.0/instances/<name>`. `restore` names a snapshot to restore (async). */
export const InstancePut = Type.Partial(
  Type.Object({
    architecture: Type.String(),
    config: NStringMap,
    devices: NDeviceMap,
    ephemeral: Type.Boolean(),
    profiles: NStringList,
    restore: Type.String(),
    stateful: Type.Boolean(),
    description: Type.String(),
  }),
  STRICT,
);
export type InstancePut = Static<typeof InstancePut>;

/** An instance. `expanded_*` are config/devices after profile expansion; `location` is the member. */
export const Instance = Type.Object({
  ...instancePutFields,
  created_at: Timestamp,
  expanded_config: StringMap,
  expanded_devices: DeviceMap,
  name: Type.String(),
  status: Type.String(),
  status_code: Type.Integer(),
  last_used_at: Timestamp,
  location: Type.String(),
  type: Type.String(),
  project: Type.String(),
});
export type Instance = Static<typeof Instance>;

/** A backup (only listed in {@link InstanceFull}; Shoal has no backups yet, so the list is empty). */
export const InstanceBackup = Type.Object({
  name: Type.String(),
  created_at: Timestamp,
  expires_at: Timestamp,
  instance_only: Type.Boolean(),
  container_only: Type.Boolean(),
  optimized_storage: Type.Boolean(),
});
export type InstanceBackup = Static<typeof InstanceBackup>;

/** `GET /1.0/instances?recursion=2` (`container_full`): instance plus state, snapshots and backups. */
export const InstanceFull = Type.Object({
  ...Instance.properties,
  backups: Type.Array(InstanceBackup),
  state: Nullable(InstanceState),
  snapshots: Type.Array(InstanceSnapshot),
});
export type InstanceFull = Static<typeof InstanceFull>;

/** Source types of `POST /1.0/instances`. */
export const InstanceSourceType = { Image: 'image', None: 'none', Copy: 'copy', Migration: 'migration' } as const;
export type InstanceSourceType = (typeof InstanceSourceType)[keyof typeof InstanceSourceType];

/** `source` of `POST /1.0/instances` (image, none, copy, migration). */
export const InstanceSource = Type.Partial(
  Type.Object({
    type: Type.String(),
    certificate: Type.String(),
    alias: Type.String(),
    fingerprint: Type.String(),
    properties: NStringMap,
    server: Type.String(),
    secret: Type.String(),
    protocol: Type.String(),
    'base-image': Type.String(),
    mode: Type.String(),
    operation: Type.String(),
    secrets: NStringMap,
    source: Type.String(),
    live: Type.Boolean(),
    instance_only: Type.Boolean(),
    container_only: Type.Boolean(),
    refresh: Type.Boolean(),
    project: Type.String(),
    allow_inconsistent: Type.Boolean(),
  }),
  STRICT,
);
export type InstanceSource = Static<typeof InstanceSource>;

/**
 * `POST /1.0/instances`. `profiles: null` means "the image's profiles or default"; `[]` means none.
 * `instance_type` is a cloud-style size ("c2-m4", "t2.micro").
 */
export const InstancesPost = Type.Object(
  {
    ...InstancePut.properties,
    name: Type.Optional(Type.String()),
    source: InstanceSource,
    instance_type: Type.Optional(Type.String()),
    /** Start the instance once created (`instance_create_start`). */
    start: Type.Optional(Type.Boolean()),
    type: Type.Optional(Type.Union([Type.Literal(''), Type.Literal('container'), Type.Literal('virtual-machine')])),
  },
  STRICT,
);
export type InstancesPost = Static<typeof InstancesPost>;


/**
 * `POST /1.0/instances/<name>`: rename (`name`) or move (`migration: true`, with `?target=` for
 * another member). lxc 5.0.9 also sends untagged `Config`, `Devices` and `Profiles` (capitalised:
 * the Go fields have no json tags), so they are accepted here.
 */
export const InstancePost = Type.Partial(
  Type.Object({
    name: Type.String(),
    migration: Type.Boolean(),
    live: Type.Boolean(),
    instance_only: Type.Boolean(),
    container_only: Type.Boolean(),
    target: Nullable(InstancePostTarget),
    pool: Type.String(),
    project: Type.String(),
    allow_inconsistent: Type.Boolean(),
    Config: NStringMap,
    Devices: NDeviceMap,
    Profiles: NStringList,
  }),
  STRICT,
);
export type InstancePost = Static<typeof InstancePost>;
