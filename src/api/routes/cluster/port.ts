/**
 * What the /1.0/cluster routes need from the cluster (src/cluster/membership.ts implements it;
 * the daemon passes it as `ApiDeps.cluster`). Errors are ShoalErrors with stable codes.
 */
import type { ClusterMember } from '../../types/index.js';

/** A freshly issued join token's contents (the secret is shown once, stored hashed). */
export interface JoinTokenGrant {
  readonly serverName: string;
  readonly secret: string;
  /** SHA-256 of the cluster CA certificate (the joiner pins it). */
  readonly fingerprint: string;
  /** API addresses (host:port) of online members that can take the join. */
  readonly addresses: readonly string[];
  /** Epoch ms. */
  readonly expiresAt: number;
}

/** A joining member's request (`POST /internal/cluster/accept`). */
export interface JoinRequest {
  readonly server_name: string;
  readonly secret: string;
  /** PEM PKCS#10 request for the joiner's own key. */
  readonly csr: string;
  /** Cluster address host:port. */
  readonly address: string;
  /** REST API address host:port. */
  readonly api_address: string;
}

/** What an admitted joiner receives. */
export interface JoinAcceptance {
  readonly certificate: string;
  readonly ca_certificate: string;
  readonly ca_key?: string;
  readonly raft_id: number;
  readonly members: Readonly<Record<string, string>>;
}

export interface ClusterMembership {
  /**
   * A new token for `serverName` (secret, CA fingerprint, addresses, expiry from
   * `cluster.join_token_expiry`), not recorded yet. ALREADY_EXISTS when such a member exists;
   * INVALID_ARGUMENT for a bad name.
   */
  prepareJoinToken(serverName: string): Promise<JoinTokenGrant>;
  /** Records `grant` (its secret hashed; replacing an earlier token of that name), tied to the token operation `operationId`. */
  recordJoinToken(grant: JoinTokenGrant, operationId: string): Promise<void>;
  /** Deletes the token of `serverName` if it still belongs to `operationId` (idempotent). */
  revokeJoinToken(serverName: string, operationId: string): Promise<void>;
  /**
   * Admits a joiner (on the leader): checks and consumes the token, signs its certificate,
   * records it (Pending) with its trust entry and adds it to Raft as a learner; reverts all of
   * that if a step fails. PERMISSION_DENIED for a bad, used or expired token. Returns the
   * consumed token's operation id (to cancel it) and the acceptance.
   */
  acceptJoin(req: JoinRequest): Promise<{ readonly tokenOperation: string; readonly acceptance: JoinAcceptance }>;
  /** Every member in LXD's shape, with Online/Offline from the heartbeats. */
  members(): Promise<ClusterMember[]>;
  /**
   * Removes a member (on the leader): from Raft, its record, trust entry, group memberships and
   * per-member rows. NOT_FOUND for an unknown member; FAILED_PRECONDITION for the only member, the
   * leader itself, an offline member without `force`, or one that still holds instances or custom
   * volumes without `force` (with it, their records go too).
   */
  removeMember(name: string, force: boolean): Promise<void>;
  /** An online voter other than this member to hand the leadership to, or undefined. */
  successor(): Promise<{ readonly name: string; readonly raftId: number } | undefined>;
  /** Moves the leadership to `raftId`; resolves once it leads. */
  handOff(raftId: number): Promise<void>;
  /**
   * The cluster CA key (PEM) for `requester`, a member authenticated by its own certificate:
   * only voters get it. NOT_FOUND when this member lacks the key; PERMISSION_DENIED otherwise.
   */
  caKeyFor(requester: string): Promise<string>;
  /** The leader `requester` says this member was removed: it resets itself to an uninitialized daemon. PERMISSION_DENIED unless `requester` leads. */
  removedNotice(requester: string): Promise<void>;
}
