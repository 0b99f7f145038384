/**
 * The idempotency ledger: one record per operation id, so the leader can repeat any mutating call
 * (after a timeout, a failover, an agent restart) and get the effect of one.
 *
 * - Same id, same request, finished with success: the recorded result is returned, nothing runs.
 * - Same id, same request, still running in this process: the caller joins the running work.
 * - Same id, same request, failed or left running by a dead process: the work runs again. Work
 *   is written so that this is safe: drivers are idempotent and a failure reverted everything.
 * - Same id, different request (or method): INVALID_ARGUMENT.
 *
 * State transitions are written with `sync: true`, each as one batch: the `running` record before
 * the work changes anything, the outcome (with its expiry index entry) before the caller hears of
 * it. Work may join its own local-state writes to those batches through the
 * {@link OperationJournal} it is given, so that one operation costs two synced writes: with
 * `runJournaled` the `running` record goes with the work's first journal write (its intent
 * record, e.g. an instance `creating`), and `onSuccess` writes go with the success record (e.g.
 * the instance `created`). A crash leaves either both or neither of each batch.
 * Finished records expire after `maxAgeMs` or beyond `maxEntries` (oldest first); running records
 * never expire.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, ShoalError, errorMessage, type Clock, type Logger } from '../shared/index.js';
import { delOp, putOp, type DbBatch, type DbOp, type KvTable } from './agent-db.js';

/** A JSON value (results and requests are stored as JSON). */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [k: string]: JsonValue };

/** A stored failure. */
export interface OperationError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryable: boolean;
}

/** One operation as recorded. */
export interface OperationRecord {
  readonly id: string;
  /** The RPC name (`CreateInstance`). */
  readonly method: string;
  /** SHA-256 of method + canonical JSON of the request. */
  readonly requestHash: string;
  /** The request (without bulk data), for recovery at start-up. */
  readonly request: JsonValue;
  readonly state: 'running' | 'succeeded' | 'failed';
  readonly result?: JsonValue;
  readonly error?: OperationError;
  /** How many times the work was started for this id. */
  readonly attempts: number;
  readonly startedAt: number;
  readonly finishedAt?: number;
}

/** Where the ledger keeps its records (sublevels of the agent DB). */
export interface LedgerStores {
  readonly ops: KvTable<OperationRecord>;
  /** `<finishedAt, 15 digits>!<id>` → id: finished records by age, for expiry. */
  readonly byTime: KvTable<string>;
  /** Atomic writes across the ledger's and the work's tables (same DB). */
  readonly batch: DbBatch;
}

/** What work run by the ledger may add to its operation's synced writes. */
export interface OperationJournal {
  /**
   * Writes `ops` in one synced batch, together with the operation's `running` record when it is
   * not written yet (`runJournaled`: the work calls this before it changes anything on the host).
   */
  write(ops: readonly DbOp[]): Promise<void>;
  /** Adds `ops` to the synced batch that records the operation's success; dropped on failure. */
  onSuccess(ops: readonly DbOp[]): void;
}

/** Expiry limits of {@link OperationLedger}. */
export interface LedgerLimits {
  readonly maxAgeMs: number;
  readonly maxEntries: number;
}

export const DEFAULT_LEDGER_LIMITS: LedgerLimits = { maxAgeMs: 24 * 3600 * 1000, maxEntries: 10_000 };

const PRUNE_EVERY = 256;
const SYNC = { sync: true } as const;

/** Deterministic JSON: object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
    }
    return v;
  });
}

/** The identity of a request: method plus its canonical JSON. */
export function requestHash(method: string, request: JsonValue): string {
  return createHash('sha256').update(method).update('\0').update(canonicalJson(request)).digest('hex');
}

/** See the module comment. Concurrent use is safe; one instance per agent DB. */
export class OperationLedger {
  private readonly inflight = new Map<string, { readonly hash: string; readonly done: Promise<unknown> }>();
  private finishedSincePrune = 0;

  constructor(
    private readonly stores: LedgerStores,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly limits: LedgerLimits = DEFAULT_LEDGER_LIMITS,
  ) {}

  /**
   * Runs `work` once per operation id (see the module comment). `encode` turns the result into
   * the JSON stored for replays (default: the result itself, which must then be plain JSON).
   * The `running` record is written (synced) before `work` starts.
   */
  run<T>(
    opId: string,
    method: string,
    request: JsonValue,
    work: (journal: OperationJournal) => Promise<T>,
    encode: (result: T) => JsonValue = (r) => r as JsonValue,
  ): Promise<T> {
    return this.start(opId, method, request, work, encode, false);
  }

  /**
   * As `run`, but the `running` record is written with the work's first `journal.write` (or with
   * the outcome when the work writes nothing): the work must call `journal.write` before it
   * changes anything on the host, so that a crash after that point finds the record.
   */
  runJournaled<T>(
    opId: string,
    method: string,
    request: JsonValue,
    work: (journal: OperationJournal) => Promise<T>,
    encode: (result: T) => JsonValue = (r) => r as JsonValue,
  ): Promise<T> {
    return this.start(opId, method, request, work, encode, true);
  }

  private start<T>(
    opId: string,
    method: string,
    request: JsonValue,
    work: (journal: OperationJournal) => Promise<T>,
    encode: (result: T) => JsonValue,
    deferRunning: boolean,
  ): Promise<T> {
    if (!opId) return Promise.reject(new ShoalError(ErrorCode.InvalidArgument, `Missing operation id for ${method}`));
    const hash = requestHash(method, request);
    const running = this.inflight.get(opId);
    if (running) {
      if (running.hash !== hash) return Promise.reject(mismatch(opId, method));
      return running.done as Promise<T>;
    }
    // Registered synchronously so that a concurrent repeat joins this run.
    const done = this.execute(opId, method, request, hash, work, encode, deferRunning);
    this.inflight.set(opId, { hash, done });
    const forget = (): void => void this.inflight.delete(opId);
    done.then(forget, forget);
    return done;
  }

  /** The record of an operation, if any. */
  async get(opId: string): Promise<OperationRecord | undefined> {
    return this.stores.ops.get(opId);
  }

  /** Records left `running` (by a process that died mid-operation), oldest first. */
  async unfinished(): Promise<OperationRecord[]> {
    const out: OperationRecord[] = [];
    for await (const rec of this.stores.ops.values()) {
      if (rec.state === 'running' && !this.inflight.has(rec.id)) out.push(rec);
    }
    return out.sort((a, b) => a.startedAt - b.startedAt);
  }

  /** Marks an unfinished record as failed (recovery rolled it back or gave up on it). */
  async abandon(opId: string, error: OperationError): Promise<void> {
    const rec = await this.stores.ops.get(opId);
    if (!rec || rec.state !== 'running') return;
    await this.finish(rec, { state: 'failed', error });
  }

  /** Marks an unfinished record as succeeded (recovery finished its work). */
  async complete(opId: string, result: JsonValue): Promise<void> {
    const rec = await this.stores.ops.get(opId);
    if (!rec || rec.state !== 'running') return;
    await this.finish(rec, { state: 'succeeded', result });
  }

  /** Drops expired finished records. Returns how many were removed. */
  async prune(): Promise<number> {
    const cutoff = this.clock.now() - this.limits.maxAgeMs;
    const entries: Array<{ key: string; id: string; at: number }> = [];
    for await (const [key, id] of this.stores.byTime.iterator()) {
      entries.push({ key, id, at: Number(key.slice(0, 15)) });
    }
    const excess = Math.max(0, entries.length - this.limits.maxEntries);
    const drop = entries.filter((e, i) => i < excess || e.at < cutoff);
    if (drop.length === 0) return 0;
    await this.stores.ops.batch(drop.map((e) => ({ type: 'del' as const, key: e.id })));
    await this.stores.byTime.batch(drop.map((e) => ({ type: 'del' as const, key: e.key })));
    this.log.debug({ removed: drop.length }, 'operation ledger pruned');
    return drop.length;
  }

  private async execute<T>(
    opId: string,
    method: string,
    request: JsonValue,
    hash: string,
    work: (journal: OperationJournal) => Promise<T>,
    encode: (result: T) => JsonValue,
    deferRunning: boolean,
  ): Promise<T> {
    const prev = await this.stores.ops.get(opId);
    if (prev && prev.requestHash !== hash) throw mismatch(opId, method);
    if (prev?.state === 'succeeded') {
      this.log.debug({ op: opId, method }, 'operation replayed from ledger');
      return prev.result as T;
    }
    if (prev) this.log.info({ op: opId, method, state: prev.state }, 'operation run again');
    const rec: OperationRecord = {
      id: opId,
      method,
      requestHash: hash,
      request,
      state: 'running',
      attempts: (prev?.attempts ?? 0) + 1,
      startedAt: this.clock.now(),
    };
    // Writing `running` also drops the previous attempt's expiry entry.
    let runningOps: DbOp[] | null = [
      ...(prev?.finishedAt !== undefined ? [delOp(this.stores.byTime, timeKey(prev.finishedAt, opId))] : []),
      putOp(this.stores.ops, opId, rec),
    ];
    const takeRunning = (): DbOp[] => {
      const ops = runningOps ?? [];
      runningOps = null;
      return ops;
    };
    if (!deferRunning) await this.stores.batch(takeRunning(), SYNC);
    const onSuccess: DbOp[] = [];
    const journal: OperationJournal = {
      write: (ops) => this.stores.batch([...takeRunning(), ...ops], SYNC),
      onSuccess: (ops) => void onSuccess.push(...ops),
    };
    let result: T;
    try {
      result = await work(journal);
    } catch (err) {
      const e = err instanceof ShoalError ? err : undefined;
      await this.finish(
        rec,
        {
          state: 'failed',
          error: {
            code: e?.code ?? ErrorCode.Internal,
            message: errorMessage(err),
            retryable: e?.retryable ?? false,
          },
        },
        takeRunning().filter((o) => o.type === 'del'),
      );
      throw err;
    }
    await this.finish(rec, { state: 'succeeded', result: encode(result) }, [...takeRunning().filter((o) => o.type === 'del'), ...onSuccess]);
    return result;
  }

  /** Records the outcome, its expiry entry and `extra` in one synced batch. */
  private async finish(
    rec: OperationRecord,
    outcome: { state: 'succeeded'; result: JsonValue } | { state: 'failed'; error: OperationError },
    extra: readonly DbOp[] = [],
  ): Promise<void> {
    const finishedAt = this.clock.now();
    const done: OperationRecord = { ...rec, ...outcome, finishedAt };
    await this.stores.batch(
      [...extra, putOp(this.stores.ops, rec.id, done), putOp(this.stores.byTime, timeKey(finishedAt, rec.id), rec.id)],
      SYNC,
    );
    if (++this.finishedSincePrune >= PRUNE_EVERY) {
      this.finishedSincePrune = 0;
      await this.prune();
    }
  }
}

function timeKey(at: number, id: string): string {
  return `${String(at).padStart(15, '0')}!${id}`;
}

function mismatch(opId: string, method: string): ShoalError {
  return new ShoalError(
    ErrorCode.InvalidArgument,
    `Operation "${opId}" was already used for a different request (${method})`,
  );
}
