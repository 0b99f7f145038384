/** `/1.0/instances/<name>/snapshots` (shared/api/instance_snapshot.go). */
import { Type, type Static } from 'typebox';
import { DeviceMap, Nullable, STRICT, StringList, StringMap, Timestamp } from './common.js';
import { InstancePostTarget } from './migration.js';

/** `POST /1.0/instances/<name>/snapshots` (async). */
export const InstanceSnapshotsPost = Type.Object(
  {
    name: Type.Optional(Type.String()),
    stateful: Type.Optional(Type.Boolean()),
    expires_at: Type.Optional(Nullable(Timestamp)),
  },
  STRICT,
);
export type InstanceSnapshotsPost = Static<typeof InstanceSnapshotsPost>;

/** `POST /1.0/instances/<name>/snapshots/<snap>`: rename or migrate (async). */
export const InstanceSnapshotPost = Type.Partial(
  Type.Object({
    name: Type.String(),
    migration: Type.Boolean(),
    target: Nullable(InstancePostTarget),
    live: Type.Boolean(),
  }),
  STRICT,
);
export type InstanceSnapshotPost = Static<typeof InstanceSnapshotPost>;

/** `PUT|PATCH /1.0/instances/<name>/snapshots/<snap>` (async). */
export const InstanceSnapshotPut = Type.Partial(Type.Object({ expires_at: Timestamp }), STRICT);
export type InstanceSnapshotPut = Static<typeof InstanceSnapshotPut>;

/** A snapshot. `name` is the snapshot's own name (without `<instance>/`). */
export const InstanceSnapshot = Type.Object({
  expires_at: Timestamp,
  architecture: Type.String(),
  config: StringMap,
  created_at: Timestamp,
  devices: DeviceMap,
  ephemeral: Type.Boolean(),
  expanded_config: StringMap,
  expanded_devices: DeviceMap,
  last_used_at: Timestamp,
  name: Type.String(),
  profiles: StringList,
  stateful: Type.Boolean(),
  size: Type.Integer(),
});
export type InstanceSnapshot = Static<typeof InstanceSnapshot>;
