/**
 * LevelKvStateMachine: the replicated key-value store applied from the Raft log (raft's
 * `StateMachine` port), with etcd's Txn semantics (apply.ts), an in-memory copy-on-write index for
 * reads and views (tree.ts), the event history for watchers (watch-hub.ts), and LevelDB as the
 * durable copy.
 *
 * Durability. It lives in the same classic-level database as the Raft log (sublevels `kv` and
 * `kvm`) and writes each apply's effects, the applied index and the global revision in ONE batch,
 * so a crash leaves either all of an apply or none of it: an entry is never applied twice nor
 * skipped. Apply batches are not synced, on purpose: every applied entry is already fsynced in the
 * Raft log, and LevelDB appends all writes of one database to one write-ahead log in order and
 * recovers a prefix of it, so after a machine crash an unsynced apply batch is either entirely
 * present or entirely absent together with the applied index it carries; when absent, the runtime
 * replays those entries from the (synced) log.
 *
 * Write-behind. apply() updates the in-memory index and returns results at once; its batch is
 * written after the previous one landed (so the stored applied index always matches the stored
 * effects). Reads never touch LevelDB: they come from the in-memory index, which is rebuilt from
 * LevelDB at open. snapshot() and digest() read a view; restore() and flush() wait for the batches.
 */
import { createHash } from 'node:crypto';
import type { BatchOperation } from 'classic-level';
import { KvSnapshot } from '../../../proto/gen/shoal/kv/v1/kv.js';
import { EntryType, type Entry, type SharedLevel, type Snapshot, type StateMachine } from '../../raft/index.js';
import { ErrorCode, ShoalError, type Disposable } from '../../shared/index.js';
import { applyCommand, type KvReader, type KvResult } from './apply.js';
import { decodeCommand } from './command.js';
import { KvView } from './kv-view.js';
import { decodeRecord, encodeRecord, type KeyRecord, type KeyValueView } from './record.js';
import { createTree, rangePrefix, scanPrefix, type KvTree } from './tree.js';
import { toKeyValue } from './txn-codec.js';
import { WatchHub, type KvEvent, type ObserverFailure, type WatchObserver } from './watch-hub.js';

/**
 * Any open classic-level database (the raft log's, shared); the state machine uses its own
 * sublevels with their own encodings, whatever the database's defaults are.
 */
export type KvDatabase = SharedLevel;

const APPLIED = 'applied';
const REVISION = 'revision';
const EMPTY = new Uint8Array(0);

/** The result of applying one entry: undefined for no-ops, ConfChanges and already-applied entries. */
export type KvApplyResult = KvResult | undefined;

/** Options of {@link LevelKvStateMachine.open}. */
export interface KvStateMachineOptions {
  /** Events kept for watchers that start in the past. Default 20,000. */
  readonly historyEvents?: number;
  /** Called when a watch observer throws (the watch is cancelled). */
  readonly onObserverFailure?: ObserverFailure;
}

/**
 * The KV state machine. Not safe for concurrent `apply`/`restore` calls: the Raft runtime calls
 * them one at a time, in index order. Reads, views and watches may be used at any time.
 */
export class LevelKvStateMachine implements StateMachine<KvApplyResult> {
  private applied: number;
  private rev: number;
  private tree: KvTree;
  private hub: WatchHub;
  /** The chain of batch writes; each starts after the previous one landed. */
  private writing: Promise<void> = Promise.resolve();
  private writeError: unknown;
  private readonly reader: KvReader;

  private constructor(
    private readonly db: KvDatabase,
    private readonly data: ReturnType<typeof dataSublevel>,
    private readonly meta: ReturnType<typeof metaSublevel>,
    loaded: { applied: number; revision: number; tree: KvTree },
    private readonly opts: KvStateMachineOptions,
  ) {
    this.applied = loaded.applied;
    this.rev = loaded.revision;
    this.tree = loaded.tree;
    this.hub = new WatchHub(loaded.revision, opts.historyEvents, opts.onObserverFailure);
    this.reader = { get: (k) => this.tree.get(k), scan: (p) => scanPrefix(this.tree, p) };
  }

  /** Opens the state machine in `db` (which must be open): loads the applied index, revision and every key. */
  static async open(db: KvDatabase, opts: KvStateMachineOptions = {}): Promise<LevelKvStateMachine> {
    const data = dataSublevel(db);
    const meta = metaSublevel(db);
    const [applied, revision] = await meta.getMany([APPLIED, REVISION]);
    const tree = createTree();
    for await (const [key, raw] of data.iterator()) {
      const rec = decodeRecord(raw);
      if (rec === undefined) throw new ShoalError(ErrorCode.DataLoss, `Corrupt KV state: record of "${key}" is truncated`, { retryable: false });
      tree.set(key, { ...rec, value: rec.value.slice() });
    }
    return new LevelKvStateMachine(db, data, meta, { applied: parseCounter(applied, APPLIED), revision: parseCounter(revision, REVISION), tree }, opts);
  }

  /** The applied index, including batches still being written (durable after {@link flush}). */
  appliedIndex(): number {
    return this.applied;
  }

  /** The global revision: the number of commands that changed something. */
  revision(): number {
    return this.rev;
  }

  /** The highest revision whose events watchers can no longer get. */
  compactRevision(): number {
    return this.hub.compactRevision;
  }

  /**
   * Applies committed entries in index order and returns one result per entry. Entries at or
   * below the applied index are skipped (result `undefined`), as are ConfChange entries and the
   * leader's empty no-ops (which still advance the applied index). All effects and the new applied
   * index go to LevelDB in one batch; watchers get the events afterwards, asynchronously.
   */
  async apply(entries: readonly Entry[]): Promise<readonly KvApplyResult[]> {
    if (this.writeError !== undefined) throw this.failed();
    const results: KvApplyResult[] = new Array<KvApplyResult>(entries.length).fill(undefined);
    const written = new Map<string, KeyRecord | null>();
    const events: { revision: number; events: KvEvent[] }[] = [];
    let last = this.applied;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.index <= this.applied) continue;
      if (e.index !== last + 1) {
        throw new ShoalError(ErrorCode.Internal, `Entry ${e.index} applied after ${last}`, { retryable: false });
      }
      last = e.index;
      if (e.type !== EntryType.Normal || e.data.byteLength === 0) continue;
      const cmd = decodeCommand(e.data);
      if (typeof cmd === 'string') {
        results[i] = { kind: 'invalid', revision: this.rev, reason: cmd };
        continue;
      }
      const out = applyCommand(this.reader, cmd, this.rev);
      results[i] = out.result;
      if (out.changes.length === 0) continue;
      const evs: KvEvent[] = [];
      for (const c of out.changes) {
        if (c.next === null) {
          this.tree.delete(c.key);
          evs.push({
            type: 'delete',
            revision: out.revision,
            kv: { key: c.key, value: EMPTY, version: 0, createRevision: 0, modRevision: out.revision },
            ...(c.prev ? { prev: { key: c.key, ...c.prev } } : {}),
          });
        } else {
          this.tree.set(c.key, c.next);
          evs.push({ type: 'put', revision: out.revision, kv: { key: c.key, ...c.next }, ...(c.prev ? { prev: { key: c.key, ...c.prev } } : {}) });
        }
        written.set(c.key, c.next);
      }
      this.rev = out.revision;
      events.push({ revision: out.revision, events: evs });
    }
    if (last === this.applied) return results;

    const ops: BatchOperation<KvDatabase, unknown, unknown>[] = [];
    for (const [key, rec] of written) {
      ops.push(rec === null ? { type: 'del', sublevel: this.data, key } : { type: 'put', sublevel: this.data, key, value: encodeRecord(rec) });
    }
    ops.push({ type: 'put', sublevel: this.meta, key: APPLIED, value: String(last) });
    ops.push({ type: 'put', sublevel: this.meta, key: REVISION, value: String(this.rev) });
    // Not synced: see the file header (the Raft log is synced; the WAL keeps this batch atomic).
    // Chained, so batches land in apply order; results do not wait for it (write-behind).
    this.writing = this.writing.then(() =>
      this.db.batch(ops, { sync: false }).then(
        () => undefined,
        (err: unknown) => {
          this.writeError = err;
        },
      ),
    );
    this.applied = last;
    for (const r of events) this.hub.record(r.revision, r.events);
    return results;
  }

  /** Resolves once every batch applied so far is written; rejects if one failed. */
  async flush(): Promise<void> {
    await this.writing;
    if (this.writeError !== undefined) throw this.failed();
  }

  private failed(): ShoalError {
    return new ShoalError(ErrorCode.Internal, 'Writing applied entries to LevelDB failed', { cause: this.writeError, retryable: false });
  }

  /** A consistent read-only view of the current state (O(1)). */
  view(): KvView {
    return new KvView(this.tree.clone(), this.rev, this.applied);
  }

  /** Reads one key from local state (serializable; linearizable when called after a ReadIndex). */
  getKv(key: string): KeyValueView | undefined {
    const rec = this.tree.get(key);
    return rec === undefined ? undefined : { key, ...rec };
  }

  /** Async form of {@link getKv}, kept for the KvService handlers. */
  async get(key: string): Promise<KeyValueView | undefined> {
    return this.getKv(key);
  }

  /** Keys under `prefix` (at most `limit`, 0 = all) from local state, with the total count. */
  range(prefix: string, limit = 0): { kvs: KeyValueView[]; count: number } {
    return rangePrefix(this.tree, prefix, limit);
  }

  /** Lists keys starting with `prefix` in key order (at most `limit`, 0 = all) from local state. */
  async list(prefix: string, limit = 0): Promise<KeyValueView[]> {
    return this.range(prefix, limit).kvs;
  }

  /**
   * Watches keys under `prefix` from `fromRevision` (replaying retained history) or from now.
   * Throws FAILED_PRECONDITION when `fromRevision` was compacted. See WatchHub.
   */
  watch(prefix: string, fromRevision: number | undefined, observer: WatchObserver): Disposable {
    return this.hub.watch(prefix, fromRevision, observer);
  }

  /** A consistent dump of every key at the current applied index (from a view). */
  async snapshot(): Promise<{ index: number; data: Uint8Array }> {
    const v = this.view();
    return { index: v.appliedIndex, data: encodeSnapshot(v) };
  }

  /**
   * Replaces the whole state with `snapshot` in one synced batch (a rare, large operation). Watchers
   * are ended with FAILED_PRECONDITION: the events between the old and the new state are unknown.
   */
  async restore(snapshot: Snapshot): Promise<void> {
    await this.flush();
    let decoded: KvSnapshot;
    try {
      decoded = KvSnapshot.decode(snapshot.data);
    } catch (err) {
      throw new ShoalError(ErrorCode.DataLoss, `Snapshot at index ${snapshot.meta.index} is not a KV snapshot`, { cause: err, retryable: false });
    }
    if (snapshot.data.byteLength > 0 && decoded.appliedIndex !== snapshot.meta.index) {
      throw new ShoalError(ErrorCode.DataLoss, `Snapshot data is at index ${decoded.appliedIndex} but its metadata says ${snapshot.meta.index}`, {
        retryable: false,
      });
    }
    const ops: BatchOperation<KvDatabase, unknown, unknown>[] = [];
    for await (const key of this.data.keys()) ops.push({ type: 'del', sublevel: this.data, key });
    const tree = createTree();
    for (const kv of decoded.kvs) {
      const rec: KeyRecord = { value: kv.value, version: kv.version, createRevision: kv.createRevision, modRevision: kv.modRevision };
      tree.set(kv.key, rec);
      ops.push({ type: 'put', sublevel: this.data, key: kv.key, value: encodeRecord(rec) });
    }
    ops.push({ type: 'put', sublevel: this.meta, key: APPLIED, value: String(snapshot.meta.index) });
    ops.push({ type: 'put', sublevel: this.meta, key: REVISION, value: String(decoded.revision) });
    await this.db.batch(ops, { sync: true });
    this.tree = tree;
    this.applied = snapshot.meta.index;
    this.rev = decoded.revision;
    this.hub.reset(decoded.revision);
  }

  /**
   * A SHA-256 over every key and stored record (value, version, revisions) in key order, with the
   * key count, at `appliedIndex`. Members with the same applied index must have the same digest.
   */
  async digest(): Promise<{ digest: string; keyCount: number; appliedIndex: number; revision: number }> {
    const v = this.view();
    const h = createHash('sha256');
    for (const [key, rec] of v.scan('')) h.update(key).update('\0').update(encodeRecord(rec));
    return { digest: h.digest('hex'), keyCount: v.size, appliedIndex: v.appliedIndex, revision: v.revision };
  }
}

/** Encodes a view as snapshot data: deterministic (key order), so equal states give equal bytes. */
export function encodeSnapshot(v: KvView): Uint8Array {
  const kvs = [];
  for (const [key, rec] of v.scan('')) kvs.push(toKeyValue({ key, ...rec }));
  return KvSnapshot.encode({ appliedIndex: v.appliedIndex, revision: v.revision, kvs }).finish();
}

function dataSublevel(db: KvDatabase) {
  return db.sublevel<string, Uint8Array>('kv', { keyEncoding: 'utf8', valueEncoding: 'view' });
}

function metaSublevel(db: KvDatabase) {
  return db.sublevel<string, string>('kvm', { keyEncoding: 'utf8', valueEncoding: 'utf8' });
}

function parseCounter(raw: string | undefined, name: string): number {
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ShoalError(ErrorCode.DataLoss, `Corrupt KV state: "${name}" is "${raw}"`, { retryable: false });
  }
  return n;
}
