/**
 * Leader-side sending (Raft §5.3, etcd design.md "Progress"): App messages batched up to
 * maxSizePerMsg and paced by each follower's Progress, snapshots when the follower needs entries
 * we have compacted, heartbeats, and the commit rule (§5.4.2: a quorum of match indexes, and only
 * an entry of the current term commits directly).
 */
import {
  MessageType,
  RaftInvariantError,
  SnapshotTemporarilyUnavailableError,
  type Entry,
  type Snapshot,
} from '../types.js';
import { payloadSize } from './log.js';
import { makeMessage } from './message.js';
import type { Progress } from './progress.js';
import type { Raft } from './raft.js';

/** Sends an App (possibly empty, to carry the commit index) if the follower is not paused. */
export function sendAppend(r: Raft, to: number): void {
  maybeSendAppend(r, to, true);
}

/**
 * Sends an App with the entries the follower lacks, if its Progress allows. With sendIfEmpty
 * false, nothing is sent when there are no entries. Returns true when a message was sent.
 */
export function maybeSendAppend(r: Raft, to: number, sendIfEmpty: boolean): boolean {
  const pr = r.trk.progress.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.log.term(prevIndex);
  if (prevTerm === undefined) {
    // The log was compacted past what the follower has: it needs a snapshot.
    return maybeSendSnapshot(r, to, pr);
  }
  let ents: readonly Entry[] | undefined = [];
  // A saturated Replicate window only sends empty Apps (to keep acks, and so unpausing, coming).
  if (pr.state !== 'Replicate' || !pr.inflights.full()) ents = r.log.entries(pr.next, r.maxMsgSize);
  if ((ents === undefined || ents.length === 0) && !sendIfEmpty) return false;
  if (ents === undefined) return maybeSendSnapshot(r, to, pr);
  const commit = r.log.committed;
  r.send(makeMessage(MessageType.App, to, { index: prevIndex, logTerm: prevTerm, entries: ents, commit }));
  pr.sentEntries(ents.length, payloadSize(ents));
  pr.sentCommitTo(commit);
  return true;
}

/** Sends the latest snapshot to a recently active follower; false if unavailable right now. */
export function maybeSendSnapshot(r: Raft, to: number, pr: Progress): boolean {
  if (!pr.recentActive) {
    if (r.debugEnabled()) r.logger.debug({ peer: to }, 'ignore sending snapshot since it is not recently active');
    return false;
  }
  let snap: Snapshot;
  try {
    snap = r.log.snapshot();
  } catch (err) {
    if (err instanceof SnapshotTemporarilyUnavailableError) {
      // Expected while the application builds one; a later heartbeat response retries.
      if (r.debugEnabled())
        r.logger.debug({ peer: to }, 'failed to send snapshot because snapshot is temporarily unavailable');
      return false;
    }
    throw err;
  }
  if (snap.meta.index === 0) throw new RaftInvariantError('need non-empty snapshot');
  if (r.debugEnabled())
    r.logger.debug(
      {
        firstIndex: r.log.firstIndex(),
        commit: r.log.committed,
        index: snap.meta.index,
        term: snap.meta.term,
        peer: to,
      },
      'sent snapshot',
    );
  pr.becomeSnapshot(snap.meta.index);
  r.send(makeMessage(MessageType.Snap, to, { snapshot: snap }));
  return true;
}

/** A heartbeat carries min(match, committed): never commit a follower past what it matches. */
export function sendHeartbeat(r: Raft, to: number, ctx: Uint8Array): void {
  const pr = r.trk.progress.get(to);
  if (pr === undefined) return;
  const commit = Math.min(pr.match, r.log.committed);
  r.send(makeMessage(MessageType.Heartbeat, to, { commit, context: ctx }));
  pr.sentCommitTo(commit);
}

export function bcastAppend(r: Raft): void {
  for (const id of r.trk.ids) if (id !== r.id) sendAppend(r, id);
}

export function bcastHeartbeat(r: Raft): void {
  const ctx = r.readOnly.heartbeatCtx();
  for (const id of r.trk.ids) if (id !== r.id) sendHeartbeat(r, id, ctx);
}

/** Advances the commit index to the quorum match if that entry is of the current term. */
export function maybeCommit(r: Raft): boolean {
  return r.log.maybeCommit(r.trk.committed(), r.term);
}

export function sendTimeoutNow(r: Raft, to: number): void {
  r.send(makeMessage(MessageType.TimeoutNow, to));
}
