/**
 * Operations as LXD runs them (lxd/operations): every long request becomes an operation with a
 * UUID, a class (task, websocket, token), LXD status codes (103 Running, 104 Cancelling, 200
 * Success, 400 Failure, 401 Cancelled), metadata (progress strings), resources and `err`. The
 * manager runs tasks with an AbortSignal, lets clients cancel those declared cancellable, emits
 * an `operation` event on every change, and keeps finished operations queryable for
 * `retentionMs` (LXD: 5 s; default here 30 s, so a late `/wait` still finds the result).
 *
 * Records are written through an {@link OperationStore} so the cluster database keeps them: the
 * creation is durable before the caller replies 202, later changes are written in order, and
 * after a leader change {@link OperationManager.recover} re-drives unfinished work with the
 * registered resumers (agent calls are idempotent by operation id) or marks it failed.
 *
 * Concurrency: methods may be called from any request; a single operation's state only moves
 * forward (Running → Cancelling → final), and `finish` runs once.
 */
import type { WebSocket } from 'ws';
import { ErrorCode, ShoalError, newOperationId, type Clock, type Disposable, type Logger } from '../../shared/index.js';
import { operationErrorMessage } from '../errors.js';
import type { EventHub } from '../events/hub.js';
import type { OperationRecord, OperationStore } from '../ports.js';
import { STATUS_TEXT, StatusCode, isFinalStatus, type Operation } from '../types/index.js';
import type { OperationContext, OperationResumers, OperationSpec, TaskSpec, TokenSpec, WebsocketSpec } from './types.js';

/** Options of {@link OperationManager}. */
export interface OperationManagerOptions {
  readonly store: OperationStore;
  readonly events: EventHub;
  readonly clock: Clock;
  readonly log: Logger;
  /** This member's name (`location`). */
  readonly memberName: () => string;
  /** How long finished operations stay queryable. Default 30 000 ms. */
  readonly retentionMs?: number;
  /** Id generator (default random UUID v4). */
  readonly newId?: () => string;
}

/** Which operations a listing returns. */
export interface OperationListFilter {
  readonly project: string;
  readonly allProjects: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface LiveOperation {
  readonly rec: Mutable<OperationRecord>;
  /** Full metadata including secret keys (the record's copy is what gets persisted). */
  metadata: Record<string, unknown> | null;
  readonly secretKeys: readonly string[];
  readonly cancellable: boolean;
  readonly abort: AbortController;
  readonly done: Promise<void>;
  readonly resolveDone: () => void;
  cancelRequested: boolean;
  readonly spec: TaskSpec | WebsocketSpec | TokenSpec | undefined;
  readonly timers: Disposable[];
  persisting: Promise<void>;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Runs and tracks this member's operations. */
export class OperationManager {
  private readonly ops = new Map<string, LiveOperation>();
  private readonly retentionMs: number;
  private readonly newId: () => string;
  private closing = false;

  constructor(private readonly options: OperationManagerOptions) {
    this.retentionMs = options.retentionMs ?? 30_000;
    this.newId = options.newId ?? newOperationId;
  }

  /** Creates and starts a task. Resolves once the record is durable; `run` starts right after. */
  async createTask(spec: TaskSpec): Promise<Operation> {
    const op = await this.register('task', spec, spec.cancellable === true);
    this.drive(op, (ctx) => spec.run(ctx));
    return this.render(op);
  }

  /** Creates a websocket operation (exec, console): a task that clients also connect to. */
  async createWebsocket(spec: WebsocketSpec): Promise<Operation> {
    const op = await this.register('websocket', spec, spec.cancellable === true);
    this.drive(op, (ctx) => spec.run(ctx));
    return this.render(op);
  }

  /** Creates a token operation; it stays Running until cancelled (used, revoked) or expired. */
  async createToken(spec: TokenSpec): Promise<Operation> {
    const op = await this.register('token', spec, true, spec.expiresAt);
    if (spec.expiresAt !== undefined) this.armExpiry(op, spec.expiresAt);
    return this.render(op);
  }

  /** The operation as clients see it, or undefined (never existed, or retention ended). */
  get(id: string): Operation | undefined {
    const op = this.ops.get(id);
    return op ? this.render(op) : undefined;
  }

  /** The project an operation belongs to ('' for none), or undefined. */
  projectOf(id: string): string | undefined {
    return this.ops.get(id)?.rec.project;
  }

  /** Operations visible from `filter.project` (those without a project are visible everywhere), oldest first. */
  list(filter: OperationListFilter): Operation[] {
    const out: Operation[] = [];
    for (const op of this.ops.values()) {
      if (filter.allProjects || op.rec.project === '' || op.rec.project === filter.project) out.push(this.render(op));
    }
    return out;
  }

  /**
   * Waits until the operation is final, `timeoutMs` passes (undefined = forever) or `signal`
   * aborts. Throws NOT_FOUND "Operation not found".
   */
  async wait(id: string, timeoutMs: number | undefined, signal?: AbortSignal): Promise<{ op: Operation; timedOut: boolean }> {
    const op = this.require(id);
    if (!isFinalStatus(op.rec.statusCode)) {
      let timer: Disposable | undefined;
      let onAbort: (() => void) | undefined;
      await Promise.race([
        op.done,
        new Promise<void>((resolve) => {
          if (timeoutMs !== undefined) timer = this.options.clock.setTimer(Math.min(timeoutMs, MAX_TIMER_MS), resolve);
          if (signal) {
            onAbort = resolve;
            signal.addEventListener('abort', onAbort, { once: true });
          }
        }),
      ]);
      timer?.dispose();
      if (signal && onAbort) signal.removeEventListener('abort', onAbort);
    }
    return { op: this.render(op), timedOut: !isFinalStatus(op.rec.statusCode) };
  }

  /**
   * Cancels a running operation (LXD DELETE /1.0/operations/<id>). Tokens end Cancelled at once
   * (after their `onCancel`); tasks move to Cancelling, their signal aborts, and they end
   * Cancelled when `run` rejects. Throws NOT_FOUND, or FAILED_PRECONDITION when the operation is
   * not running or cannot be cancelled (LXD's messages). Returns the operation after the change.
   */
  async cancel(id: string): Promise<Operation> {
    const op = this.require(id);
    if (op.rec.statusCode !== StatusCode.Running) {
      throw new ShoalError(ErrorCode.FailedPrecondition, 'Only running operations can be cancelled');
    }
    if (!op.cancellable) throw new ShoalError(ErrorCode.FailedPrecondition, "This operation can't be cancelled");
    op.cancelRequested = true;
    if (op.rec.class === 'token') {
      await this.endToken(op);
    } else {
      this.update(op, { statusCode: StatusCode.Cancelling });
      op.abort.abort(new ShoalError(ErrorCode.Cancelled, 'Operation cancelled'));
    }
    return this.render(op);
  }

  /** True when operation `id` is a running websocket operation accepting `secret` (checked before upgrading). */
  acceptsWebsocket(id: string, secret: string): boolean {
    const op = this.ops.get(id);
    if (!op || op.rec.class !== 'websocket' || op.rec.statusCode !== StatusCode.Running) return false;
    return (op.spec as WebsocketSpec).accepts(secret);
  }

  /** Hands an upgraded connection to the operation. Call only after {@link acceptsWebsocket} said yes. */
  attachWebsocket(id: string, secret: string, socket: WebSocket): void {
    const op = this.require(id);
    if (op.rec.class !== 'websocket') throw new ShoalError(ErrorCode.FailedPrecondition, 'Only websocket operations can be connected');
    (op.spec as WebsocketSpec).attach(secret, socket);
  }

  /**
   * Loads records left by a previous leader. Unfinished tasks whose `type` has a resumer continue
   * (same id, same metadata minus secrets); unfinished tasks without one end Failure "Operation
   * interrupted by a leader change"; unfinished tokens stay Running (their expiry re-armed, their
   * revoke hook taken from `resumers.tokens`); finished ones stay queryable for the retention
   * time. Call once, when this member becomes leader, before serving requests.
   */
  async recover(resumers: OperationResumers): Promise<void> {
    for (const rec of await this.options.store.list()) {
      if (this.ops.has(rec.id)) continue;
      const resume = resumers.tasks?.get(rec.type);
      const revoke = resumers.tokens?.get(rec.type);
      const spec: TokenSpec | undefined =
        rec.class === 'token' ? { type: rec.type, description: rec.description, ...(revoke ? { onCancel: () => revoke(rec.id) } : {}) } : undefined;
      const op = this.track({ ...rec, resources: cloneResources(rec.resources) }, rec.metadata ? { ...rec.metadata } : null, [], rec.mayCancel, spec);
      if (isFinalStatus(rec.statusCode)) {
        op.resolveDone();
        this.scheduleRemoval(op);
      } else if (rec.class === 'token') {
        if (rec.expiresAt !== undefined) this.armExpiry(op, rec.expiresAt);
      } else if (resume) {
        this.options.log.info({ op: rec.id, type: rec.type }, 'resuming operation');
        this.drive(op, (ctx) => resume(ctx, rec.input));
      } else {
        this.finish(op, StatusCode.Failure, 'Operation interrupted by a leader change');
      }
    }
  }

  /**
   * Stops running operations on this member (shutdown or lost leadership): aborts their
   * signals and timers but leaves their records unfinished in the store for the next leader.
   */
  async close(): Promise<void> {
    this.closing = true;
    const running = [...this.ops.values()];
    for (const op of running) {
      for (const t of op.timers) t.dispose();
      if (!isFinalStatus(op.rec.statusCode)) op.abort.abort(new ShoalError(ErrorCode.Unavailable, 'Member is shutting down'));
    }
    await Promise.allSettled(running.map((op) => op.persisting));
    for (const op of running) op.resolveDone();
  }

  private async register(
    cls: OperationRecord['class'],
    spec: OperationSpec,
    cancellable: boolean,
    expiresAt?: number,
  ): Promise<LiveOperation> {
    if (this.closing) throw new ShoalError(ErrorCode.Unavailable, 'Member is shutting down');
    const now = this.timestamp();
    const metadata = spec.metadata ? normalizeMetadata({ ...spec.metadata }) : null;
    const secretKeys = spec.secretKeys ?? [];
    const rec: Mutable<OperationRecord> = {
      id: this.newId(),
      class: cls,
      type: spec.type,
      description: spec.description,
      project: spec.project ?? '',
      location: this.options.memberName(),
      createdAt: now,
      updatedAt: now,
      statusCode: StatusCode.Running,
      resources: cloneResources(spec.resources ?? {}),
      metadata: stripSecrets(metadata, secretKeys),
      mayCancel: cancellable,
      err: '',
      requestId: spec.requestId ?? '',
      ...(spec.input !== undefined ? { input: spec.input } : {}),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    };
    const op = this.track(rec, metadata, secretKeys, cancellable, spec as TaskSpec | WebsocketSpec | TokenSpec);
    try {
      await this.options.store.put({ ...rec });
    } catch (err) {
      this.ops.delete(rec.id);
      throw err;
    }
    this.options.log.debug({ op: rec.id, type: rec.type, reqId: rec.requestId }, 'operation created');
    this.emit(op);
    return op;
  }

  private track(
    rec: Mutable<OperationRecord>,
    metadata: Record<string, unknown> | null,
    secretKeys: readonly string[],
    cancellable: boolean,
    spec: LiveOperation['spec'],
  ): LiveOperation {
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const op: LiveOperation = {
      rec,
      metadata,
      secretKeys,
      cancellable,
      abort: new AbortController(),
      done,
      resolveDone,
      cancelRequested: false,
      spec,
      timers: [],
      persisting: Promise.resolve(),
    };
    this.ops.set(rec.id, op);
    return op;
  }

  private drive(op: LiveOperation, run: (ctx: OperationContext) => Promise<Readonly<Record<string, unknown>> | void>): void {
    const ctx: OperationContext = {
      id: op.rec.id,
      signal: op.abort.signal,
      setMetadata: (patch) => this.setMetadata(op, patch),
      setProgress: (key, text) => this.setMetadata(op, { [key]: text }),
      setResources: (resources) => {
        if (!isFinalStatus(op.rec.statusCode)) this.update(op, { resources: cloneResources(resources) });
      },
    };
    // Start on a later tick so the creator's 202 (and its event) precede any progress.
    setImmediate(() => {
      run(ctx).then(
        (result) => {
          if (this.closing && op.abort.signal.aborted) return;
          if (result) this.setMetadata(op, result, true);
          this.finish(op, StatusCode.Success, '');
        },
        (err: unknown) => {
          if (this.closing && op.abort.signal.aborted) return;
          if (op.cancelRequested && op.abort.signal.aborted) {
            this.finish(op, StatusCode.Cancelled, '');
            return;
          }
          const message = operationErrorMessage(err);
          if (err instanceof ShoalError) this.options.log.warn({ err, op: op.rec.id, type: op.rec.type }, 'operation failed');
          else this.options.log.error({ err, op: op.rec.id, type: op.rec.type }, 'operation failed with an internal error');
          this.finish(op, StatusCode.Failure, message);
        },
      );
    });
  }

  private setMetadata(op: LiveOperation, patch: Readonly<Record<string, unknown>>, finalizing = false): void {
    if (!finalizing && isFinalStatus(op.rec.statusCode)) return;
    op.metadata = normalizeMetadata({ ...(op.metadata ?? {}), ...patch });
    // Progress is not persisted (it changes often and means nothing to the next leader); the final
    // metadata is, with the status change that follows.
    this.update(op, { metadata: stripSecrets(op.metadata, op.secretKeys) }, false);
  }

  private async endToken(op: LiveOperation): Promise<void> {
    const spec = op.spec as TokenSpec | undefined;
    if (spec?.onCancel) await spec.onCancel();
    if (!isFinalStatus(op.rec.statusCode)) this.finish(op, StatusCode.Cancelled, '');
  }

  private armExpiry(op: LiveOperation, expiresAt: number): void {
    const delay = expiresAt - this.options.clock.now();
    const arm = (ms: number): void => {
      op.timers.push(
        this.options.clock.setTimer(Math.min(Math.max(ms, 0), MAX_TIMER_MS), () => {
          const left = expiresAt - this.options.clock.now();
          if (left > 0) return arm(left);
          if (op.rec.statusCode !== StatusCode.Running) return;
          op.cancelRequested = true;
          this.endToken(op).catch((err: unknown) => {
            // The token stays Running; the consumer still checks expiry, so an expired token is never accepted.
            this.options.log.warn({ err, op: op.rec.id }, 'failed to expire token');
          });
        }),
      );
    };
    arm(delay);
  }

  private finish(op: LiveOperation, statusCode: number, err: string): void {
    if (isFinalStatus(op.rec.statusCode)) return;
    for (const t of op.timers.splice(0)) t.dispose();
    this.update(op, { statusCode, err, mayCancel: op.rec.class === 'token' });
    op.resolveDone();
    this.options.log.info(
      { op: op.rec.id, type: op.rec.type, status: STATUS_TEXT[statusCode as StatusCode], reqId: op.rec.requestId },
      'operation finished',
    );
    this.scheduleRemoval(op);
  }

  private scheduleRemoval(op: LiveOperation): void {
    op.timers.push(
      this.options.clock.setTimer(this.retentionMs, () => {
        if (this.ops.get(op.rec.id) !== op) return;
        this.ops.delete(op.rec.id);
        this.persist(op, () => this.options.store.delete(op.rec.id));
      }),
    );
  }

  private update(op: LiveOperation, patch: Partial<Mutable<OperationRecord>>, persist = true): void {
    Object.assign(op.rec, patch, { updatedAt: this.timestamp() });
    if (persist) this.persist(op, () => this.options.store.put({ ...op.rec }));
    this.emit(op);
  }

  private persist(op: LiveOperation, write: () => Promise<void>): void {
    if (this.closing) return;
    op.persisting = op.persisting.then(write).catch((err: unknown) => {
      // The in-memory state stays authoritative on this member; a lost write only matters after failover.
      this.options.log.warn({ err, op: op.rec.id }, 'failed to persist operation');
    });
  }

  private emit(op: LiveOperation): void {
    this.options.events.operation(this.render(op), op.rec.project);
  }

  private render(op: LiveOperation): Operation {
    const r = op.rec;
    return {
      id: r.id,
      class: r.class,
      description: r.description,
      created_at: r.createdAt,
      updated_at: r.updatedAt,
      status: STATUS_TEXT[r.statusCode as StatusCode] ?? 'Unknown',
      status_code: r.statusCode,
      resources: cloneResources(r.resources),
      metadata: op.metadata ? { ...op.metadata } : null,
      may_cancel: r.mayCancel && (r.class === 'token' || !isFinalStatus(r.statusCode)),
      err: r.err,
      location: r.location,
    };
  }

  private require(id: string): LiveOperation {
    const op = this.ops.get(id);
    if (!op) throw new ShoalError(ErrorCode.NotFound, 'Operation not found');
    return op;
  }

  private timestamp(): string {
    return new Date(this.options.clock.now()).toISOString();
  }
}

function cloneResources(resources: Readonly<Record<string, readonly string[]>>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(resources)) out[k] = [...v];
  return out;
}

function normalizeMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(metadata)) {
    if (k.endsWith('_progress') && typeof v !== 'string') metadata[k] = String(v);
  }
  return metadata;
}

function stripSecrets(metadata: Record<string, unknown> | null, secretKeys: readonly string[]): Record<string, unknown> | null {
  if (!metadata) return null;
  if (secretKeys.length === 0) return { ...metadata };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) if (!secretKeys.includes(k)) out[k] = v;
  return out;
}
