/**
 * A key as the state machine stores it (etcd mvccpb.KeyValue without the lease): the value, its
 * version (writes since the key was (re)created) and the global revisions of its creation and of
 * its last write. Records are immutable values; every write makes a new one.
 */

/** A key as stored. Invariant: version >= 1 and createRevision <= modRevision. */
export interface KeyRecord {
  readonly value: Uint8Array;
  readonly version: number;
  readonly createRevision: number;
  readonly modRevision: number;
}

/** A key and its record, as returned to readers. */
export interface KeyValueView extends KeyRecord {
  readonly key: string;
}

/** Byte-wise equality of two arrays. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic byte order (Go bytes.Compare): negative, 0 or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.byteLength - b.byteLength;
}

const HEADER_BYTES = 24;

/** Encodes a record for LevelDB: version, createRevision, modRevision as float64 LE, then the value. */
export function encodeRecord(r: KeyRecord): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + r.value.byteLength);
  const view = new DataView(out.buffer);
  view.setFloat64(0, r.version, true);
  view.setFloat64(8, r.createRevision, true);
  view.setFloat64(16, r.modRevision, true);
  out.set(r.value, HEADER_BYTES);
  return out;
}

/** Decodes {@link encodeRecord}'s output; undefined when it is too short to be a record. */
export function decodeRecord(bytes: Uint8Array): KeyRecord | undefined {
  if (bytes.byteLength < HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    version: view.getFloat64(0, true),
    createRevision: view.getFloat64(8, true),
    modRevision: view.getFloat64(16, true),
    value: bytes.subarray(HEADER_BYTES),
  };
}
