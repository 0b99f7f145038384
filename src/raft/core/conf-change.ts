/**
 * Single-server membership changes (Raft thesis §4.1; etcd `confchange.Simple` without joint
 * consensus): the ConfChange codec carried in ConfChange entries, validation of a proposed change,
 * and building the next configuration when one is applied.
 *
 * Encoding (deterministic, little-endian): [version=1][type: 0 AddNode | 1 AddLearner | 2 RemoveNode]
 * [nodeId: uint32 low][nodeId: uint32 high][context bytes...].
 */
import { ConfChangeType, RaftInvariantError, type ConfChange, type ConfState, type NodeId } from '../types.js';
import type { Progress } from './progress.js';
import type { ProgressTracker } from './tracker.js';

const VERSION = 1;
const HEADER = 10;
const TYPE_CODES: readonly ConfChangeType[] = [
  ConfChangeType.AddNode,
  ConfChangeType.AddLearner,
  ConfChangeType.RemoveNode,
];

/** Encodes a ConfChange for a ConfChange entry's data. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  if (!Number.isSafeInteger(cc.nodeId) || cc.nodeId <= 0) {
    throw new RaftInvariantError(`invalid conf change node id ${cc.nodeId}`);
  }
  const out = new Uint8Array(HEADER + cc.context.byteLength);
  const v = new DataView(out.buffer);
  out[0] = VERSION;
  out[1] = TYPE_CODES.indexOf(cc.type);
  v.setUint32(2, cc.nodeId % 0x1_0000_0000, true);
  v.setUint32(6, Math.floor(cc.nodeId / 0x1_0000_0000), true);
  out.set(cc.context, HEADER);
  return out;
}

/** Decodes a ConfChange entry's data; malformed data is a broken invariant (a corrupted log). */
export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.byteLength < HEADER || data[0] !== VERSION) {
    throw new RaftInvariantError(`malformed conf change (${data.byteLength} bytes)`);
  }
  const type = TYPE_CODES[data[1]!];
  if (type === undefined) throw new RaftInvariantError(`unknown conf change type ${data[1]}`);
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const nodeId = v.getUint32(2, true) + v.getUint32(6, true) * 0x1_0000_0000;
  return { type, nodeId, context: data.slice(HEADER) };
}

/** `v3`, `l4`, `r5` (etcd's notation). */
export function describeConfChange(cc: ConfChange): string {
  const prefix = cc.type === ConfChangeType.AddNode ? 'v' : cc.type === ConfChangeType.AddLearner ? 'l' : 'r';
  return `${prefix}${cc.nodeId}`;
}

/** `voters=(1 2 3) learners=(4)` */
export function describeConfState(cs: ConfState): string {
  let s = `voters=(${cs.voters.join(' ')})`;
  if (cs.learners.length > 0) s += ` learners=(${cs.learners.join(' ')})`;
  return s;
}

/**
 * Why applying `cc` to a configuration with these voters would break it, or undefined if it can
 * be applied. No-ops (adding an existing voter, removing a non-member) are fine, as in etcd.
 */
export function checkConfChange(voters: readonly NodeId[], cc: ConfChange): string | undefined {
  if (!Number.isSafeInteger(cc.nodeId) || cc.nodeId <= 0) return `invalid node id ${cc.nodeId}`;
  const removesVoter = cc.type !== ConfChangeType.AddNode && voters.includes(cc.nodeId);
  if (removesVoter && voters.length === 1) return 'removed all voters';
  return undefined;
}

/**
 * Why a leader refuses to propose `cc`: what checkConfChange refuses, plus the removal of a node
 * that is not a member (likely a retry of a removal already applied).
 */
export function checkProposedConfChange(
  voters: readonly NodeId[],
  learners: readonly NodeId[],
  cc: ConfChange,
): string | undefined {
  const reason = checkConfChange(voters, cc);
  if (reason !== undefined) return reason;
  if (cc.type === ConfChangeType.RemoveNode && !voters.includes(cc.nodeId) && !learners.includes(cc.nodeId)) {
    return `node ${cc.nodeId} is not a member`;
  }
  return undefined;
}

/** The next configuration after applying `cc`; progress of new members starts at `lastIndex`. */
export interface NextConfig {
  voters: NodeId[];
  learners: NodeId[];
  progress: Map<NodeId, Progress>;
}

export function applyConfChangeTo(trk: ProgressTracker, cc: ConfChange, lastIndex: number): NextConfig {
  const reason = checkConfChange(trk.voters, cc);
  if (reason !== undefined)
    throw new RaftInvariantError(`cannot apply conf change ${describeConfChange(cc)}: ${reason}`);
  const voters = new Set(trk.voters);
  const learners = new Set(trk.learners);
  const progress = new Map(trk.progress);
  const id = cc.nodeId;
  const pr = progress.get(id);
  switch (cc.type) {
    case ConfChangeType.AddNode:
      learners.delete(id);
      voters.add(id);
      if (pr === undefined) progress.set(id, trk.newProgress(Math.max(lastIndex, 1), false));
      else pr.isLearner = false;
      break;
    case ConfChangeType.AddLearner:
      voters.delete(id);
      learners.add(id);
      if (pr === undefined) progress.set(id, trk.newProgress(Math.max(lastIndex, 1), true));
      else pr.isLearner = true;
      break;
    case ConfChangeType.RemoveNode:
      voters.delete(id);
      learners.delete(id);
      progress.delete(id);
      break;
  }
  return { voters: sorted(voters), learners: sorted(learners), progress };
}

/** The configuration described by a ConfState (start-up or snapshot restore). */
export function configFromConfState(trk: ProgressTracker, cs: ConfState, lastIndex: number): NextConfig {
  const voters = sorted(new Set(cs.voters));
  const learners = sorted(new Set(cs.learners));
  for (const id of learners) {
    if (voters.includes(id)) throw new RaftInvariantError(`node ${id} is both a voter and a learner`);
  }
  const progress = new Map<NodeId, Progress>();
  for (const id of voters) progress.set(id, trk.newProgress(Math.max(lastIndex, 1), false));
  for (const id of learners) progress.set(id, trk.newProgress(Math.max(lastIndex, 1), true));
  return { voters, learners, progress };
}

function sorted(ids: Set<NodeId>): NodeId[] {
  return [...ids].sort((a, b) => a - b);
}
