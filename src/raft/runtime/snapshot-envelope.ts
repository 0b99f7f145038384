/**
 * The runtime's wrapper around state-machine snapshot data. Snapshot metadata carries member ids
 * (ConfState) but not addresses, which travel in ConfChange contexts; a node that catches up from a
 * snapshot would not know where its peers are. So the runtime stores the address book next to the
 * state machine's bytes: [magic "SRS1"][uint32 LE length][JSON {members:[[id,address],...]}][data].
 */
import { RaftInvariantError, type NodeId } from '../types.js';

const MAGIC = [0x53, 0x52, 0x53, 0x31]; // "SRS1"
const HEADER = 8;

/** Wraps state-machine data with the member address book. */
export function wrapSnapshotData(members: ReadonlyMap<NodeId, string>, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ members: [...members] }));
  const out = new Uint8Array(HEADER + json.byteLength + data.byteLength);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, json.byteLength, true);
  out.set(json, HEADER);
  out.set(data, HEADER + json.byteLength);
  return out;
}

/** Splits snapshot data into the address book and the state machine's bytes. Empty data → empty. */
export function unwrapSnapshotData(bytes: Uint8Array): { members: Map<NodeId, string>; data: Uint8Array } {
  if (bytes.byteLength === 0) return { members: new Map(), data: bytes };
  if (bytes.byteLength < HEADER || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new RaftInvariantError(`snapshot data lacks the runtime header (${bytes.byteLength} bytes)`);
  }
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (HEADER + len > bytes.byteLength) throw new RaftInvariantError('snapshot data header is truncated');
  const parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(HEADER, HEADER + len))) as { members?: unknown };
  const members = new Map<NodeId, string>();
  if (Array.isArray(parsed.members)) {
    for (const m of parsed.members as unknown[]) {
      if (Array.isArray(m) && typeof m[0] === 'number' && typeof m[1] === 'string') members.set(m[0], m[1]);
    }
  }
  return { members, data: bytes.subarray(HEADER + len) };
}
