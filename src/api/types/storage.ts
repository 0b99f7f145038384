/** `/1.0/storage-pools` and volumes (shared/api/storage_pool.go, storage_pool_volume.go, resource.go). */
import { Type, type Static } from 'typebox';
import { NStringMap, Nullable, STRICT, StringList, StringMap, Timestamp } from './common.js';

/** `PUT|PATCH /1.0/storage-pools/<name>` (with `?target=` for member-specific keys such as `source`). */
export const StoragePoolPut = Type.Partial(Type.Object({ config: NStringMap, description: Type.String() }), STRICT);
export type StoragePoolPut = Static<typeof StoragePoolPut>;

/** `POST /1.0/storage-pools` (per-member pending creation with `?target=`, then a final POST without). */
export const StoragePoolsPost = Type.Object(
  { ...StoragePoolPut.properties, name: Type.String(), driver: Type.String() },
  STRICT,
);
export type StoragePoolsPost = Static<typeof StoragePoolsPost>;

/** A storage pool. `status` is "Created", "Pending", "Errored" or "Unknown". */
export const StoragePool = Type.Object({
  config: StringMap,
  description: Type.String(),
  name: Type.String(),
  driver: Type.String(),
  used_by: StringList,
  status: Type.String(),
  locations: StringList,
});
export type StoragePool = Static<typeof StoragePool>;

/** `PUT|PATCH …/volumes/<type>/<name>`. `restore` names a snapshot to restore. */
export const StorageVolumePut = Type.Partial(
  Type.Object({ config: NStringMap, description: Type.String(), restore: Type.String() }),
  STRICT,
);
export type StorageVolumePut = Static<typeof StorageVolumePut>;

/** `source` of a volume creation (copy or migration). */
export const StorageVolumeSource = Type.Partial(
  Type.Object({
    name: Type.String(),
    type: Type.String(),
    pool: Type.String(),
    certificate: Type.String(),
    mode: Type.String(),
    operation: Type.String(),
    secrets: NStringMap,
    volume_only: Type.Boolean(),
    refresh: Type.Boolean(),
    project: Type.String(),
    location: Type.String(),
  }),
  STRICT,
);
export type StorageVolumeSource = Static<typeof StorageVolumeSource>;

/** `POST /1.0/storage-pools/<pool>/volumes[/<type>]`. `content_type`: "filesystem" or "block". */
export const StorageVolumesPost = Type.Object(
  {
    config: Type.Optional(NStringMap),
    description: Type.Optional(Type.String()),
    name: Type.String(),
    type: Type.Optional(Type.String()),
    source: Type.Optional(StorageVolumeSource),
    content_type: Type.Optional(Type.String()),
  },
  STRICT,
);
export type StorageVolumesPost = Static<typeof StorageVolumesPost>;

/** Migration target of a volume POST. */
export const StorageVolumePostTarget = Type.Partial(
  Type.Object({ certificate: Type.String(), operation: Type.String(), secrets: NStringMap }),
  STRICT,
);

/** `POST …/volumes/<type>/<name>`: rename, move to another pool, or migrate. */
export const StorageVolumePost = Type.Partial(
  Type.Object({
    name: Type.String(),
    pool: Type.String(),
    migration: Type.Boolean(),
    target: Nullable(StorageVolumePostTarget),
    volume_only: Type.Boolean(),
    project: Type.String(),
  }),
  STRICT,
);
export type StorageVolumePost = Static<typeof StorageVolumePost>;

/** A volume. `type`: "custom", "container", "image"; `location` is the member for local pools. */
export const StorageVolume = Type.Object({
  config: StringMap,
  description: Type.String(),
  name: Type.String(),
  type: Type.String(),
  used_by: StringList,
  location: Type.String(),
  content_type: Type.String(),
  project: Type.String(),
  created_at: Timestamp,
});
export type StorageVolume = Static<typeof StorageVolume>;

/** `GET /1.0/storage-pools/<name>/resources` (bytes and inodes). */
export const ResourcesStoragePool = Type.Object({
  space: Type.Object({ used: Type.Optional(Type.Integer()), total: Type.Integer() }),
  inodes: Type.Object({ used: Type.Integer(), total: Type.Integer() }),
});
export type ResourcesStoragePool = Static<typeof ResourcesStoragePool>;

/** `POST …/volumes/<type>/<name>/snapshots`. */
export const StorageVolumeSnapshotsPost = Type.Object(
  { name: Type.Optional(Type.String()), expires_at: Type.Optional(Nullable(Timestamp)) },
  STRICT,
);
export type StorageVolumeSnapshotsPost = Static<typeof StorageVolumeSnapshotsPost>;

/** A custom volume snapshot (shared/api/storage_pool_volume_snapshot.go). */
export const StorageVolumeSnapshot = Type.Object({
  name: Type.String(),
  description: Type.String(),
  config: StringMap,
  content_type: Type.String(),
  created_at: Timestamp,
  expires_at: Nullable(Timestamp),
});
export type StorageVolumeSnapshot = Static<typeof StorageVolumeSnapshot>;
