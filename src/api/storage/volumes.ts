/**
 * Custom storage volumes of local pools (LXD lxd/storage_volumes.go): a volume lives on one member
 * (`location`), the same name may exist on several members (`?target=` picks one). The database
 * holds the records; the member's node agent holds the data. What the agents implement bounds
 * what is offered: empty filesystem volumes with an optional `size`, snapshots and restore.
 */
import { errors } from '../../shared/index.js';
import { instances, profiles, storagePoolMembers, storageVolumes, type StateView, type StorageVolumeRecord, type WriteTx } from '../../state/index.js';
import type { StorageVolume } from '../types/index.js';

type Reader = StateView | WriteTx;

/** Volume keys the agents implement (besides `user.*`). */
const VOLUME_KEYS = ['size'];

/** INVALID_ARGUMENT for a bad volume name. */
export function checkVolumeName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(name) || name.includes('..')) throw errors.invalid(`Invalid storage volume name "${name}"`);
}

/** INVALID_ARGUMENT for a key the agents do not implement. */
export function checkVolumeConfig(config: Readonly<Record<string, string>>): void {
  for (const k of Object.keys(config)) {
    if (!k.startsWith('user.') && !VOLUME_KEYS.includes(k)) throw errors.invalid(`Invalid storage volume config key "${k}"`);
  }
}

/** Only custom volumes can be created, changed or deleted through these routes. */
export function checkCustomType(type: string): void {
  if (!['custom', 'container', 'virtual-machine', 'image'].includes(type)) throw errors.invalid(`Invalid storage volume type "${type}"`);
  if (type !== 'custom') throw errors.invalid(`Only custom storage volumes can be managed here, not "${type}" volumes`);
}

/**
 * The member that serves a volume request on `pool`: `target`, else this member when the pool is
 * created here, else the first member where it is. NOT_FOUND when the pool is not created there.
 */
export function memberFor(view: Reader, pool: string, target: string | undefined, self: string): string {
  const on = view.list(storagePoolMembers, pool).filter((p) => p.record.state === 'Created').map((p) => p.record.member);
  const m = target ?? (on.includes(self) ? self : on[0]);
  if (m === undefined || !on.includes(m)) throw errors.notFound(`Storage pool "${pool}" is not created on member "${m ?? self}"`);
  return m;
}

/**
 * The one volume named `name` of `type` in `pool`/`project`; with several members holding one of
 * that name and no `target`, INVALID_ARGUMENT as LXD ("use --target").
 */
export function findVolume(view: Reader, pool: string, project: string, type: string, name: string, target: string | undefined): StorageVolumeRecord {
  const all = view.list(storageVolumes, pool).map((s) => s.record).filter((v) => v.project === project && v.type === type && v.name === name);
  const hits = target === undefined ? all : all.filter((v) => v.location === target || v.location === '');
  if (hits.length === 0) throw errors.notFound(`Storage volume "${name}" of type "${type}" not found in pool "${pool}"${target ? ` on member "${target}"` : ''}`);
  if (hits.length > 1) throw errors.invalid(`More than one cluster member has a volume named "${name}": use --target`);
  return hits[0]!;
}

const suffix = (project: string): string => (project === 'default' ? '' : `?project=${project}`);

/** Instances and profiles with a disk device on the volume. */
export function volumeUsedBy(view: Reader, v: StorageVolumeRecord): string[] {
  const uses = (devs: Readonly<Record<string, Readonly<Record<string, string>>>>): boolean =>
    Object.values(devs).some((d) => d['type'] === 'disk' && d['pool'] === v.pool && d['source'] === v.name);
  return [
    ...view.list(instances, v.project).filter((i) => (v.location === '' || i.record.location === v.location) && uses(i.record.devices)).map((i) => `/1.0/instances/${i.record.name}${suffix(v.project)}`),
    ...view.list(profiles, v.project).filter((p) => uses(p.record.devices)).map((p) => `/1.0/profiles/${p.record.name}${suffix(v.project)}`),
  ];
}

/** The API view of a volume record. */
export function toApiVolume(view: Reader, v: StorageVolumeRecord): StorageVolume {
  return {
    name: v.name,
    type: v.type,
    description: v.description,
    config: { ...v.config },
    used_by: volumeUsedBy(view, v),
    location: v.location,
    content_type: v.content_type,
    project: v.project,
    created_at: v.created_at,
  };
}

/** `/1.0/storage-pools/<pool>/volumes/<type>/<name>` (+ `?project=`). */
export function volumeUrl(v: { readonly pool: string; readonly type: string; readonly name: string; readonly project: string }): string {
  return `/1.0/storage-pools/${v.pool}/volumes/${v.type}/${v.name}${suffix(v.project)}`;
}
