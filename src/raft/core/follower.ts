/**
 * Follower (Raft §5.3): accepting appends with the consistency check, heartbeats and snapshots
 * from the leader, and forwarding what only the leader can do (transfers, read indexes).
 * The handlers here are shared with candidates, which become followers on hearing a leader.
 */
import { MessageType, NONE, RaftRole, type Message, type Snapshot } from '../types.js';
import { configFromConfState } from './conf-change.js';
import { makeMessage } from './message.js';
import type { Raft } from './raft.js';

/** Step function of Follower. */
export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.App:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return;
    case MessageType.Prop:
      r.propose(m);
      return;
    case MessageType.TransferLeader:
      if (r.lead === NONE) {
        r.logger.info({ term: r.term }, 'no leader; dropping leader transfer message');
        return;
      }
      r.send({ ...m, to: r.lead });
      return;
    case MessageType.TimeoutNow:
      r.logger.info({ term: r.term, from: m.from }, 'received TimeoutNow and starts an election to get leadership');
      // Transfers skip pre-vote: we know we are not recovering from a partition.
      r.hup('Transfer');
      return;
    case MessageType.ReadIndex:
      if (r.lead === NONE) {
        r.logger.info({ term: r.term }, 'no leader; dropping read index request');
        return;
      }
      r.send({ ...m, to: r.lead });
      return;
    case MessageType.ReadIndexResp:
      r.readStates.push({ index: m.index, requestCtx: m.context });
      return;
    // Ignored: stale or misdirected in this role (votes are handled in Raft.step).
    case MessageType.Hup:
    case MessageType.Beat:
    case MessageType.CheckQuorum:
    case MessageType.Unreachable:
    case MessageType.SnapStatus:
    case MessageType.AppResp:
    case MessageType.Vote:
    case MessageType.VoteResp:
    case MessageType.PreVote:
    case MessageType.PreVoteResp:
    case MessageType.HeartbeatResp:
      return;
  }
}

/** The §5.3 consistency check and append; acks are released only once the entries are durable. */
export function handleAppendEntries(r: Raft, m: Message): void {
  const log = r.log;
  if (m.index < log.committed) {
    r.send(makeMessage(MessageType.AppResp, m.from, { index: log.committed }));
    return;
  }
  const lastNew = log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    r.send(makeMessage(MessageType.AppResp, m.from, { index: lastNew }));
    return;
  }
  if (r.debugEnabled())
    r.logger.debug(
      { logTerm: log.term(m.index) ?? 0, index: m.index, msgLogTerm: m.logTerm, from: m.from },
      'rejected App',
    );
  // Hint the largest (index, term) where our logs may match: skips our tail entries whose terms
  // exceed the leader's term at m.index (see findConflictByTerm).
  const [hintIndex, hintTerm] = log.findConflictByTerm(Math.min(m.index, log.lastIndex()), m.logTerm);
  r.send(
    makeMessage(MessageType.AppResp, m.from, {
      index: m.index,
      reject: true,
      rejectHint: hintIndex,
      logTerm: hintTerm,
    }),
  );
}

export function handleHeartbeat(r: Raft, m: Message): void {
  r.log.commitTo(m.commit);
  r.send(makeMessage(MessageType.HeartbeatResp, m.from, { context: m.context }));
}

export function handleSnapshot(r: Raft, m: Message): void {
  const s = m.snapshot;
  if (s === undefined) {
    r.logger.warn({ from: m.from }, 'ignored Snap message without a snapshot');
    return;
  }
  const { index, term } = s.meta;
  if (restore(r, s)) {
    r.logger.info({ commit: r.log.committed, index, term }, 'restored snapshot');
    r.send(makeMessage(MessageType.AppResp, m.from, { index: r.log.lastIndex() }));
  } else {
    r.logger.info({ commit: r.log.committed, index, term }, 'ignored snapshot');
    r.send(makeMessage(MessageType.AppResp, m.from, { index: r.log.committed }));
  }
}

/** Restores the log and configuration from a leader's snapshot; false when it is not needed. */
function restore(r: Raft, s: Snapshot): boolean {
  const { index, term, confState } = s.meta;
  if (index <= r.log.committed) return false;
  if (r.role !== RaftRole.Follower) {
    // Defense in depth (etcd): never restore while leading.
    r.logger.warn({}, 'attempted to restore snapshot as leader; should never happen');
    r.becomeFollower(r.term + 1, NONE);
    return false;
  }
  if (!confState.voters.includes(r.id) && !confState.learners.includes(r.id)) {
    r.logger.warn(
      { config: confState },
      'attempted to restore snapshot but it is not in the ConfState; should never happen',
    );
    return false;
  }
  if (r.log.matchTerm(index, term)) {
    // We already have the snapshot's last entry: just fast-forward the commit index.
    r.logger.info(
      { commit: r.log.committed, lastIndex: r.log.lastIndex(), lastTerm: r.log.lastTerm(), index, term },
      'fast-forwarded commit to snapshot',
    );
    r.log.commitTo(index);
    return false;
  }
  r.log.restore(s);
  r.switchToConfig(configFromConfState(r.trk, confState, r.log.lastIndex()));
  return true;
}
