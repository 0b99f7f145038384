/** Compact renderings of raft values for simulation traces (`App 1→2 t3 i5/t3 [6..8] c5`). */
import type { Entry, Message, Ready } from '../../../../src/raft/index.js';

export function describeMessage(m: Message): string {
  let s = `${m.type} ${m.from}→${m.to} t${m.term}`;
  switch (m.type) {
    case 'App':
      s += ` prev ${m.index}/t${m.logTerm} ${describeEntries(m.entries)} c${m.commit}`;
      break;
    case 'AppResp':
      s += m.reject ? ` REJECT i${m.index} hint ${m.rejectHint}` : ` i${m.index}`;
      break;
    case 'Vote':
    case 'PreVote':
      s += ` last ${m.index}/t${m.logTerm}`;
      break;
    case 'VoteResp':
    case 'PreVoteResp':
      s += m.reject ? ' REJECT' : ' grant';
      break;
    case 'Heartbeat':
      s += ` c${m.commit}`;
      break;
    case 'Snap':
      s += m.snapshot ? ` snap ${m.snapshot.meta.index}/t${m.snapshot.meta.term}` : '';
      break;
    case 'ReadIndex':
    case 'ReadIndexResp':
      s += ` i${m.index}`;
      break;
    case 'Hup':
    case 'Beat':
    case 'Prop':
    case 'Unreachable':
    case 'SnapStatus':
    case 'CheckQuorum':
    case 'HeartbeatResp':
    case 'TransferLeader':
    case 'TimeoutNow':
      break;
  }
  return s;
}

export function describeEntries(ents: readonly Entry[]): string {
  if (ents.length === 0) return '[]';
  const first = ents[0]!;
  const last = ents[ents.length - 1]!;
  const cc = ents.some((e) => e.type === 'ConfChange') ? ' +cc' : '';
  return first === last
    ? `[${first.index}/t${first.term}${cc}]`
    : `[${first.index}/t${first.term}..${last.index}/t${last.term}${cc}]`;
}

export function describeReady(rd: Ready): string {
  const parts: string[] = [];
  if (rd.softState) parts.push(`soft ${rd.softState.role} lead ${rd.softState.lead}`);
  if (rd.hardState) parts.push(`hs t${rd.hardState.term} v${rd.hardState.vote} c${rd.hardState.commit}`);
  if (rd.snapshot) parts.push(`snap ${rd.snapshot.meta.index}/t${rd.snapshot.meta.term}`);
  if (rd.entries.length > 0) parts.push(`ents ${describeEntries(rd.entries)}`);
  if (rd.committedEntries.length > 0) parts.push(`commit ${describeEntries(rd.committedEntries)}`);
  if (rd.messages.length > 0) parts.push(`msgs ${rd.messages.length}`);
  if (rd.readStates.length > 0) parts.push(`reads ${rd.readStates.map((r) => r.index).join(',')}`);
  if (!rd.mustSync) parts.push('nosync');
  return parts.join(' | ');
}
