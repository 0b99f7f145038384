/** What creators of operations hand to the {@link OperationManager} (./manager.ts). */
import type { WebSocket } from 'ws';

/** Given to a running task. */
export interface OperationContext {
  readonly id: string;
  /** Aborted when the operation is cancelled or this member stops running it (shutdown, lost leadership). */
  readonly signal: AbortSignal;
  /**
   * Merges `patch` into the metadata and emits an operation event. Values of keys ending in
   * `_progress` are stored as strings (lxc renders them and panics on anything else).
   */
  setMetadata(patch: Readonly<Record<string, unknown>>): void;
  /** `setMetadata({[key]: text})`, e.g. `setProgress('create_instance_from_image_unpack_progress', 'Unpack: 42%')`. */
  setProgress(key: string, text: string): void;
  /** Replaces the resources (`{instances: ['/1.0/instances/c1']}`). */
  setResources(resources: Readonly<Record<string, readonly string[]>>): void;
}

/** Common fields of every operation. */
export interface OperationSpec {
  /** Kind of work (`instance-create`, `certificate-add-token`, …); picks the resumer after failover. */
  readonly type: string;
  /** Shown to users ("Creating instance"). */
  readonly description: string;
  /** '' or absent for operations outside projects (shown to every project). */
  readonly project?: string;
  /** Resource type → URLs (`{instances: ['/1.0/instances/c1']}`). */
  readonly resources?: Readonly<Record<string, readonly string[]>>;
  /** Initial metadata (null when absent, as LXD renders a nil map). */
  readonly metadata?: Readonly<Record<string, unknown>> | null;
  /** Metadata keys never written to the OperationStore (secrets shown only to API callers). */
  readonly secretKeys?: readonly string[];
  /** `reqId` of the creating request. */
  readonly requestId?: string;
  /** JSON a resumer needs to continue after failover (persisted; never secrets). */
  readonly input?: unknown;
}

/** A task: `run` does the work; its resolved object is merged into the metadata on success. */
export interface TaskSpec extends OperationSpec {
  run(ctx: OperationContext): Promise<Readonly<Record<string, unknown>> | void>;
  /** May clients cancel it (`may_cancel`)? Cancelling aborts `ctx.signal`; `run` should reject promptly. */
  readonly cancellable?: boolean;
}

/**
 * A websocket operation (exec, console): a task whose clients connect websockets to
 * `/1.0/operations/<id>/websocket?secret=…`, one per secret in its metadata.
 */
export interface WebsocketSpec extends TaskSpec {
  /** True when `secret` is one of this operation's sockets and may still connect. Checked before upgrading. */
  accepts(secret: string): boolean;
  /** Takes over an upgraded connection for `secret` (accepted just before). */
  attach(secret: string, socket: WebSocket): void;
}

/** A token: no work, it stays Running until used (cancelled by the consumer), revoked or expired. */
export interface TokenSpec extends OperationSpec {
  /** Epoch ms after which the operation is cancelled (and `onCancel` runs); absent = never. */
  readonly expiresAt?: number;
  /** Runs when the token ends by cancellation or expiry (revoke what backs it); must be idempotent. */
  onCancel?(): Promise<void>;
}

/** Continues an unfinished task found in the store after a leader change. */
export type OperationResumer = (ctx: OperationContext, input: unknown) => Promise<Readonly<Record<string, unknown>> | void>;

/** How {@link OperationManager.recover} continues each kind of unfinished operation, by `type`. */
export interface OperationResumers {
  readonly tasks?: ReadonlyMap<string, OperationResumer>;
  /** Revoke hooks of token operations (what `onCancel` did before failover), given the operation id. */
  readonly tokens?: ReadonlyMap<string, (operationId: string) => Promise<void>>;
}
