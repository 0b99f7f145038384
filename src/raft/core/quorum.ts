/**
 * Majority-quorum arithmetic (etcd `quorum/majority.go`), over the voters only: learners are never
 * passed in, so they never count toward commit, elections or check-quorum.
 */
import type { NodeId } from '../types.js';

export const VoteResult = {
  /** Neither a quorum of yes nor a quorum of no yet. */
  Pending: 'Pending',
  Lost: 'Lost',
  Won: 'Won',
} as const;
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

// Scratch buffer reused across calls (the core is single-threaded).
let scratch = new Float64Array(8);

/**
 * The largest index acked by a majority of `voters`. `acked(id)` returns a voter's acked index,
 * or undefined when unknown (treated as 0). An empty voter set commits nothing (0).
 */
export function committedIndex(voters: readonly NodeId[], acked: (id: NodeId) => number | undefined): number {
  const n = voters.length;
  if (n === 0) return 0;
  if (n === 1) return acked(voters[0]!) ?? 0;
  if (scratch.length < n) scratch = new Float64Array(n * 2);
  const buf = scratch.subarray(0, n);
  for (let i = 0; i < n; i++) buf[i] = acked(voters[i]!) ?? 0;
  buf.sort();
  // Ascending: the quorum-th largest value sits n - (n/2 + 1) from the left.
  return buf[n - (Math.floor(n / 2) + 1)]!;
}

/**
 * The election outcome among `voters` given recorded `votes` (true = granted). By convention an
 * empty voter set wins.
 */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return VoteResult.Won;
  let yes = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) yes++;
  }
  const q = Math.floor(voters.length / 2) + 1;
  if (yes >= q) return VoteResult.Won;
  if (yes + missing >= q) return VoteResult.Pending;
  return VoteResult.Lost;
}
