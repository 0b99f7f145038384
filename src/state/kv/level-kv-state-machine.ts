/**
 * LevelKvStateMachine: the replicated key-value store applied from the Raft log into LevelDB.
 *
 * It lives in the same classic-level database as the Raft log (its own sublevels `kv` and `kvm`),
 * and writes each apply's effects, the applied index and the global revision in ONE batch, so a
 * crash leaves either all of an apply or none of it: an entry is never applied twice nor skipped.
 *
 * Apply batches are not synced, on purpose. The Raft log is the durable record: every applied entry
 * is already fsynced in the log. LevelDB appends all writes of one database to one write-ahead log
 * in order and recovers a prefix of it, so after a machine crash an unsynced apply batch is either
 * entirely present or entirely absent together with the applied index it carries; when absent, the
 * runtime replays those entries from the (synced) log. Any later synced write (the next persist,
 * or log compaction) also makes every earlier apply batch durable, because it syncs the same WAL.
 *
 * Write-behind: apply() computes results in memory and returns them without waiting for its batch
 * to land; batches are written strictly one after another (so the stored applied index always
 * matches the stored effects), and reads consult the records of batches still in flight first.
 * A client's acknowledgement therefore does not wait behind the next fsync in LevelDB's single
 * write queue. list(), digest() and snapshot() wait for the batches in flight (flush()).
 */
import { createHash } from 'node:crypto';
import type { BatchOperation } from 'classic-level';
import { EntryType, type Entry, type SharedLevel, type Snapshot, type StateMachine } from '../../raft/index.js';
import { KvSnapshot } from '../../../proto/gen/shoal/kv/v1/kv.js';
import { ErrorCode, ShoalError } from '../../shared/index.js';
import { applyCommand, decodeRecord, encodeRecord, type KeyRecord, type KeyValueView, type KvResult } from './apply.js';
import { decodeCommand } from './command.js';

/**
 * Any open classic-level database (the raft log's, shared); the state machine uses its own
 * sublevels with their own encodings, whatever the database's defaults are.
 */
export type KvDatabase = SharedLevel;

const APPLIED = 'applied';
const REVISION = 'revision';

/** Ways a batch of entries may be applied; see {@link LevelKvStateMachine.apply}. */
export type KvApplyResult = KvResult | undefined;

/**
 * The KV state machine (raft `StateMachine`). Not safe for concurrent `apply`/`restore` calls: the
 * Raft runtime calls them one at a time, in index order. Reads may run concurrently with applies.
 */
export class LevelKvStateMachine implements StateMachine<KvApplyResult> {
  private applied = 0;
  private rev = 0;
  /** Latest records of keys whose batch has not landed yet (null = deleted). */
  private readonly pending = new Map<string, KeyRecord | null>();
  /** The chain of batch writes; each starts after the previous one landed. */
  private writing: Promise<void> = Promise.resolve();
  private writeError: unknown;

  private constructor(
    private readonly db: KvDatabase,
    private readonly data: ReturnType<typeof dataSublevel>,
    private readonly meta: ReturnType<typeof metaSublevel>,
  ) {}

  /** Opens the state machine in `db` (which must be open) and loads its applied index and revision. */
  static async open(db: KvDatabase): Promise<LevelKvStateMachine> {
    const sm = new LevelKvStateMachine(db, dataSublevel(db), metaSublevel(db));
    const [applied, revision] = await sm.meta.getMany([APPLIED, REVISION]);
    sm.applied = parseCounter(applied, APPLIED);
    sm.rev = parseCounter(revision, REVISION);
    return sm;
  }

  /** The applied index, including batches still being written (durable after {@link flush}). */
  appliedIndex(): number {
    return this.applied;
  }

  /** The global revision: the number of writes that changed something. */
  revision(): number {
    return this.rev;
  }

  /**
   * Applies committed entries in index order and returns one result per entry. Entries at or
   * below the applied index are skipped (result `undefined`), as are ConfChange entries and the
   * leader's empty no-ops (which still advance the applied index). All effects and the new applied
   * index go to LevelDB in one batch.
   */
  async apply(entries: readonly Entry[]): Promise<readonly KvApplyResult[]> {
    if (this.writeError !== undefined) throw this.failed();
    const results: KvApplyResult[] = new Array<KvApplyResult>(entries.length).fill(undefined);
    const commands = [];
    const keys = new Set<string>();
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
      commands.push({ i, cmd });
      if (typeof cmd !== 'string') keys.add(cmd.key);
    }
    if (last === this.applied) return results;

    // Read every touched key once, then apply in order against an overlay of this batch's writes.
    // Synchronous reads (memtable / block cache, microseconds) spare the apply a thread-pool round
    // trip per batch, which costs milliseconds on a busy machine.
    const overlay = new Map<string, KeyRecord | null>();
    for (const k of keys) {
      if (this.pending.has(k)) {
        overlay.set(k, this.pending.get(k)!);
        continue;
      }
      const raw = this.data.getSync(k);
      overlay.set(k, raw === undefined ? null : (decodeRecord(raw) ?? null));
    }
    const changed = new Set<string>();
    let rev = this.rev;
    for (const { i, cmd } of commands) {
      if (typeof cmd === 'string') {
        results[i] = { kind: 'invalid', revision: rev, reason: cmd };
        continue;
      }
      const out = applyCommand(overlay.get(cmd.key) ?? undefined, cmd, rev);
      rev = out.revision;
      results[i] = out.result;
      if (out.next !== undefined) {
        overlay.set(cmd.key, out.next);
        changed.add(cmd.key);
      }
    }

    const ops: BatchOperation<KvDatabase, unknown, unknown>[] = [];
    const written: [string, KeyRecord | null][] = [];
    for (const key of changed) {
      const rec = overlay.get(key)!;
      written.push([key, rec]);
      this.pending.set(key, rec);
      ops.push(
        rec === null
          ? { type: 'del', sublevel: this.data, key }
          : { type: 'put', sublevel: this.data, key, value: encodeRecord(rec) },
      );
    }
    ops.push({ type: 'put', sublevel: this.meta, key: APPLIED, value: String(last) });
    ops.push({ type: 'put', sublevel: this.meta, key: REVISION, value: String(rev) });
    // Not synced: see the file header (the Raft log is synced; the WAL keeps this batch atomic).
    // Chained, so batches land in apply order; results do not wait for it (write-behind).
    this.writing = this.writing.then(
      () =>
        this.db.batch(ops, { sync: false }).then(
          () => {
            for (const [key, rec] of written) if (this.pending.get(key) === rec) this.pending.delete(key);
          },
          (err: unknown) => {
            this.writeError = err;
          },
        ),
    );
    this.applied = last;
    this.rev = rev;
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

  /** Reads one key from local state (serializable; linearizable when called after a ReadIndex). */
  async get(key: string): Promise<KeyValueView | undefined> {
    if (this.pending.has(key)) {
      const rec = this.pending.get(key);
      return rec ? { key, ...rec } : undefined;
    }
    const raw = await this.data.get(key);
    const rec = raw === undefined ? undefined : decodeRecord(raw);
    return rec === undefined ? undefined : { key, ...rec };
  }

  /** Lists keys starting with `prefix` in key order (at most `limit`, 0 = all) from local state. */
  async list(prefix: string, limit = 0): Promise<KeyValueView[]> {
    await this.flush();
    const out: KeyValueView[] = [];
    const range = prefix === '' ? {} : { gte: prefix, lt: prefix + '\uffff' };
    for await (const [key, raw] of this.data.iterator({ ...range, ...(limit > 0 ? { limit } : {}) })) {
      const rec = decodeRecord(raw);
      if (rec) out.push({ key, ...rec });
    }
    return out;
  }

  /**
   * A consistent dump of every key (read under a LevelDB snapshot once the batches in flight have
   * landed); `index` is the applied index of that dump.
   */
  async snapshot(): Promise<{ index: number; data: Uint8Array }> {
    await this.flush();
    const snap = this.db.snapshot();
    try {
      const [applied, revision] = await this.meta.getMany([APPLIED, REVISION], { snapshot: snap });
      const kvs = [];
      for await (const [key, raw] of this.data.iterator({ snapshot: snap })) {
        const rec = decodeRecord(raw);
        if (rec) kvs.push({ key, value: Buffer.from(rec.value), version: rec.version, createRevision: rec.createRevision, modRevision: rec.modRevision });
      }
      const index = parseCounter(applied, APPLIED);
      const data = KvSnapshot.encode({ appliedIndex: index, revision: parseCounter(revision, REVISION), kvs }).finish();
      return { index, data };
    } finally {
      await snap.close();
    }
  }

  /** Replaces the whole state with `snapshot` in one synced batch (a rare, large operation). */
  async restore(snapshot: Snapshot): Promise<void> {
    await this.flush();
    let decoded: KvSnapshot;
    try {
      decoded = KvSnapshot.decode(snapshot.data);
    } catch (err) {
      throw new ShoalError(ErrorCode.DataLoss, `Snapshot at index ${snapshot.meta.index} is not a KV snapshot`, { cause: err, retryable: false });
    }
    if (snapshot.data.byteLength > 0 && decoded.appliedIndex !== snapshot.meta.index) {
      throw new ShoalError(
        ErrorCode.DataLoss,
        `Snapshot data is at index ${decoded.appliedIndex} but its metadata says ${snapshot.meta.index}`,
        { retryable: false },
      );
    }
    const ops: BatchOperation<KvDatabase, unknown, unknown>[] = [];
    for await (const key of this.data.keys()) ops.push({ type: 'del', sublevel: this.data, key });
    for (const kv of decoded.kvs) {
      const rec = { value: kv.value, version: kv.version, createRevision: kv.createRevision, modRevision: kv.modRevision };
      ops.push({ type: 'put', sublevel: this.data, key: kv.key, value: encodeRecord(rec) });
    }
    ops.push({ type: 'put', sublevel: this.meta, key: APPLIED, value: String(snapshot.meta.index) });
    ops.push({ type: 'put', sublevel: this.meta, key: REVISION, value: String(decoded.revision) });
    await this.db.batch(ops, { sync: true });
    this.pending.clear();
    this.applied = snapshot.meta.index;
    this.rev = decoded.revision;
  }

  /**
   * A SHA-256 over every key, value, version and revision in key order, with the key count.
   * Members with the same applied index must have the same digest.
   */
  async digest(): Promise<{ digest: string; keyCount: number; appliedIndex: number }> {
    await this.flush();
    const snap = this.db.snapshot();
    try {
      const applied = parseCounter(await this.meta.get(APPLIED, { snapshot: snap }), APPLIED);
      const h = createHash('sha256');
      let keyCount = 0;
      for await (const [key, raw] of this.data.iterator({ snapshot: snap })) {
        h.update(key).update('\0').update(raw);
        keyCount++;
      }
      return { digest: h.digest('hex'), keyCount, appliedIndex: applied };
    } finally {
      await snap.close();
    }
  }
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
