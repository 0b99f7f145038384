/**
 * Leader (Raft §5.3, §5.4, thesis §3.10, §6.4): append and heartbeat responses driving each
 * Progress and the commit index, check-quorum, leadership transfer and ReadIndex. Proposals are in
 * propose.ts, sending in replication.ts.
 */
import { MessageType, NONE, type Message } from '../types.js';
import { leaderPropose } from './propose.js';
import type { Raft } from './raft.js';
import {
  bcastAppend,
  bcastHeartbeat,
  maybeCommit,
  maybeSendAppend,
  sendAppend,
  sendTimeoutNow,
} from './replication.js';

/** Step function of Leader. */
export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Beat:
      bcastHeartbeat(r);
      return;
    case MessageType.CheckQuorum:
      if (!r.trk.quorumActive()) {
        r.logger.warn({ term: r.term }, 'stepped down to follower since quorum is not active');
        r.becomeFollower(r.term, NONE);
      }
      // Mark everyone but ourselves inactive for the next round.
      for (const [id, pr] of r.trk.progress) if (id !== r.id) pr.recentActive = false;
      return;
    case MessageType.Prop:
      leaderPropose(r, m);
      return;
    case MessageType.ReadIndex:
      leaderReadIndex(r, m);
      return;
    case MessageType.AppResp:
    case MessageType.HeartbeatResp:
    case MessageType.SnapStatus:
    case MessageType.Unreachable:
    case MessageType.TransferLeader:
      handlePeerMessage(r, m, m.type);
      return;
    // Ignored: stale or misdirected for a leader of this term (votes are handled in Raft.step).
    case MessageType.Hup:
    case MessageType.App:
    case MessageType.Heartbeat:
    case MessageType.Snap:
    case MessageType.Vote:
    case MessageType.VoteResp:
    case MessageType.PreVote:
    case MessageType.PreVoteResp:
    case MessageType.TimeoutNow:
    case MessageType.ReadIndexResp:
      return;
  }
}

type PeerMessageType = 'AppResp' | 'HeartbeatResp' | 'SnapStatus' | 'Unreachable' | 'TransferLeader';

/** Messages about a peer: they need its Progress. */
function handlePeerMessage(r: Raft, m: Message, type: PeerMessageType): void {
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) {
    if (r.debugEnabled()) r.logger.debug({ peer: m.from }, 'no progress available');
    return;
  }
  switch (type) {
    case MessageType.AppResp:
      handleAppendResponse(r, m);
      return;
    case MessageType.HeartbeatResp:
      pr.recentActive = true;
      pr.msgAppFlowPaused = false;
      // Resume a paused or probing follower (also recovers a full window whose Apps were lost).
      if (pr.match < r.log.lastIndex() || pr.state === 'Probe') sendAppend(r, m.from);
      if (r.readOnly.option !== 'Safe' || m.context.byteLength === 0) return;
      r.readOnly.recvAck(m.from, m.context);
      for (const rs of r.readOnly.maybeAdvance(r.trk.voters)) r.responseToReadIndexReq(rs.req, rs.index);
      return;
    case MessageType.SnapStatus:
      if (pr.state !== 'Snapshot') return;
      if (m.reject) {
        // Order matters: probe from match, not from the snapshot that never arrived.
        pr.pendingSnapshot = 0;
        pr.becomeProbe();
        if (r.debugEnabled())
          r.logger.debug(
            { peer: m.from, progress: pr.describe() },
            'snapshot failed, resumed sending replication messages',
          );
      } else {
        pr.becomeProbe();
        if (r.debugEnabled())
          r.logger.debug(
            { peer: m.from, progress: pr.describe() },
            'snapshot succeeded, resumed sending replication messages',
          );
      }
      // Wait for the follower's AppResp (or a heartbeat interval after a failure) before sending.
      pr.msgAppFlowPaused = true;
      return;
    case MessageType.Unreachable:
      // An App to an unreachable peer was likely lost: stop pipelining blindly.
      if (pr.state === 'Replicate') pr.becomeProbe();
      if (r.debugEnabled())
        r.logger.debug({ peer: m.from, progress: pr.describe() }, 'failed to send message because it is unreachable');
      return;
    case MessageType.TransferLeader:
      handleTransferLeader(r, m.from);
      return;
  }
}

function handleAppendResponse(r: Raft, m: Message): void {
  const pr = r.trk.progress.get(m.from)!;
  pr.recentActive = true;
  if (m.reject) {
    if (r.debugEnabled())
      r.logger.debug(
        { peer: m.from, rejectHint: m.rejectHint, logTerm: m.logTerm, index: m.index },
        'received App rejection',
      );
    let nextProbeIdx = m.rejectHint;
    if (m.logTerm > 0) {
      // Skip every index where our term exceeds the follower's term at the hint: they cannot
      // match, since terms only grow along a log (etcd's explanation in stepLeader).
      nextProbeIdx = r.log.findConflictByTerm(m.rejectHint, m.logTerm)[0];
    }
    if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
      if (r.debugEnabled()) r.logger.debug({ peer: m.from, progress: pr.describe() }, 'decreased progress');
      if (pr.state === 'Replicate') pr.becomeProbe();
      sendAppend(r, m.from);
    }
    return;
  }
  // An ack moves match forward, or lets a probing follower that is caught up resume replicating.
  if (!(pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === 'Probe'))) return;
  if (pr.state === 'Probe') {
    pr.becomeReplicate();
  } else if (pr.state === 'Snapshot' && pr.match + 1 >= r.log.firstIndex()) {
    // The follower can be caught up from the log again (whatever snapshot it installed).
    if (r.debugEnabled())
      r.logger.debug(
        { peer: m.from, progress: pr.describe() },
        'recovered from needing snapshot, resumed sending replication messages',
      );
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === 'Replicate') {
    pr.inflights.freeLE(m.index);
  }
  if (maybeCommit(r)) {
    releasePendingReadIndexMessages(r);
    bcastAppend(r);
  } else if (m.from !== r.id && pr.canBumpCommit(r.log.committed)) {
    // The follower may lack the latest commit index; tell it now rather than at the next heartbeat.
    sendAppend(r, m.from);
  }
  if (m.from !== r.id) {
    // The window may have opened: send as much as it allows.
    while (maybeSendAppend(r, m.from, false)) {
      // keep sending
    }
  }
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) {
    r.logger.info({ peer: m.from }, 'sent TimeoutNow after receiving AppResp');
    sendTimeoutNow(r, m.from);
  }
}

function handleTransferLeader(r: Raft, transferee: number): void {
  const pr = r.trk.progress.get(transferee)!;
  if (pr.isLearner) {
    if (r.debugEnabled()) r.logger.debug({ transferee }, 'transferee is a learner; ignored transferring leadership');
    return;
  }
  const last = r.leadTransferee;
  if (last !== NONE) {
    if (last === transferee) {
      r.logger.info({ term: r.term, transferee }, 'transfer leadership is in progress, ignores request to same node');
      return;
    }
    r.abortLeaderTransfer();
    r.logger.info({ term: r.term, transferee: last }, 'abort previous transferring leadership');
  }
  if (transferee === r.id) {
    if (r.debugEnabled()) r.logger.debug({}, 'is already leader; ignored transferring leadership to self');
    return;
  }
  r.logger.info({ term: r.term, transferee }, 'starts to transfer leadership');
  // The transfer must finish within an election timeout (then it is aborted in tickHeartbeat).
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.log.lastIndex()) {
    sendTimeoutNow(r, transferee);
    r.logger.info({ transferee }, 'sends TimeoutNow immediately as transferee already has up-to-date log');
  } else {
    sendAppend(r, transferee);
  }
}

function leaderReadIndex(r: Raft, m: Message): void {
  if (r.trk.isSingleton()) {
    // The only voter: its commit index is already quorum-confirmed.
    r.responseToReadIndexReq(m, r.log.committed);
    return;
  }
  // Until an entry of this term commits, our commit index may lag the previous leader's (§6.4).
  if (!r.committedEntryInCurrentTerm()) {
    r.pendingReadIndexMessages.push(m);
    return;
  }
  sendReadIndexResponse(r, m);
}

function sendReadIndexResponse(r: Raft, m: Message): void {
  if (r.readOnly.option === 'Safe') {
    r.readOnly.addRequest(r.log.committed, m);
    r.readOnly.recvAck(r.id, r.readOnly.heartbeatCtx());
    // One heartbeat round (sent when the next Ready is built) confirms all queued requests.
    r.pendingReadHeartbeat = true;
  } else {
    r.responseToReadIndexReq(m, r.log.committed);
  }
}

function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0) return;
  if (!r.committedEntryInCurrentTerm()) return;
  const msgs = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of msgs) sendReadIndexResponse(r, m);
}
