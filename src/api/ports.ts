/**
 * Ports the API consumes. The daemon implements them over the replicated database, the cluster
 * and the local system; unit tests use `Fake*` implementations from test/support/fakes/. Each
 * contract says what it returns, what it throws (always ShoalError codes, never message
 * matching) and what it must guarantee.
 */
import type { CertificateType, Event, ServerEnvironment } from './types/index.js';

/** Facts about this member for `GET /1.0` and operation/event `location`. Must be cheap: called per request. */
export interface ServerInfo {
  /** This member's name (`server_name`, operation and event `location`). */
  memberName(): string;
  /**
   * The environment of `GET /1.0` for `project`. `certificate`/`certificate_fingerprint` describe
   * the certificate the HTTPS listener presents (trust tokens pin that fingerprint) and
   * `addresses` the addresses clients can reach (trust tokens list them; empty = no network API).
   */
  environment(project: string): ServerEnvironment;
}

/**
 * Server configuration (`/1.0` config: `core.*`, `cluster.*`, `images.*` …). Values are strings.
 * Validation (known keys, value syntax) belongs to the implementation.
 */
export interface ServerConfig {
  /** The current config. */
  get(): Promise<Readonly<Record<string, string>>>;
  /**
   * Applies `changes`: `replace` makes the config exactly `changes` (PUT), `merge` sets the given
   * keys and unsets keys whose value is `''` (PATCH). `check(current)` runs against the config the
   * update is based on, inside the implementation's transaction, and may throw (ETag mismatch) to
   * abort it. Throws INVALID_ARGUMENT for unknown keys or bad values and changes nothing then.
   */
  update(
    changes: Readonly<Record<string, string>>,
    mode: 'replace' | 'merge',
    check?: (current: Readonly<Record<string, string>>) => void,
  ): Promise<void>;
}

/** A trusted certificate (LXD's trust store row). */
export interface TrustedCertificate {
  /** SHA-256 of the DER, lowercase hex (64 characters). */
  readonly fingerprint: string;
  readonly type: CertificateType;
  readonly name: string;
  /** PEM. */
  readonly certificate: string;
  /** When true, only `projects` are accessible and admin-only endpoints are refused. */
  readonly restricted: boolean;
  readonly projects: readonly string[];
}

/**
 * The trust store. Type `server` marks cluster members: their requests may carry the identity of
 * the client they forward for (see forward.ts). `get` is called for every HTTPS request, so
 * implementations answer from memory (a cache kept current by watching the database).
 */
export interface TrustStore {
  /** The entry with exactly this fingerprint, or undefined. */
  get(fingerprint: string): Promise<TrustedCertificate | undefined>;
  /** All entries, in a stable order (by fingerprint). */
  list(): Promise<readonly TrustedCertificate[]>;
  /** Adds an entry. Throws ALREADY_EXISTS "Certificate already in trust store". */
  add(cert: TrustedCertificate): Promise<void>;
  /**
   * Read-modify-write of one entry inside the implementation's transaction: `mutate` receives
   * the current entry and returns the new one (it may throw to abort, e.g. on an ETag mismatch).
   * The fingerprint may change when the certificate is replaced. Throws NOT_FOUND
   * "Certificate not found"; ALREADY_EXISTS if the new fingerprint is taken by another entry.
   */
  update(fingerprint: string, mutate: (current: TrustedCertificate) => TrustedCertificate): Promise<TrustedCertificate>;
  /** Removes an entry. Throws NOT_FOUND "Certificate not found". */
  remove(fingerprint: string): Promise<void>;
}

/** A trust token waiting to be used: what `POST /1.0/certificates {token:true}` asked for. */
export interface PendingTrustToken {
  /** The token operation (cancelled when the token is used, revoked or expires). */
  readonly operationId: string;
  readonly name: string;
  readonly type: CertificateType;
  readonly restricted: boolean;
  readonly projects: readonly string[];
  /** SHA-256 (hex) of the secret; the secret itself is never stored. */
  readonly secretHash: string;
  /** Epoch ms; undefined = never expires. */
  readonly expiresAt: number | undefined;
}

/** Pending trust tokens, cluster-wide (a token works whichever member the client reaches). */
export interface TrustTokenStore {
  add(token: PendingTrustToken): Promise<void>;
  /**
   * Atomically removes and returns the token with this secret hash (single use: of two
   * concurrent calls with the same hash, exactly one gets it). Undefined when none matches.
   * Expiry is checked by the caller.
   */
  take(secretHash: string): Promise<PendingTrustToken | undefined>;
  /** Removes the token of this operation; no-op when absent (revoke is idempotent). */
  remove(operationId: string): Promise<void>;
  list(): Promise<readonly PendingTrustToken[]>;
}

/** Where a member's API can be reached. */
export interface MemberAddress {
  readonly name: string;
  /** `host:port` of its HTTPS API. */
  readonly address: string;
}

/** Who leads. `forward.ts` is the only reader. */
export type LeaderState =
  | { readonly role: 'leader' }
  | { readonly role: 'follower'; readonly leader: MemberAddress }
  /** No known leader: election in progress or quorum lost; `reason` is shown to clients. */
  | { readonly role: 'unknown'; readonly reason?: string };

/** Leadership as the API needs it. Must be cheap: called per request. */
export interface Leadership {
  state(): LeaderState;
}

/** Member addresses for `?target=` forwarding of member-local requests. */
export interface MemberDirectory {
  /** The member's API address, or undefined if no such member. */
  lookup(name: string): MemberAddress | undefined;
}

/** Outbound side of event fan-out: events that happened here, to be delivered on other members. */
export interface EventRelay {
  /** Called synchronously for every local event; must not block (queue and send). */
  send(event: Event): void;
}

/** What the API persists about an operation (LXD's `operations` table, plus what re-driving needs). */
export interface OperationRecord {
  readonly id: string;
  readonly class: 'task' | 'websocket' | 'token';
  /** What kind of work this is (`certificate-add-token`, `instance-create`, …): picks the resumer after failover. */
  readonly type: string;
  readonly description: string;
  /** '' for operations outside projects. */
  readonly project: string;
  /** The member that runs it. */
  readonly location: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly statusCode: number;
  readonly resources: Readonly<Record<string, readonly string[]>>;
  /** Metadata without the keys the creator marked secret. */
  readonly metadata: Readonly<Record<string, unknown>> | null;
  readonly mayCancel: boolean;
  readonly err: string;
  /** The request that created it (log correlation). */
  readonly requestId: string;
  /** Opaque JSON input a resumer needs to continue the work (never secrets). */
  readonly input?: unknown;
  /** Token operations: epoch ms at which the token expires. */
  readonly expiresAt?: number;
}

/**
 * Durable operation records. The OperationManager writes through it (create before replying
 * 202, status changes as they happen, delete when retention ends) and reads it after a leader
 * change to re-drive unfinished work. Writes for one operation are issued in order.
 */
export interface OperationStore {
  put(record: OperationRecord): Promise<void>;
  /** No-op when absent. */
  delete(id: string): Promise<void>;
  list(): Promise<readonly OperationRecord[]>;
}

// The contract (session contracts §2) names the node agent's typed client; the API only holds the
// type and calls it through this port, which the cluster implements (one mutual-TLS client per member).
// eslint-disable-next-line import/no-restricted-paths
import type { AgentClient } from '../node-agent/client.js';

/**
 * The node agents of the cluster's members. Host work (instances, images, networks, pools) goes
 * to the agent of the member that holds the object. `client` throws NOT_FOUND for an unknown member
 * and UNAVAILABLE when the member cannot be reached; the returned client is shared (never closed
 * by the caller) and may be called concurrently.
 */
export interface MemberAgents {
  client(member: string): AgentClient;
}
