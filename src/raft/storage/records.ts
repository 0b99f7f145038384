/**
 * The on-disk format of LevelLogStorage: keys and self-checking records.
 *
 * Keys (inside the storage's sublevel), all binary:
 *   'e' + u64be index            → entry record      (fixed width: lexicographic = numeric order)
 *   'h'                          → HardState record
 *   's'                          → snapshot meta record
 *   'd' + u64be index + u32be n  → snapshot data chunk n of the snapshot at `index`
 *   'c'                          → log start (index and term of the entry just before the first
 *                                  stored one); absent means "the snapshot's index and term"
 *
 * Every value is a record: `u8 version | u32be crc32 | u32be length | payload`. The CRC covers the
 * key, the version and length bytes and the payload, so a value copied under the wrong key, a
 * truncated value or a flipped bit are all detected. Decoding throws {@link CorruptRecordError};
 * the loader turns it into a DATA_LOSS ShoalError naming the key.
 */
import { crc32 } from 'node:zlib';
import { EntryType, type ConfState, type Entry, type HardState } from '../types.js';

export const RECORD_VERSION = 1;
const HEADER_BYTES = 9;

export const KeyTag = {
  Entry: 0x65, // 'e'
  HardState: 0x68, // 'h'
  SnapshotMeta: 0x73, // 's'
  SnapshotChunk: 0x64, // 'd'
  LogStart: 0x63, // 'c'
} as const;

/** A record or key that cannot be decoded; `reason` is a short phrase for the error message. */
export class CorruptRecordError extends Error {
  override readonly name = 'CorruptRecordError';
  constructor(readonly reason: string) {
    super(reason);
  }
}

// ---- Keys ----

export const HARD_STATE_KEY: Uint8Array = Uint8Array.of(KeyTag.HardState);
export const SNAPSHOT_META_KEY: Uint8Array = Uint8Array.of(KeyTag.SnapshotMeta);
export const LOG_START_KEY: Uint8Array = Uint8Array.of(KeyTag.LogStart);

/** The key of the entry at `index`. */
export function entryKey(index: number): Uint8Array {
  const k = new Uint8Array(9);
  k[0] = KeyTag.Entry;
  writeU64(new DataView(k.buffer), 1, index);
  return k;
}

/** The key of chunk `n` of the snapshot at `index`. */
export function chunkKey(index: number, n: number): Uint8Array {
  const k = new Uint8Array(13);
  k[0] = KeyTag.SnapshotChunk;
  const v = new DataView(k.buffer);
  writeU64(v, 1, index);
  v.setUint32(9, n);
  return k;
}

/** Parses an entry key; throws CorruptRecordError on a malformed key. */
export function parseEntryKey(key: Uint8Array): number {
  if (key.length !== 9 || key[0] !== KeyTag.Entry) throw new CorruptRecordError('malformed entry key');
  return readU64(new DataView(key.buffer, key.byteOffset, key.byteLength), 1);
}

/** Parses a chunk key into the snapshot index and chunk number. */
export function parseChunkKey(key: Uint8Array): { index: number; n: number } {
  if (key.length !== 13 || key[0] !== KeyTag.SnapshotChunk) throw new CorruptRecordError('malformed chunk key');
  const v = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return { index: readU64(v, 1), n: v.getUint32(9) };
}

/** Printable form of a key for error messages (`e/17`, `d/5/3`, `h`). */
export function describeKey(key: Uint8Array): string {
  try {
    if (key[0] === KeyTag.Entry) return `e/${parseEntryKey(key)}`;
    if (key[0] === KeyTag.SnapshotChunk) {
      const { index, n } = parseChunkKey(key);
      return `d/${index}/${n}`;
    }
  } catch {
    // A malformed key is described by its bytes below; the caller reports it as corrupt.
  }
  if (key.length === 1 && key[0] !== undefined) return String.fromCharCode(key[0]);
  return `0x${Buffer.from(key).toString('hex')}`;
}

// ---- Record framing ----

/** Frames `payload` as a record stored under `key`. */
export function sealRecord(key: Uint8Array, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  const v = new DataView(out.buffer);
  v.setUint8(0, RECORD_VERSION);
  v.setUint32(5, payload.length);
  out.set(payload, HEADER_BYTES);
  v.setUint32(1, recordCrc(key, out));
  return out;
}

/** Checks a record's version, length and CRC and returns its payload (a view, not a copy). */
export function openRecord(key: Uint8Array, value: Uint8Array): Uint8Array {
  if (value.length < HEADER_BYTES) throw new CorruptRecordError(`truncated record (${value.length} bytes)`);
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const version = v.getUint8(0);
  if (version !== RECORD_VERSION) throw new CorruptRecordError(`unknown record version ${version}`);
  const length = v.getUint32(5);
  if (length !== value.length - HEADER_BYTES) {
    throw new CorruptRecordError(`length mismatch (header says ${length}, found ${value.length - HEADER_BYTES})`);
  }
  if (v.getUint32(1) !== recordCrc(key, value)) throw new CorruptRecordError('checksum mismatch');
  return value.subarray(HEADER_BYTES);
}

function recordCrc(key: Uint8Array, record: Uint8Array): number {
  let c = crc32(key);
  c = crc32(record.subarray(0, 1), c);
  c = crc32(record.subarray(5), c);
  return c;
}

// ---- Payloads ----

/** Entry payload: u64 index | u64 term | u8 type | data. */
export function encodeEntry(e: Entry): Uint8Array {
  const out = new Uint8Array(17 + e.data.length);
  const v = new DataView(out.buffer);
  writeU64(v, 0, e.index);
  writeU64(v, 8, e.term);
  v.setUint8(16, e.type === EntryType.ConfChange ? 1 : 0);
  out.set(e.data, 17);
  return out;
}

/** Decodes an entry payload. The data is copied, so the entry does not pin the read buffer. */
export function decodeEntry(p: Uint8Array): Entry {
  const r = new Reader(p);
  const index = r.u64();
  const term = r.u64();
  const t = r.u8();
  if (t > 1) throw new CorruptRecordError(`unknown entry type ${t}`);
  return { index, term, type: t === 1 ? EntryType.ConfChange : EntryType.Normal, data: new Uint8Array(p.subarray(17)) };
}

export function encodeHardState(hs: HardState): Uint8Array {
  const out = new Uint8Array(24);
  const v = new DataView(out.buffer);
  writeU64(v, 0, hs.term);
  writeU64(v, 8, hs.vote);
  writeU64(v, 16, hs.commit);
  return out;
}

export function decodeHardState(p: Uint8Array): HardState {
  const r = new Reader(p);
  const hs = { term: r.u64(), vote: r.u64(), commit: r.u64() };
  r.end();
  return hs;
}

/** Where the stored log starts: the entry just before the first stored one. */
export interface LogStart {
  readonly index: number;
  readonly term: number;
}

export function encodeLogStart(s: LogStart): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  writeU64(v, 0, s.index);
  writeU64(v, 8, s.term);
  return out;
}

export function decodeLogStart(p: Uint8Array): LogStart {
  const r = new Reader(p);
  const s = { index: r.u64(), term: r.u64() };
  r.end();
  return s;
}

/** Snapshot metadata plus what is needed to verify its data chunks. */
export interface StoredSnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
  readonly size: number;
  readonly chunks: number;
  /** CRC32 of the whole data. */
  readonly crc: number;
}

export function encodeSnapshotMeta(m: StoredSnapshotMeta): Uint8Array {
  const { voters, learners } = m.confState;
  const out = new Uint8Array(8 * 3 + 4 * 2 + 4 + 8 * voters.length + 4 + 8 * learners.length);
  const v = new DataView(out.buffer);
  let o = 0;
  writeU64(v, o, m.index);
  writeU64(v, (o += 8), m.term);
  writeU64(v, (o += 8), m.size);
  v.setUint32((o += 8), m.chunks);
  v.setUint32((o += 4), m.crc);
  o += 4;
  for (const ids of [voters, learners]) {
    v.setUint32(o, ids.length);
    o += 4;
    for (const id of ids) {
      writeU64(v, o, id);
      o += 8;
    }
  }
  return out;
}

export function decodeSnapshotMeta(p: Uint8Array): StoredSnapshotMeta {
  const r = new Reader(p);
  const index = r.u64();
  const term = r.u64();
  const size = r.u64();
  const chunks = r.u32();
  const crc = r.u32();
  const voters = r.ids();
  const learners = r.ids();
  r.end();
  return { index, term, size, chunks, crc, confState: { voters, learners } };
}

/** CRC32 of a whole byte array (the snapshot data checksum). */
export function dataCrc(data: Uint8Array): number {
  return crc32(data);
}

// ---- Helpers ----

const TWO_32 = 2 ** 32;

function writeU64(v: DataView, offset: number, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Value ${n} is not a non-negative safe integer`);
  v.setUint32(offset, Math.floor(n / TWO_32));
  v.setUint32(offset + 4, n >>> 0);
}

function readU64(v: DataView, offset: number): number {
  const n = v.getUint32(offset) * TWO_32 + v.getUint32(offset + 4);
  if (!Number.isSafeInteger(n)) throw new CorruptRecordError(`integer out of range at byte ${offset}`);
  return n;
}

class Reader {
  private readonly v: DataView;
  private o = 0;
  constructor(private readonly p: Uint8Array) {
    this.v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  }
  private need(n: number): void {
    if (this.o + n > this.p.length) throw new CorruptRecordError('payload too short');
  }
  u8(): number {
    this.need(1);
    return this.v.getUint8(this.o++);
  }
  u32(): number {
    this.need(4);
    const n = this.v.getUint32(this.o);
    this.o += 4;
    return n;
  }
  u64(): number {
    this.need(8);
    const n = readU64(this.v, this.o);
    this.o += 8;
    return n;
  }
  ids(): number[] {
    const count = this.u32();
    this.need(count * 8);
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(this.u64());
    return out;
  }
  end(): void {
    if (this.o !== this.p.length) throw new CorruptRecordError(`${this.p.length - this.o} unexpected trailing bytes`);
  }
}
