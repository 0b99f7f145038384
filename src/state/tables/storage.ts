/**
 * Storage pools (LXD StoragePool), their per-member part (member-specific config and state, LXD's
 * two-phase create) and volumes (LXD StorageVolume). A volume of a local pool lives on one member
 * (`location`); `location` '' means a pool shared by every member.
 */
import { checkConfig, defineTable } from './define.js';
import { MEMBER_NAME, name, obj, oneOf, str, strMap, time } from './fields.js';

export interface StoragePoolRecord {
  readonly name: string;
  readonly driver: 'dir' | 'btrfs' | 'lvm' | 'zfs' | 'ceph';
  readonly description: string;
  /** Cluster-wide keys only; member-specific keys live in the pool's member records. */
  readonly config: Readonly<Record<string, string>>;
  readonly status: 'Pending' | 'Created' | 'Errored' | 'Unknown';
}

export const storagePools = defineTable<StoragePoolRecord, [string]>({
  name: 'storage-pools',
  noun: 'Storage pool',
  arity: 1,
  keyOf: (r) => [r.name],
  describe: ([n]) => `Storage pool "${n}"`,
  check: obj<StoragePoolRecord>({
    name,
    driver: oneOf('dir', 'btrfs', 'lvm', 'zfs', 'ceph'),
    description: str(),
    config: strMap,
    status: oneOf('Pending', 'Created', 'Errored', 'Unknown'),
  }),
  validate: (r) => checkConfig(`storage pool "${r.name}"`, 'storage-pool', r.config, 'cluster'),
});

export interface StoragePoolMemberRecord {
  readonly pool: string;
  readonly member: string;
  /** Member-specific keys (`source`, `size`). */
  readonly config: Readonly<Record<string, string>>;
  readonly state: 'Pending' | 'Created' | 'Errored';
}

export const storagePoolMembers = defineTable<StoragePoolMemberRecord, [string, string]>({
  name: 'storage-pool-members',
  noun: 'Storage pool member',
  arity: 2,
  keyOf: (r) => [r.pool, r.member],
  describe: ([p, m]) => `Storage pool "${p}" on member "${m}"`,
  check: obj<StoragePoolMemberRecord>({ pool: name, member: str({ pattern: MEMBER_NAME }), config: strMap, state: oneOf('Pending', 'Created', 'Errored') }),
  validate: (r) => checkConfig(`storage pool "${r.pool}" on member "${r.member}"`, 'storage-pool', r.config, 'member'),
});

export const VOLUME_TYPES = ['container', 'virtual-machine', 'image', 'custom'] as const;

export interface StorageVolumeRecord {
  readonly name: string;
  readonly pool: string;
  readonly project: string;
  readonly type: (typeof VOLUME_TYPES)[number];
  readonly description: string;
  readonly config: Readonly<Record<string, string>>;
  /** Member holding the volume; '' for a pool shared by all members. */
  readonly location: string;
  readonly content_type: 'filesystem' | 'block';
  readonly created_at: string;
}

/** The key segment of a volume's location ('' → '-', which no member name can be). */
export const locationPart = (location: string): string => (location === '' ? '-' : location);

export const storageVolumes = defineTable<StorageVolumeRecord, [string, string, string, string, string]>({
  name: 'storage-volumes',
  noun: 'Storage volume',
  arity: 5,
  keyOf: (r) => [r.pool, locationPart(r.location), r.project, r.type, r.name],
  describe: ([pool, loc, p, t, n]) => `Storage volume "${t}/${n}" in pool "${pool}"${loc === '-' ? '' : ` on member "${loc}"`} (project "${p}")`,
  check: obj<StorageVolumeRecord>({
    name: str({ pattern: /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$/, what: 'a volume name' }),
    pool: name,
    project: name,
    type: oneOf(...VOLUME_TYPES),
    description: str(),
    config: strMap,
    location: str({ pattern: /^$|^[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/, what: 'a member name or empty' }),
    content_type: oneOf('filesystem', 'block'),
    created_at: time,
  }),
});
