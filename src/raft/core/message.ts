/**
 * Message construction helpers for the core: every message has the full field set (stable object
 * shape), with empty defaults for fields that do not apply.
 */
import { MessageType, type Entry, type Message, type NodeId, type Snapshot } from '../types.js';

export const NO_ENTRIES: readonly Entry[] = Object.freeze([]);
export const NO_BYTES: Uint8Array = new Uint8Array(0);

/** The campaign context carried by Vote messages of a leadership transfer (etcd `campaignTransfer`). */
export const CAMPAIGN_TRANSFER: Uint8Array = Uint8Array.from([...'CampaignTransfer'].map((c) => c.charCodeAt(0)));

/** The optional fields of a message being built. */
export interface MessageFields {
  from?: NodeId;
  term?: number;
  logTerm?: number;
  index?: number;
  entries?: readonly Entry[];
  commit?: number;
  reject?: boolean;
  rejectHint?: number;
  snapshot?: Snapshot;
  context?: Uint8Array;
}

/** A message under construction (the core fills `from` and `term` in `send`). */
export type MutableMessage = { -readonly [K in keyof Message]: Message[K] };

export function makeMessage(type: MessageType, to: NodeId, f: MessageFields = {}): MutableMessage {
  const m: MutableMessage = {
    type,
    from: f.from ?? 0,
    to,
    term: f.term ?? 0,
    logTerm: f.logTerm ?? 0,
    index: f.index ?? 0,
    entries: f.entries ?? NO_ENTRIES,
    commit: f.commit ?? 0,
    reject: f.reject ?? false,
    rejectHint: f.rejectHint ?? 0,
    context: f.context ?? NO_BYTES,
  };
  if (f.snapshot !== undefined) m.snapshot = f.snapshot;
  return m;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Messages that only ever originate locally and must be refused from the network. */
export function isLocalMessage(t: MessageType): boolean {
  return (
    t === MessageType.Hup ||
    t === MessageType.Beat ||
    t === MessageType.Unreachable ||
    t === MessageType.SnapStatus ||
    t === MessageType.CheckQuorum
  );
}

/** Responses, which are only accepted from known members. */
export function isResponseMessage(t: MessageType): boolean {
  return (
    t === MessageType.AppResp ||
    t === MessageType.VoteResp ||
    t === MessageType.HeartbeatResp ||
    t === MessageType.PreVoteResp ||
    t === MessageType.Unreachable
  );
}

export function voteRespType(t: MessageType): MessageType {
  return t === MessageType.PreVote ? MessageType.PreVoteResp : MessageType.VoteResp;
}
