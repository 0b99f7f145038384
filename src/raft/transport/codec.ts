/**
 * The mapping between raft types (types.ts) and their wire form (proto/gen, shoal.raft.v1).
 * Round trips are exact: `fromProtoMessage(toProtoMessage(m))` deep-equals `m` for every message
 * without a snapshot, and `fromSnapshotHeader(toSnapshotHeader(m), data)` for a Snap message.
 * Terms, indexes and ids must be non-negative safe integers in both directions; anything else,
 * an unknown enum value or a missing required part is an INVALID_ARGUMENT ShoalError naming the
 * field. Bytes are not copied: the proto Buffers are views of the raft Uint8Arrays and back.
 */
import { ErrorCode, ShoalError } from '../../shared/index.js';
import * as pb from '../../../proto/gen/shoal/raft/v1/raft.js';
import {
  EntryType,
  MessageType,
  type ConfState,
  type Entry,
  type Message,
  type Snapshot,
  type SnapshotMeta,
} from '../types.js';

const MESSAGE_TYPES: Readonly<Record<MessageType, pb.MessageType>> = {
  Hup: pb.MessageType.MESSAGE_TYPE_HUP,
  Beat: pb.MessageType.MESSAGE_TYPE_BEAT,
  Prop: pb.MessageType.MESSAGE_TYPE_PROP,
  Unreachable: pb.MessageType.MESSAGE_TYPE_UNREACHABLE,
  SnapStatus: pb.MessageType.MESSAGE_TYPE_SNAP_STATUS,
  CheckQuorum: pb.MessageType.MESSAGE_TYPE_CHECK_QUORUM,
  App: pb.MessageType.MESSAGE_TYPE_APP,
  AppResp: pb.MessageType.MESSAGE_TYPE_APP_RESP,
  Vote: pb.MessageType.MESSAGE_TYPE_VOTE,
  VoteResp: pb.MessageType.MESSAGE_TYPE_VOTE_RESP,
  PreVote: pb.MessageType.MESSAGE_TYPE_PRE_VOTE,
  PreVoteResp: pb.MessageType.MESSAGE_TYPE_PRE_VOTE_RESP,
  Snap: pb.MessageType.MESSAGE_TYPE_SNAP,
  Heartbeat: pb.MessageType.MESSAGE_TYPE_HEARTBEAT,
  HeartbeatResp: pb.MessageType.MESSAGE_TYPE_HEARTBEAT_RESP,
  TransferLeader: pb.MessageType.MESSAGE_TYPE_TRANSFER_LEADER,
  TimeoutNow: pb.MessageType.MESSAGE_TYPE_TIMEOUT_NOW,
  ReadIndex: pb.MessageType.MESSAGE_TYPE_READ_INDEX,
  ReadIndexResp: pb.MessageType.MESSAGE_TYPE_READ_INDEX_RESP,
};
const MESSAGE_TYPES_BACK: ReadonlyMap<number, MessageType> = new Map(
  Object.entries(MESSAGE_TYPES).map(([k, v]) => [v, k as MessageType]),
);

function invalid(message: string): ShoalError {
  return new ShoalError(ErrorCode.InvalidArgument, `Invalid raft message: ${message}`);
}

/** Asserts `v` is a non-negative safe integer (terms, indexes, ids, sizes). */
function uint(v: number, field: string): number {
  if (!Number.isSafeInteger(v) || v < 0) throw invalid(`${field} ${String(v)} is not a non-negative safe integer`);
  return v;
}

const toBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const fromBuffer = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export function toProtoEntry(e: Entry): pb.Entry {
  let type: pb.EntryType;
  if (e.type === EntryType.Normal) type = pb.EntryType.ENTRY_TYPE_NORMAL;
  else if (e.type === EntryType.ConfChange) type = pb.EntryType.ENTRY_TYPE_CONF_CHANGE;
  else throw invalid(`entry type "${String(e.type)}" is unknown`);
  return { term: uint(e.term, 'entry term'), index: uint(e.index, 'entry index'), type, data: toBuffer(e.data) };
}

export function fromProtoEntry(p: pb.Entry): Entry {
  let type: EntryType;
  if (p.type === pb.EntryType.ENTRY_TYPE_NORMAL) type = EntryType.Normal;
  else if (p.type === pb.EntryType.ENTRY_TYPE_CONF_CHANGE) type = EntryType.ConfChange;
  else throw invalid(`entry type ${p.type} is unknown`);
  return { term: uint(p.term, 'entry term'), index: uint(p.index, 'entry index'), type, data: fromBuffer(p.data) };
}

export function toProtoConfState(c: ConfState): pb.ConfState {
  return {
    voters: c.voters.map((id) => uint(id, 'voter id')),
    learners: c.learners.map((id) => uint(id, 'learner id')),
  };
}

export function fromProtoConfState(p: pb.ConfState): ConfState {
  return {
    voters: p.voters.map((id) => uint(id, 'voter id')),
    learners: p.learners.map((id) => uint(id, 'learner id')),
  };
}

export function toProtoSnapshotMeta(m: SnapshotMeta): pb.SnapshotMeta {
  return {
    index: uint(m.index, 'snapshot index'),
    term: uint(m.term, 'snapshot term'),
    confState: toProtoConfState(m.confState),
  };
}

export function fromProtoSnapshotMeta(p: pb.SnapshotMeta): SnapshotMeta {
  if (!p.confState) throw invalid('snapshot metadata has no conf state');
  return {
    index: uint(p.index, 'snapshot index'),
    term: uint(p.term, 'snapshot term'),
    confState: fromProtoConfState(p.confState),
  };
}

/**
 * Encodes a message for the SendMessages stream. Throws INVALID_ARGUMENT for out-of-range numbers,
 * an unknown type, or a message carrying a snapshot (those go through {@link toSnapshotHeader}).
 */
export function toProtoMessage(m: Message): pb.Message {
  if (m.snapshot !== undefined) throw invalid(`a ${m.type} message carries its snapshot via InstallSnapshot`);
  const type = MESSAGE_TYPES[m.type];
  if (type === undefined) throw invalid(`message type "${String(m.type)}" is unknown`);
  return {
    type,
    from: uint(m.from, 'from'),
    to: uint(m.to, 'to'),
    term: uint(m.term, 'term'),
    logTerm: uint(m.logTerm, 'log term'),
    index: uint(m.index, 'index'),
    entries: m.entries.map(toProtoEntry),
    commit: uint(m.commit, 'commit'),
    reject: m.reject,
    rejectHint: uint(m.rejectHint, 'reject hint'),
    context: toBuffer(m.context),
  };
}

/** Decodes a message from the wire; throws INVALID_ARGUMENT as {@link toProtoMessage} does. */
export function fromProtoMessage(p: pb.Message): Message {
  const type = MESSAGE_TYPES_BACK.get(p.type);
  if (type === undefined) throw invalid(`message type ${p.type} is unknown`);
  return {
    type,
    from: uint(p.from, 'from'),
    to: uint(p.to, 'to'),
    term: uint(p.term, 'term'),
    logTerm: uint(p.logTerm, 'log term'),
    index: uint(p.index, 'index'),
    entries: p.entries.map(fromProtoEntry),
    commit: uint(p.commit, 'commit'),
    reject: p.reject,
    rejectHint: uint(p.rejectHint, 'reject hint'),
    context: fromBuffer(p.context),
  };
}

/** The header of an InstallSnapshot stream for a Snap message (its data travels in chunks). */
export function toSnapshotHeader(m: Message & { readonly snapshot: Snapshot }): pb.SnapshotHeader {
  const { snapshot, ...rest } = m;
  return {
    message: toProtoMessage(rest),
    meta: toProtoSnapshotMeta(snapshot.meta),
    totalSize: snapshot.data.byteLength,
  };
}

/** Rebuilds the Snap message from a header and the (verified) assembled data. */
export function fromSnapshotHeader(h: pb.SnapshotHeader, data: Uint8Array): Message & { readonly snapshot: Snapshot } {
  if (!h.message) throw invalid('snapshot header has no message');
  if (!h.meta) throw invalid('snapshot header has no metadata');
  const m = fromProtoMessage(h.message);
  if (m.type !== MessageType.Snap) throw invalid(`snapshot header carries a ${m.type} message`);
  return { ...m, snapshot: { meta: fromProtoSnapshotMeta(h.meta), data } };
}
