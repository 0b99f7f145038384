/** `/1.0/cluster` (shared/api/cluster.go). */
import { Type, type Static } from 'typebox';
import { NStringList, NStringMap, Nullable, STRICT, StringList, StringMap, Timestamp } from './common.js';

/** A member-specific config key a joiner must supply (e.g. a pool's `source`). */
export const ClusterMemberConfigKey = Type.Object({
  entity: Type.String(),
  name: Type.String(),
  key: Type.String(),
  value: Type.String(),
  description: Type.String(),
});
export type ClusterMemberConfigKey = Static<typeof ClusterMemberConfigKey>;

/** `GET /1.0/cluster`. */
export const Cluster = Type.Object({
  server_name: Type.String(),
  enabled: Type.Boolean(),
  member_config: Type.Array(ClusterMemberConfigKey),
});
export type Cluster = Static<typeof Cluster>;

const memberConfigInput = Type.Partial(
  Type.Object({
    entity: Type.String(),
    name: Type.String(),
    key: Type.String(),
    value: Type.String(),
    description: Type.String(),
  }),
  STRICT,
);

/**
 * `PUT /1.0/cluster` (async): bootstrap `{server_name, enabled: true}`, join (on the joiner, with
 * `cluster_address`, `cluster_certificate` PEM, `server_address` and the raw join token as
 * `cluster_password`), or disable `{server_name: "", enabled: false}`.
 */
export const ClusterPut = Type.Partial(
  Type.Object({
    server_name: Type.String(),
    enabled: Type.Boolean(),
    member_config: Nullable(Type.Array(memberConfigInput)),
    cluster_address: Type.String(),
    cluster_certificate: Type.String(),
    server_address: Type.String(),
    cluster_password: Type.String(),
  }),
  STRICT,
);
export type ClusterPut = Static<typeof ClusterPut>;

/** Member roles LXD reports; `database-leader` marks the Raft leader. */
export const ClusterMemberRole = {
  Database: 'database',
  DatabaseLeader: 'database-leader',
  DatabaseStandby: 'database-standby',
  EventHub: 'event-hub',
  Ovn: 'ovn-chassis',
} as const;
export type ClusterMemberRole = (typeof ClusterMemberRole)[keyof typeof ClusterMemberRole];

/** `PUT|PATCH /1.0/cluster/members/<name>` (sync, ETag). */
export const ClusterMemberPut = Type.Partial(
  Type.Object({
    roles: NStringList,
    failure_domain: Type.String(),
    description: Type.String(),
    config: NStringMap,
    groups: NStringList,
  }),
  STRICT,
);
export type ClusterMemberPut = Static<typeof ClusterMemberPut>;

/** A member. `status`: Online, Offline, Evacuated, Blocked; `url` is its https address. */
export const ClusterMember = Type.Object({
  roles: StringList,
  failure_domain: Type.String(),
  description: Type.String(),
  config: StringMap,
  groups: StringList,
  server_name: Type.String(),
  url: Type.String(),
  database: Type.Boolean(),
  status: Type.String(),
  message: Type.String(),
  architecture: Type.String(),
});
export type ClusterMember = Static<typeof ClusterMember>;

/** `POST /1.0/cluster/members` (async, class token): ask for a join token. */
export const ClusterMembersPost = Type.Object({ server_name: Type.String() }, STRICT);
export type ClusterMembersPost = Static<typeof ClusterMembersPost>;

/** `POST /1.0/cluster/members/<name>` (sync rename). */
export const ClusterMemberPost = Type.Object({ server_name: Type.String() }, STRICT);
export type ClusterMemberPost = Static<typeof ClusterMemberPost>;

/** `POST /1.0/cluster/members/<name>/state` (async): `evacuate` or `restore`; `mode` e.g. "stop", "migrate". */
export const ClusterMemberStatePost = Type.Object(
  {
    action: Type.Union([Type.Literal('evacuate'), Type.Literal('restore')]),
    mode: Type.Optional(Type.String()),
  },
  STRICT,
);
export type ClusterMemberStatePost = Static<typeof ClusterMemberStatePost>;

/** `PUT /1.0/cluster/certificate` (sync). */
export const ClusterCertificatePut = Type.Object(
  { cluster_certificate: Type.String(), cluster_certificate_key: Type.String() },
  STRICT,
);
export type ClusterCertificatePut = Static<typeof ClusterCertificatePut>;

/** `PUT|PATCH /1.0/cluster/groups/<name>`. */
export const ClusterGroupPut = Type.Partial(Type.Object({ description: Type.String(), members: NStringList }), STRICT);
export type ClusterGroupPut = Static<typeof ClusterGroupPut>;

/** `POST /1.0/cluster/groups`. */
export const ClusterGroupsPost = Type.Object({ ...ClusterGroupPut.properties, name: Type.String() }, STRICT);
export type ClusterGroupsPost = Static<typeof ClusterGroupsPost>;

/** `POST /1.0/cluster/groups/<name>` (rename). */
export const ClusterGroupPost = Type.Object({ name: Type.String() }, STRICT);
export type ClusterGroupPost = Static<typeof ClusterGroupPost>;

/** A cluster group. */
export const ClusterGroup = Type.Object({ description: Type.String(), members: StringList, name: Type.String() });
export type ClusterGroup = Static<typeof ClusterGroup>;

/**
 * The decoded join token (`ClusterMemberJoinToken`): base64 (standard, padded) of this JSON.
 * lxc builds it client-side from the token operation's metadata ({@link ClusterJoinTokenMetadata}).
 */
export const ClusterMemberJoinToken = Type.Object({
  server_name: Type.String(),
  fingerprint: Type.String(),
  addresses: StringList,
  secret: Type.String(),
  expires_at: Timestamp,
});
export type ClusterMemberJoinToken = Static<typeof ClusterMemberJoinToken>;

/**
 * Metadata of the token operation `POST /1.0/cluster/members` returns (camelCase keys, as LXD
 * writes them): lxc's `ToClusterJoinToken` needs all five, `expiresAt` in RFC 3339.
 */
export const ClusterJoinTokenMetadata = Type.Object({
  serverName: Type.String(),
  secret: Type.String(),
  fingerprint: Type.String(),
  addresses: StringList,
  expiresAt: Timestamp,
});
export type ClusterJoinTokenMetadata = Static<typeof ClusterJoinTokenMetadata>;
