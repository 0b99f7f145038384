/**
 * The KV state machine's transition function, pure and deterministic: given a key's current record
 * and a command, it returns the key's next record and the command's result. Every member applies
 * the same commands in the same order and so computes the same records and revisions.
 *
 * Revisions follow etcd: one global counter, incremented by every write that changes something
 * (put, delete of an existing key, successful cas). A key's `version` counts its writes since it
 * was (re)created; `createRevision`/`modRevision` are the revisions of its creation / last write.
 */

/** A key as stored. Invariant: version >= 1 and createRevision <= modRevision. */
export interface KeyRecord {
  readonly value: Uint8Array;
  readonly version: number;
  readonly createRevision: number;
  readonly modRevision: number;
}

/** What a cas compares the current key with. `version: 0` means "the key must not exist". */
export type CasExpectation =
  | { readonly kind: 'value'; readonly value: Uint8Array }
  | { readonly kind: 'version'; readonly version: number };

/** A command carried by a Normal entry of the Raft log. */
export type KvCommand =
  | { readonly kind: 'put'; readonly key: string; readonly value: Uint8Array }
  | { readonly kind: 'delete'; readonly key: string }
  | { readonly kind: 'cas'; readonly key: string; readonly expected: CasExpectation; readonly value: Uint8Array };

/** A key and its record, as returned to clients. */
export interface KeyValueView extends KeyRecord {
  readonly key: string;
}

/** The result of applying one entry. `invalid`: the entry's data is not a command (applied as a no-op). */
export type KvResult =
  | { readonly kind: 'put'; readonly revision: number; readonly version: number }
  | { readonly kind: 'delete'; readonly revision: number; readonly deleted: boolean }
  | { readonly kind: 'cas'; readonly revision: number; readonly succeeded: boolean; readonly kv?: KeyValueView }
  | { readonly kind: 'invalid'; readonly revision: number; readonly reason: string };

/** The outcome of {@link applyCommand}: `next` is the key's new record, `null` to delete, `undefined` for no change. */
export interface CommandOutcome {
  readonly next: KeyRecord | null | undefined;
  readonly revision: number;
  readonly result: KvResult;
}

/**
 * Applies `cmd` to `current` (the key's record, undefined when absent) at global revision
 * `revision` (the revision before this command). Pure.
 */
export function applyCommand(current: KeyRecord | undefined, cmd: KvCommand, revision: number): CommandOutcome {
  switch (cmd.kind) {
    case 'put': {
      const next = written(current, cmd.value, revision + 1);
      return { next, revision: revision + 1, result: { kind: 'put', revision: revision + 1, version: next.version } };
    }
    case 'delete': {
      if (current === undefined) return { next: undefined, revision, result: { kind: 'delete', revision, deleted: false } };
      return { next: null, revision: revision + 1, result: { kind: 'delete', revision: revision + 1, deleted: true } };
    }
    case 'cas': {
      if (!matches(current, cmd.expected)) {
        const kv = current === undefined ? undefined : { key: cmd.key, ...current };
        return { next: undefined, revision, result: { kind: 'cas', revision, succeeded: false, ...(kv ? { kv } : {}) } };
      }
      const next = written(current, cmd.value, revision + 1);
      return {
        next,
        revision: revision + 1,
        result: { kind: 'cas', revision: revision + 1, succeeded: true, kv: { key: cmd.key, ...next } },
      };
    }
  }
}

function written(current: KeyRecord | undefined, value: Uint8Array, revision: number): KeyRecord {
  return current === undefined
    ? { value, version: 1, createRevision: revision, modRevision: revision }
    : { value, version: current.version + 1, createRevision: current.createRevision, modRevision: revision };
}

function matches(current: KeyRecord | undefined, expected: CasExpectation): boolean {
  if (expected.kind === 'version') return (current?.version ?? 0) === expected.version;
  return current !== undefined && bytesEqual(current.value, expected.value);
}

/** Byte-wise equality of two arrays. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

const HEADER_BYTES = 24;

/** Encodes a record for storage: version, createRevision, modRevision as float64 LE, then the value. */
export function encodeRecord(r: KeyRecord): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + r.value.byteLength);
  const view = new DataView(out.buffer);
  view.setFloat64(0, r.version, true);
  view.setFloat64(8, r.createRevision, true);
  view.setFloat64(16, r.modRevision, true);
  out.set(r.value, HEADER_BYTES);
  return out;
}

/** Decodes {@link encodeRecord}'s output; returns undefined when it is too short to be a record. */
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
