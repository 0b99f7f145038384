/**
 * Proposals: the answer of each role, the leader's checks (leadership transfer, the single-server
 * conf change rules, the uncommitted-size limit), appending at the leader's term with a self-ack
 * that counts only once durable, and the deferred broadcast that batches proposals made together.
 */
import { EntryType, MessageType, NONE, RaftRole, type Entry, type Message, type ProposeResult } from '../types.js';
import { checkProposedConfChange, decodeConfChange, describeConfChange } from './conf-change.js';
import { payloadSize } from './log.js';
import { makeMessage, type MutableMessage } from './message.js';
import type { Raft } from './raft.js';
import { bcastAppend, bcastHeartbeat } from './replication.js';

/** A proposed entry before the leader assigns its term and index. */
export interface ProposedEntry {
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** A proposal stepped locally (`m.from === r.id`) or forwarded by a follower. */
export function propose(r: Raft, m: Message): ProposeResult {
  switch (r.role) {
    case RaftRole.Leader:
      return leaderPropose(r, m);
    case RaftRole.Follower:
      if (r.lead === NONE) {
        r.logger.info({ term: r.term }, 'no leader; dropping proposal');
        return { ok: false, reason: 'NotLeader', leaderHint: NONE };
      }
      if (!r.proposalForwarding || m.from !== r.id) return { ok: false, reason: 'NotLeader', leaderHint: r.lead };
      r.send({ ...m, to: r.lead });
      return { ok: true };
    case RaftRole.Candidate:
    case RaftRole.PreCandidate:
      r.logger.info({ term: r.term }, 'no leader; dropping proposal');
      return { ok: false, reason: 'NotLeader', leaderHint: NONE };
  }
}

/** Appends a proposal (local, or forwarded by a follower) and replicates it. */
export function leaderPropose(r: Raft, m: Message): ProposeResult {
  if (m.entries.length === 0) return dropped(r, 'empty proposal');
  if (!r.trk.progress.has(r.id)) {
    // Removed from the configuration while leading (about to step down).
    return dropped(r, 'leader is not a member of the configuration');
  }
  if (r.leadTransferee !== NONE) {
    return dropped(r, `leadership transfer to ${r.leadTransferee} is in progress`);
  }
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i]!;
    if (e.type !== EntryType.ConfChange) continue;
    const cc = decodeConfChange(e.data);
    let refused: string | undefined;
    if (!r.committedEntryInCurrentTerm()) {
      refused = 'leader has not yet committed an entry in its term';
    } else if (r.pendingConfIndex > r.log.applied) {
      refused = `possible unapplied conf change at index ${r.pendingConfIndex} (applied to ${r.log.applied})`;
    } else {
      refused = checkProposedConfChange(r.trk.voters, r.trk.learners, cc);
    }
    if (refused !== undefined) {
      r.logger.info({ change: describeConfChange(cc), reason: refused }, 'ignoring conf change');
      return {
        ok: false,
        reason: 'ProposalDropped',
        detail: `Conf change ${describeConfChange(cc)} refused: ${refused}`,
      };
    }
    r.pendingConfIndex = r.log.lastIndex() + i + 1;
  }
  if (!appendEntries(r, m.entries)) return dropped(r, 'uncommitted entry size limit exceeded');
  // Replication is deferred to the next Ready so that proposals made together travel together.
  r.pendingBroadcast = true;
  return { ok: true };
}

function dropped(r: Raft, detail: string): ProposeResult {
  if (r.debugEnabled()) r.logger.debug({ term: r.term, reason: detail }, 'dropping proposal');
  return { ok: false, reason: 'ProposalDropped', detail: detail.charAt(0).toUpperCase() + detail.slice(1) };
}

/**
 * Leader: appends entries at the current term and queues the self-ack that counts them for commit
 * once they are durable. False when the uncommitted-size limit refuses them.
 */
export function appendEntries(r: Raft, proposed: readonly ProposedEntry[]): boolean {
  const li = r.log.lastIndex();
  const ents: Entry[] = new Array<Entry>(proposed.length);
  for (let i = 0; i < proposed.length; i++) {
    const p = proposed[i]!;
    ents[i] = { term: r.term, index: li + 1 + i, type: p.type, data: p.data };
  }
  const s = payloadSize(ents);
  if (r.uncommittedSize > 0 && s > 0 && r.uncommittedSize + s > r.maxUncommittedSize) {
    // An empty tail accepts any proposal, and empty entries are never refused.
    r.logger.warn({}, 'appending new entries to log would exceed uncommitted entry size limit; dropping proposal');
    return false;
  }
  r.uncommittedSize += s;
  const last = r.log.append(ents);
  // Self-ack, counted once the entries are durable. Consecutive appends within one Ready share one
  // ack (its index only grows), which keeps per-proposal work small.
  const q = r.msgsAfterAppend;
  const prev = q.length > 0 ? (q[q.length - 1] as MutableMessage) : undefined;
  if (prev !== undefined && prev.to === r.id && prev.type === MessageType.AppResp && prev.term === r.term) {
    prev.index = last;
  } else {
    r.send(makeMessage(MessageType.AppResp, r.id, { index: last }));
  }
  return true;
}

/** Sends what proposals and read requests deferred (called when a Ready is built). */
export function flushBroadcasts(r: Raft): void {
  if (r.role !== RaftRole.Leader) {
    r.pendingBroadcast = false;
    r.pendingReadHeartbeat = false;
    return;
  }
  if (r.pendingBroadcast) {
    r.pendingBroadcast = false;
    bcastAppend(r);
  }
  if (r.pendingReadHeartbeat) {
    r.pendingReadHeartbeat = false;
    if (r.readOnly.pending > 0) bcastHeartbeat(r);
  }
}
