/**
 * Cluster tables: members, cluster groups, join tokens, the server configuration (cluster-wide and
 * per member). Field names follow LXD's ClusterMember, ClusterGroup and server config.
 */
import { checkConfig, defineTable } from './define.js';
import { arr, int, map, MEMBER_NAME, name, nullable, num, obj, oneOf, SHA256, str, strMap, time } from './fields.js';

/** A cluster member (LXD ClusterMember plus what Shoal keeps about it). */
export interface MemberRecord {
  readonly server_name: string;
  /** The member's id in Raft. */
  readonly raft_id: number;
  /** `https://host:port` (cluster.https_address). */
  readonly url: string;
  readonly architecture: string;
  readonly description: string;
  /** `database`, `database-standby`, `event-hub`… (LXD roles). */
  readonly roles: readonly string[];
  readonly failure_domain: string;
  /** Member config: `scheduler.instance`, `user.*`. */
  readonly config: Readonly<Record<string, string>>;
  /** Lifecycle: Pending (joining), Created, Evacuated (LXD's internal member state). */
  readonly state: 'Pending' | 'Created' | 'Evacuated';
  /** The newest record schema this member's binary supports (advertised; schema/). */
  readonly schema_max: number;
  /** Last heartbeat seen by the leader (null: never). */
  readonly last_heartbeat: string | null;
  /** Observed capacity: CPUs, memory and per-pool storage bytes. */
  readonly resources: { readonly cpu: number; readonly memory_bytes: number; readonly storage_pools: Readonly<Record<string, number>> };
}

export const members = defineTable<MemberRecord, [string]>({
  name: 'members',
  noun: 'Member',
  arity: 1,
  keyOf: (r) => [r.server_name],
  describe: ([n]) => `Member "${n}"`,
  check: obj<MemberRecord>({
    server_name: str({ pattern: MEMBER_NAME, what: 'a host name label' }),
    raft_id: int(1),
    url: str(),
    architecture: str(),
    description: str(),
    roles: arr(oneOf('database', 'database-leader', 'database-standby', 'event-hub'), { unique: true }),
    failure_domain: str({ nonEmpty: true }),
    config: strMap,
    state: oneOf('Pending', 'Created', 'Evacuated'),
    schema_max: int(1),
    last_heartbeat: nullable(time),
    resources: obj({ cpu: num(0), memory_bytes: num(0), storage_pools: map(num(0)) }),
  }),
  validate: (r) => checkConfig(`member "${r.server_name}"`, 'member', r.config),
});

/** A cluster group (LXD ClusterGroup); every member is in `default`. */
export interface ClusterGroupRecord {
  readonly name: string;
  readonly description: string;
  readonly members: readonly string[];
  readonly config: Readonly<Record<string, string>>;
}

export const clusterGroups = defineTable<ClusterGroupRecord, [string]>({
  name: 'cluster-groups',
  noun: 'Cluster group',
  arity: 1,
  keyOf: (r) => [r.name],
  describe: ([n]) => `Cluster group "${n}"`,
  check: obj<ClusterGroupRecord>({ name, description: str(), members: arr(str({ pattern: MEMBER_NAME }), { unique: true }), config: strMap }),
  validate: (r) => checkConfig(`cluster group "${r.name}"`, 'cluster-group', r.config),
});

/** A pending join token: the secret is only stored as its SHA-256 (single use, with an expiry). */
export interface JoinTokenRecord {
  readonly server_name: string;
  readonly secret_hash: string;
  readonly expires_at: string;
  readonly created_at: string;
  /** The token operation's id (LXD lists tokens as running token operations). */
  readonly operation: string;
}

export const joinTokens = defineTable<JoinTokenRecord, [string]>({
  name: 'join-tokens',
  noun: 'Join token',
  arity: 1,
  keyOf: (r) => [r.server_name],
  describe: ([n]) => `Join token for member "${n}"`,
  check: obj<JoinTokenRecord>({
    server_name: str({ pattern: MEMBER_NAME, what: 'a host name label' }),
    secret_hash: str({ pattern: SHA256, what: 'a SHA-256 hex digest' }),
    expires_at: time,
    created_at: time,
    operation: str(),
  }),
});

/** The cluster-wide server configuration (`lxc config set k v`). One record. */
export interface ClusterConfigRecord {
  readonly config: Readonly<Record<string, string>>;
}

export const clusterConfig = defineTable<ClusterConfigRecord, []>({
  name: 'config-cluster',
  noun: 'Cluster configuration',
  arity: 0,
  keyOf: () => [],
  describe: () => 'Cluster configuration',
  check: obj<ClusterConfigRecord>({ config: strMap }),
  validate: (r) => checkConfig('cluster configuration', 'server', r.config, 'cluster'),
});

/** One member's member-specific server configuration (`lxc config set k v --target m`). */
export interface MemberConfigRecord {
  readonly member: string;
  readonly config: Readonly<Record<string, string>>;
}

export const memberConfig = defineTable<MemberConfigRecord, [string]>({
  name: 'config-member',
  noun: 'Member configuration',
  arity: 1,
  keyOf: (r) => [r.member],
  describe: ([m]) => `Server configuration of member "${m}"`,
  check: obj<MemberConfigRecord>({ member: str({ pattern: MEMBER_NAME }), config: strMap }),
  validate: (r) => checkConfig(`configuration of member "${r.member}"`, 'server', r.config, 'member'),
});
