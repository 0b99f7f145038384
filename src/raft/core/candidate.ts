/**
 * Candidate and pre-candidate (Raft §5.2, thesis §9.6): starting an election and counting votes.
 * A pre-candidate asks for votes at term+1 without bumping its term or voting; only when a quorum
 * would vote for it does it become a real candidate. Leadership transfers skip the pre-vote and
 * carry CAMPAIGN_TRANSFER so that voters set aside leader stickiness.
 */
import { MessageType, RaftRole, type Message } from '../types.js';
import { CAMPAIGN_TRANSFER, NO_BYTES, makeMessage, voteRespType } from './message.js';
import { VoteResult } from './quorum.js';
import type { Raft } from './raft.js';
import { bcastAppend } from './replication.js';
import { handleAppendEntries, handleHeartbeat, handleSnapshot } from './follower.js';

export type CampaignType = 'PreElection' | 'Election' | 'Transfer';

/** Becomes (pre-)candidate and requests votes; the self-vote counts once the vote is durable. */
export function campaign(r: Raft, t: CampaignType): void {
  let term: number;
  let voteMsg: MessageType;
  if (t === 'PreElection') {
    r.becomePreCandidate();
    voteMsg = MessageType.PreVote;
    term = r.term + 1;
  } else {
    r.becomeCandidate();
    voteMsg = MessageType.Vote;
    term = r.term;
  }
  const lastIndex = r.log.lastIndex();
  const lastTerm = r.log.lastTerm();
  for (const id of r.trk.voters) {
    if (id === r.id) {
      // Our own vote: stepped back to us in advance(), after the HardState is persisted.
      r.send(makeMessage(voteRespType(voteMsg), id, { term }));
      continue;
    }
    r.logger.info({ lastTerm, lastIndex, type: voteMsg, to: id, term: r.term }, 'sent vote request');
    r.send(
      makeMessage(voteMsg, id, {
        term,
        index: lastIndex,
        logTerm: lastTerm,
        context: t === 'Transfer' ? CAMPAIGN_TRANSFER : NO_BYTES,
      }),
    );
  }
}

/** Step function of Candidate and PreCandidate. */
export function stepCandidate(r: Raft, m: Message): void {
  // Only responses to our current candidacy count (a candidate may still receive stale pre-vote
  // responses of this term from its pre-candidacy).
  const myVoteResp = r.role === RaftRole.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
  switch (m.type) {
    case MessageType.App:
      r.becomeFollower(m.term, m.from); // m.term === r.term here
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case myVoteResp: {
      const granted = !m.reject;
      r.logger.info(
        { type: m.type, from: m.from, term: r.term },
        granted ? 'received vote' : 'received vote rejection',
      );
      r.trk.recordVote(m.from, granted);
      const tally = r.trk.tallyVotes();
      r.logger.info({ type: m.type, granted: tally.granted, rejected: tally.rejected }, 'tallied votes');
      if (tally.result === VoteResult.Won) {
        if (r.role === RaftRole.PreCandidate) {
          campaign(r, 'Election');
        } else {
          r.becomeLeader();
          bcastAppend(r);
        }
      } else if (tally.result === VoteResult.Lost) {
        // A pre-vote response carries our future term; stay at ours.
        r.becomeFollower(r.term, 0);
      }
      return;
    }
    case MessageType.TimeoutNow:
      if (r.debugEnabled()) r.logger.debug({ term: r.term, role: r.role, from: m.from }, 'ignored TimeoutNow');
      return;
    case MessageType.ReadIndex:
      r.logger.info({ term: r.term }, 'no leader; dropping read index request');
      return;
    // Ignored: stale or misdirected in this role (votes are handled in Raft.step).
    case MessageType.Hup:
    case MessageType.Beat:
    case MessageType.CheckQuorum:
    case MessageType.Prop:
    case MessageType.Unreachable:
    case MessageType.SnapStatus:
    case MessageType.AppResp:
    case MessageType.Vote:
    case MessageType.VoteResp:
    case MessageType.PreVote:
    case MessageType.PreVoteResp:
    case MessageType.HeartbeatResp:
    case MessageType.TransferLeader:
    case MessageType.ReadIndexResp:
      return;
  }
}
