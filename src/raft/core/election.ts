/**
 * Elections and terms (Raft §5.1, §5.2, §5.4.1; thesis §4.2.3, §9.6; etcd `raft.Step`): what every
 * role does with the term of an incoming message, vote requests, and starting an election.
 */
import { EntryType, MessageType, NONE, RaftRole, type Message } from '../types.js';
import { campaign, type CampaignType } from './candidate.js';
import { CAMPAIGN_TRANSFER, bytesEqual, makeMessage, voteRespType } from './message.js';
import type { Raft } from './raft.js';

/**
 * Handles the term of `m`: steps down on a higher term (except for pre-votes and granted pre-vote
 * responses, which carry a future term), ignores stale messages, and applies leader stickiness.
 * Returns false when `m` needs no further processing.
 */
export function stepTerm(r: Raft, m: Message): boolean {
  if (m.term === 0) return true; // a local message, or a forwarded Prop/ReadIndex
  if (m.term > r.term) {
    if ((m.type === MessageType.Vote || m.type === MessageType.PreVote) && inLease(r, m)) {
      r.logger.info(
        { ...voteFields(r, m), remainingTicks: r.electionTimeout - r.electionElapsed },
        'ignored vote request: lease is not expired',
      );
      return false;
    }
    if (m.type === MessageType.PreVote) {
      // Never change our term in response to a PreVote.
    } else if (m.type === MessageType.PreVoteResp && !m.reject) {
      // A granted pre-vote carries the term we will campaign at; the term bumps on winning.
    } else {
      r.logger.info(
        { term: r.term, type: m.type, from: m.from, msgTerm: m.term },
        'received a message with higher term',
      );
      const fromLeader = m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
      r.becomeFollower(m.term, fromLeader ? m.from : NONE);
    }
    return true;
  }
  if (m.term < r.term) {
    if ((r.checkQuorum || r.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
      // A leader at a stale term (e.g. after we bumped ours in a partition): tell it our term so
      // it steps down, since with check-quorum/pre-vote our votes may never reach it.
      r.send(makeMessage(MessageType.AppResp, m.from));
    } else if (m.type === MessageType.PreVote) {
      r.logger.info({ term: r.term, type: m.type, from: m.from, msgTerm: m.term }, 'rejected pre-vote with lower term');
      r.send(makeMessage(MessageType.PreVoteResp, m.from, { term: r.term, reject: true }));
    } else if (r.debugEnabled()) {
      r.logger.debug(
        { term: r.term, type: m.type, from: m.from, msgTerm: m.term },
        'ignored a message with lower term',
      );
    }
    return false;
  }
  return true;
}

/**
 * Leader stickiness (thesis §4.2.3, §9.6): with check-quorum, a server that heard from a leader
 * within the minimum election timeout neither grants (pre-)votes nor bumps its term. As in etcd it
 * needs check-quorum: only then does a leader that lost its quorum step down, so a leader that
 * reaches a follower but not a quorum (an asymmetric partition) cannot block elections forever.
 * Leadership transfers override it.
 */
function inLease(r: Raft, m: Message): boolean {
  if (!r.checkQuorum || bytesEqual(m.context, CAMPAIGN_TRANSFER)) return false;
  return r.lead !== NONE && r.electionElapsed < r.electionTimeout;
}

function voteFields(r: Raft, m: Message): object {
  return {
    lastTerm: r.log.lastTerm(),
    lastIndex: r.log.lastIndex(),
    vote: r.vote,
    type: m.type,
    from: m.from,
    candLastTerm: m.logTerm,
    candLastIndex: m.index,
    term: r.term,
  };
}

/** Answers a Vote or PreVote request of the current (or, for a pre-vote, a future) term. */
export function handleVoteRequest(r: Raft, m: Message): void {
  // We can vote for a repeat of our vote, when we have not voted and know no leader in this
  // term, or for a pre-vote of a future term...
  const canVote =
    r.vote === m.from || (r.vote === NONE && r.lead === NONE) || (m.type === MessageType.PreVote && m.term > r.term);
  // ...if the candidate's log is at least as up to date as ours (§5.4.1).
  if (canVote && r.log.isUpToDate(m.index, m.logTerm)) {
    // Learners vote too: a promoted learner may not know it yet (etcd's reasoning).
    r.logger.info(voteFields(r, m), 'cast vote');
    // Answer at the message's term: for a pre-vote that is our future term, which the
    // pre-candidate would otherwise ignore as stale.
    r.send(makeMessage(voteRespType(m.type), m.from, { term: m.term }));
    if (m.type === MessageType.Vote) {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.logger.info(voteFields(r, m), 'rejected vote');
    r.send(makeMessage(voteRespType(m.type), m.from, { term: r.term, reject: true }));
  }
}

/** Starts an election unless leading, not a voter, or a committed conf change is unapplied. */
export function hup(r: Raft, t: CampaignType): void {
  if (r.role === RaftRole.Leader) {
    if (r.debugEnabled()) r.logger.debug({}, 'ignoring Hup because already leader');
    return;
  }
  if (!r.promotable()) {
    r.logger.warn({}, 'is unpromotable and can not campaign');
    return;
  }
  if (hasUnappliedConfChanges(r)) {
    r.logger.warn({ term: r.term }, 'cannot campaign since there are still pending configuration changes to apply');
    return;
  }
  r.logger.info({ term: r.term }, 'is starting a new election');
  campaign(r, t);
}

function hasUnappliedConfChanges(r: Raft): boolean {
  const log = r.log;
  if (log.applied >= log.committed) return false;
  let found = false;
  log.scan(log.applied + 1, log.committed + 1, 1 << 20, (ents) => {
    found = ents.some((e) => e.type === EntryType.ConfChange);
    return found;
  });
  return found;
}
