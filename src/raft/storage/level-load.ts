/**
 * Loading and verifying a LevelLogStorage at open. Everything stored is read once, every record's
 * CRC is checked, and the log's shape is verified: the snapshot's chunks are complete and match
 * its checksum, entries are contiguous from the log start, terms never decrease, the entry at the
 * snapshot index has the snapshot's term, and the commit index is within the log. Anything wrong
 * is a DATA_LOSS ShoalError naming the key; nothing is repaired or used silently.
 */
import { ErrorCode, ShoalError } from '../../shared/index.js';
import { EMPTY_HARD_STATE, EMPTY_SNAPSHOT, type Entry, type HardState, type Snapshot } from '../types.js';
import {
  CorruptRecordError,
  KeyTag,
  dataCrc,
  decodeEntry,
  decodeHardState,
  decodeLogStart,
  decodeSnapshotMeta,
  describeKey,
  openRecord,
  parseChunkKey,
  parseEntryKey,
  type LogStart,
  type StoredSnapshotMeta,
} from './records.js';

/** What a verified store holds. Invariant: entries[k].index === logStart.index + 1 + k. */
export interface LoadedLog {
  readonly hardState: HardState;
  readonly snapshot: Snapshot;
  readonly logStart: LogStart;
  readonly entries: readonly Entry[];
}

/** The minimal read surface the loader needs (a sublevel with binary keys and values). */
export interface RecordSource {
  iterator(): AsyncIterable<[Uint8Array, Uint8Array]>;
}

/**
 * Reads and verifies everything under the storage's prefix. `where` names the store in errors.
 * Throws ShoalError(DATA_LOSS) on any corrupt, missing or inconsistent record.
 */
export async function loadLog(source: RecordSource, where: string): Promise<LoadedLog> {
  const fail = (key: string, problem: string, details: Record<string, unknown> = {}): ShoalError =>
    new ShoalError(ErrorCode.DataLoss, `Raft log in "${where}" is corrupt: ${problem} (key ${key})`, {
      details: { key, ...details },
    });
  const open = (key: Uint8Array, value: Uint8Array, what: string): Uint8Array => {
    try {
      return openRecord(key, value);
    } catch (err) {
      if (err instanceof CorruptRecordError) throw fail(describeKey(key), `${what}: ${err.reason}`);
      throw err;
    }
  };
  const decode = <T>(key: Uint8Array, what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof CorruptRecordError) throw fail(describeKey(key), `${what}: ${err.reason}`);
      throw err;
    }
  };

  let hardState: HardState = EMPTY_HARD_STATE;
  let meta: StoredSnapshotMeta | undefined;
  let logStart: LogStart | undefined;
  const chunks: Array<{ key: Uint8Array; index: number; n: number; payload: Uint8Array }> = [];
  const entries: Entry[] = [];

  try {
    await scan();
  } catch (err) {
    // LevelDB itself found a damaged block (e.g. a failed decompression): the same verdict.
    if (err instanceof Error && (err as { code?: unknown }).code === 'LEVEL_CORRUPTION') {
      throw new ShoalError(ErrorCode.DataLoss, `Raft log in "${where}" is corrupt: ${err.message}`, { cause: err });
    }
    throw err;
  }

  async function scan(): Promise<void> {
    for await (const [key, value] of source.iterator()) {
      switch (key[0] ?? -1) {
        case KeyTag.HardState: {
          const p = open(key, value, 'hard state');
          hardState = decode(key, 'hard state', () => decodeHardState(p));
          break;
        }
        case KeyTag.SnapshotMeta: {
          const p = open(key, value, 'snapshot metadata');
          meta = decode(key, 'snapshot metadata', () => decodeSnapshotMeta(p));
          break;
        }
        case KeyTag.LogStart: {
          const p = open(key, value, 'log start');
          logStart = decode(key, 'log start', () => decodeLogStart(p));
          break;
        }
        case KeyTag.SnapshotChunk: {
          const { index, n } = decode(key, 'snapshot chunk', () => parseChunkKey(key));
          chunks.push({ key, index, n, payload: open(key, value, `snapshot ${index} chunk ${n}`) });
          break;
        }
        case KeyTag.Entry: {
          const index = decode(key, 'entry', () => parseEntryKey(key));
          const p = open(key, value, `entry ${index}`);
          const e = decode(key, `entry ${index}`, () => decodeEntry(p));
          if (e.index !== index) throw fail(describeKey(key), `entry ${index} holds index ${e.index}`, { index });
          entries.push(e);
          break;
        }
        default:
          throw fail(describeKey(key), 'unexpected key');
      }
    }
  }

  // The snapshot: every chunk present, nothing extra, size and checksum as recorded.
  let snapshot: Snapshot = EMPTY_SNAPSHOT;
  if (meta) {
    const data = new Uint8Array(meta.size);
    let filled = 0;
    const seen = new Set<number>();
    for (const c of chunks) {
      if (c.index !== meta.index || c.n >= meta.chunks) {
        throw fail(describeKey(c.key), `snapshot chunk does not belong to snapshot ${meta.index}`);
      }
      if (filled + c.payload.length > meta.size) {
        throw fail(describeKey(c.key), `snapshot ${meta.index} data exceeds its recorded size ${meta.size}`);
      }
      data.set(c.payload, filled);
      filled += c.payload.length;
      seen.add(c.n);
    }
    for (let n = 0; n < meta.chunks; n++) {
      if (!seen.has(n)) throw fail(`d/${meta.index}/${n}`, `snapshot ${meta.index} chunk ${n} is missing`);
    }
    if (filled !== meta.size) {
      throw fail('s', `snapshot ${meta.index} data is ${filled} bytes, expected ${meta.size}`);
    }
    if (dataCrc(data) !== meta.crc) throw fail('s', `snapshot ${meta.index} data does not match its checksum`);
    snapshot = { meta: { index: meta.index, term: meta.term, confState: meta.confState }, data };
  } else if (chunks[0]) {
    throw fail(describeKey(chunks[0].key), 'snapshot chunk without snapshot metadata');
  }

  // The log: contiguous from the log start, terms never decreasing, consistent with the snapshot.
  const start: LogStart = logStart ?? { index: snapshot.meta.index, term: snapshot.meta.term };
  if (start.index > snapshot.meta.index) {
    throw fail('c', `log start ${start.index} is beyond the snapshot index ${snapshot.meta.index}`);
  }
  let prev = start;
  for (const e of entries) {
    if (e.index !== prev.index + 1) {
      throw fail(`e/${prev.index + 1}`, `entry ${prev.index + 1} is missing (next stored is ${e.index})`, {
        index: prev.index + 1,
      });
    }
    if (e.term < prev.term) {
      throw fail(`e/${e.index}`, `entry ${e.index} has term ${e.term} below the previous term ${prev.term}`, {
        index: e.index,
      });
    }
    prev = e;
  }
  const lastIndex = prev.index;
  if (snapshot.meta.index > start.index) {
    const at = entries[snapshot.meta.index - start.index - 1];
    if (!at) {
      throw fail(`e/${lastIndex + 1}`, `log ends at ${lastIndex}, before the snapshot index ${snapshot.meta.index}`);
    }
    if (at.term !== snapshot.meta.term) {
      throw fail(`e/${at.index}`, `entry ${at.index} has term ${at.term}, the snapshot says ${snapshot.meta.term}`, {
        index: at.index,
      });
    }
  }
  if (hardState.commit > lastIndex) {
    throw fail('h', `commit index ${hardState.commit} is beyond the last index ${lastIndex}`);
  }
  return { hardState, snapshot, logStart: start, entries };
}
