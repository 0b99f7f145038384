/**
 * LevelLogStorage: the durable raft log on LevelDB (classic-level), etcd's "MemoryStorage + WAL"
 * pair in one class. A MemoryLogStorage is the synchronous read view the core uses; every
 * mutation is first written as ONE LevelDB batch (entries, truncation deletes, hard state and
 * snapshot together, fsynced when asked) and only after that batch resolves is the view changed,
 * so the view never shows what is not durable.
 *
 * Where it lives: either a directory (the storage opens and owns a ClassicLevel there) or an
 * already-open ClassicLevel shared with the state machine, under a sublevel prefix (default
 * "raft"). Sharing one DB lets the state machine write "effects + applied index" atomically in
 * its own sublevel without a second LevelDB (and a second fsync stream) per member. The storage
 * then never closes the shared DB; its owner does.
 *
 * Snapshot data is stored inside LevelDB, split in 1 MiB chunks, rather than as a
 * file: installing a snapshot received from the leader (data, metadata, discarding the log, hard
 * state) is then one atomic synced batch with nothing to clean up after a crash, and it works the
 * same when the caller hands us a DB without a directory of our own. The cost is LevelDB
 * compaction rewriting the data a few times; that is fine for snapshots of tens of MiB (see
 * README: a file store is the upgrade path for much larger states).
 *
 * Format and verification: records.ts and level-load.ts.
 */
import { ClassicLevel } from 'classic-level';
import { ErrorCode, ShoalError } from '../../shared/index.js';
import type { DurableLogStorage, RaftLogger } from '../ports.js';
import { EntryType, RaftInvariantError, type ConfState, type Entry, type HardState, type Snapshot } from '../types.js';
import { loadLog, type LoadedLog } from './level-load.js';
import { MemoryLogStorage } from './memory-storage.js';
import {
  HARD_STATE_KEY,
  LOG_START_KEY,
  SNAPSHOT_META_KEY,
  chunkKey,
  dataCrc,
  encodeEntry,
  encodeHardState,
  encodeLogStart,
  encodeSnapshotMeta,
  entryKey,
  sealRecord,
  type LogStart,
} from './records.js';

/** Any open ClassicLevel, whatever its default encodings (the storage uses binary sublevel keys). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the DB's default encodings are the owner's choice
export type SharedLevel = ClassicLevel<any, any>;

type Sub = ReturnType<typeof subOf>;
type Op = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/** Options of {@link LevelLogStorage.open}: exactly one of `path` or `db`. */
export type LevelLogStorageOptions = (
  { readonly path: string; readonly db?: undefined } | { readonly db: SharedLevel; readonly path?: undefined }
) & {
  /** Sublevel name holding the raft records. Default `raft`. */
  readonly prefix?: string;
  readonly logger?: RaftLogger;
};

/** Snapshot data is stored in values of this size (a format constant: deletes recompute chunk keys from it). */
export const SNAPSHOT_CHUNK_BYTES = 1 << 20;

function subOf(db: SharedLevel, prefix: string) {
  return db.sublevel<Uint8Array, Uint8Array>(prefix, { keyEncoding: 'view', valueEncoding: 'view' });
}

/**
 * A {@link DurableLogStorage} on classic-level. Reads (`entries`, `term`, …) are synchronous and
 * served from memory. Mutations (`persist`, `createSnapshot`) may be called concurrently; they
 * are applied one at a time in call order. After `close()` mutations reject with
 * FAILED_PRECONDITION.
 */
export class LevelLogStorage implements DurableLogStorage {
  private readonly view: MemoryLogStorage;
  /** Invariant: the entry just before view.firstIndex() (what the 'c' record says, or the snapshot). */
  private logStart: LogStart;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    /** The LevelDB holding the log; shared with the state machine when passed in. */
    readonly db: SharedLevel,
    private readonly sub: Sub,
    private readonly ownsDb: boolean,
    loaded: LoadedLog,
    private readonly log: RaftLogger | undefined,
  ) {
    this.logStart = loaded.logStart;
    this.view = viewOf(loaded);
  }

  /**
   * Opens (creating if needed) the storage and loads the whole log into memory after verifying
   * every record. Throws ShoalError DATA_LOSS when anything stored is corrupt or inconsistent,
   * and UNAVAILABLE when the DB cannot be opened (e.g. LEVEL_LOCKED: another process has it).
   */
  static async open(options: LevelLogStorageOptions): Promise<LevelLogStorage> {
    const prefix = options.prefix ?? 'raft';
    let db: SharedLevel;
    let owns = false;
    if (options.db) {
      db = options.db;
    } else {
      db = new ClassicLevel<Uint8Array, Uint8Array>(options.path, { keyEncoding: 'view', valueEncoding: 'view' });
      owns = true;
      try {
        await db.open();
      } catch (err) {
        throw new ShoalError(ErrorCode.Unavailable, `Failed opening raft log "${options.path}"`, { cause: err });
      }
    }
    try {
      const sub = subOf(db, prefix);
      const where = `${db.location}${sub.prefix}`;
      const loaded = await loadLog(sub, where);
      const storage = new LevelLogStorage(db, sub, owns, loaded, options.logger);
      options.logger?.info(
        {
          path: where,
          firstIndex: storage.firstIndex(),
          lastIndex: storage.lastIndex(),
          snapshotIndex: loaded.snapshot.meta.index,
        },
        'raft log loaded',
      );
      return storage;
    } catch (err) {
      if (owns) await db.close();
      throw err;
    }
  }

  // ---- LogStorage (synchronous view of what is durable) ----

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.view.initialState();
  }
  entries(lo: number, hi: number, maxSizeBytes: number): readonly Entry[] {
    return this.view.entries(lo, hi, maxSizeBytes);
  }
  term(i: number): number {
    return this.view.term(i);
  }
  firstIndex(): number {
    return this.view.firstIndex();
  }
  lastIndex(): number {
    return this.view.lastIndex();
  }
  snapshot(): Snapshot {
    return this.view.snapshot();
  }

  // ---- DurableLogStorage ----

  /**
   * One LevelDB batch: install `snapshot` (if newer than the current one: its data and metadata,
   * and deletes of every stored entry), put `entries` and delete the stored suffix they replace,
   * put `hardState`. Fsynced when `sync`. The in-memory view changes only after the batch is
   * durable. Throws RaftInvariantError when the entries leave a gap, are not contiguous or
   * decrease in term, or when `hardState.commit` is beyond the resulting last index (nothing is
   * written then).
   */
  persist(update: {
    readonly hardState?: HardState;
    readonly entries: readonly Entry[];
    readonly snapshot?: Snapshot;
    readonly sync: boolean;
  }): Promise<void> {
    return this.serialize(async () => {
      const ops: Op[] = [];
      let start = this.logStart;
      let last = this.view.lastIndex();
      let snapshot: Snapshot | undefined;
      let newLogStart: LogStart | undefined;
      if (update.snapshot && update.snapshot.meta.index > this.view.snapshot().meta.index) {
        snapshot = update.snapshot;
        for (let i = start.index + 1; i <= last; i++) ops.push({ type: 'del', key: entryKey(i) });
        this.snapshotOps(ops, snapshot);
        newLogStart = { index: snapshot.meta.index, term: snapshot.meta.term };
        ops.push(this.put(LOG_START_KEY, encodeLogStart(newLogStart)));
        start = newLogStart;
        last = start.index;
      }
      const kept = update.entries.filter((e) => e.index > start.index);
      if (kept.length > 0) {
        checkAppend(kept, start, last, (i) => (i === start.index ? start.term : this.view.term(i)));
        for (const e of kept) ops.push(this.put(entryKey(e.index), encodeEntry(e)));
        const end = kept[kept.length - 1]!.index;
        for (let i = end + 1; i <= last; i++) ops.push({ type: 'del', key: entryKey(i) });
      }
      const newLast = kept.length > 0 ? kept[kept.length - 1]!.index : last;
      if (update.hardState) {
        // Checked here so that a bad update fails now instead of making the log unopenable.
        if (update.hardState.commit > newLast) {
          throw new RaftInvariantError(`commit ${update.hardState.commit} is beyond the last index ${newLast}`);
        }
        ops.push(this.put(HARD_STATE_KEY, encodeHardState(update.hardState)));
      }
      if (ops.length === 0) return;

      await this.write(ops, update.sync);

      if (snapshot && newLogStart) {
        this.view.applySnapshot(snapshot);
        this.logStart = newLogStart;
      }
      if (kept.length > 0) this.view.append(kept);
      if (update.hardState) this.view.setHardState(update.hardState);
    });
  }

  /**
   * Stores a snapshot of the applied state at `index` (one synced batch: metadata and data,
   * replacing the previous snapshot's), then compacts the log through `index - trailing` (a
   * second batch; it is atomic, so a crash between or during the two leaves a consistent store).
   * A snapshot at or below the current one is not stored; the current one is returned.
   * Throws RaftInvariantError when `index > lastIndex()`.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array, trailing: number): Promise<Snapshot> {
    return this.serialize(async () => {
      const current = this.view.snapshot();
      if (index <= current.meta.index) return current;
      if (index > this.view.lastIndex()) {
        throw new RaftInvariantError(`snapshot ${index} is out of bound lastindex(${this.view.lastIndex()})`);
      }
      const snap: Snapshot = { meta: { index, term: this.view.term(index), confState }, data };
      const ops: Op[] = [];
      this.snapshotOps(ops, snap);
      // The log still starts below the new snapshot: say so (an absent record means "at the snapshot").
      ops.push(this.put(LOG_START_KEY, encodeLogStart(this.logStart)));
      await this.write(ops, true);
      this.view.createSnapshot(index, confState, data);

      const compactIndex = index - Math.max(0, trailing);
      if (compactIndex > this.logStart.index) {
        const start: LogStart = { index: compactIndex, term: this.view.term(compactIndex) };
        const dels: Op[] = [this.put(LOG_START_KEY, encodeLogStart(start))];
        for (let i = this.logStart.index + 1; i <= compactIndex; i++) dels.push({ type: 'del', key: entryKey(i) });
        // Not synced: losing this batch in a machine crash only leaves entries we meant to drop.
        await this.write(dels, false);
        this.view.compact(compactIndex);
        this.logStart = start;
        this.log?.debug({ index, compactIndex, entriesRemoved: dels.length - 1 }, 'raft log compacted');
      }
      return snap;
    });
  }

  /** Waits for pending mutations, then closes the DB if the storage opened it. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail.catch(() => undefined); // Failures were already delivered to their callers.
    if (this.ownsDb) await this.db.close();
  }

  // ---- Internals ----

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ShoalError(ErrorCode.FailedPrecondition, 'Raft log is closed'));
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined); // The caller receives the failure through `run`.
    return run;
  }

  /** One atomic LevelDB batch on the root DB (so `sync` reaches LevelDB's WriteOptions). */
  private write(ops: readonly Op[], sync: boolean): Promise<void> {
    return this.db.batch(
      ops.map((op) => ({ ...op, sublevel: this.sub })),
      { sync },
    );
  }

  private put(key: Uint8Array, payload: Uint8Array): Op {
    return { type: 'put', key, value: sealRecord(key, payload) };
  }

  /** Ops replacing the stored snapshot (metadata + chunks) with `snap`. */
  private snapshotOps(ops: Op[], snap: Snapshot): void {
    const old = this.view.snapshot();
    const oldChunks = chunkCount(old.data.length);
    for (let n = 0; n < oldChunks; n++) ops.push({ type: 'del', key: chunkKey(old.meta.index, n) });
    const chunks = chunkCount(snap.data.length);
    for (let n = 0; n < chunks; n++) {
      const key = chunkKey(snap.meta.index, n);
      ops.push(this.put(key, snap.data.subarray(n * SNAPSHOT_CHUNK_BYTES, (n + 1) * SNAPSHOT_CHUNK_BYTES)));
    }
    const meta = { ...snap.meta, size: snap.data.length, chunks, crc: dataCrc(snap.data) };
    ops.push(this.put(SNAPSHOT_META_KEY, encodeSnapshotMeta(meta)));
  }
}

function chunkCount(size: number): number {
  return Math.ceil(size / SNAPSHOT_CHUNK_BYTES);
}

/**
 * Checks that `kept` (all beyond the log start) can be appended to a log ending at `last`:
 * contiguous, no gap, terms never decreasing from the entry before the first one.
 */
function checkAppend(kept: readonly Entry[], start: LogStart, last: number, termAt: (i: number) => number): void {
  const first = kept[0]!;
  if (first.index > last + 1) {
    throw new RaftInvariantError(`missing log entries: last stored ${last}, appending from ${first.index}`);
  }
  let prevTerm = first.index - 1 <= start.index ? start.term : termAt(first.index - 1);
  for (let k = 0; k < kept.length; k++) {
    const e = kept[k]!;
    if (e.index !== first.index + k) throw new RaftInvariantError(`entries not contiguous at ${e.index}`);
    if (e.term < prevTerm)
      throw new RaftInvariantError(`entry ${e.index} term ${e.term} below previous term ${prevTerm}`);
    if (e.type !== EntryType.Normal && e.type !== EntryType.ConfChange) {
      throw new RaftInvariantError(`entry ${e.index} has unknown type ${String(e.type)}`);
    }
    prevTerm = e.term;
  }
}

/**
 * Builds the in-memory view of a loaded log. MemoryLogStorage keeps its dummy entry at the
 * snapshot; when a trailing log was kept below the snapshot (logStart < snapshot index), the view
 * is built from the log start and the snapshot recorded on top of it, which is exactly the state
 * `createSnapshot` + `compact` produced before the restart.
 */
function viewOf(loaded: LoadedLog): MemoryLogStorage {
  const { hardState, snapshot, logStart, entries } = loaded;
  if (logStart.index === snapshot.meta.index) return new MemoryLogStorage({ hardState, snapshot, entries });
  const base: Snapshot = {
    meta: { index: logStart.index, term: logStart.term, confState: snapshot.meta.confState },
    data: new Uint8Array(0),
  };
  const view = new MemoryLogStorage({ hardState, snapshot: base, entries });
  view.createSnapshot(snapshot.meta.index, snapshot.meta.confState, snapshot.data);
  return view;
}
