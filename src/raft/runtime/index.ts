/** The runtime: RaftNode (the loop) and what callers need alongside it. */
export { RaftNode, type RaftNodeOptions, type RaftNodeStatus, type LeaderChange } from './raft-node.js';
export type { InitialMember } from './bootstrap.js';
export { LatencyRecorder, traceNow, type LatencyTrace } from './latency-trace.js';
