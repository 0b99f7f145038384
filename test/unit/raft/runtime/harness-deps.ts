/** Re-exports for the runtime test harness, and a logger that records nothing. */
import type { RaftLogger } from '../../../../src/raft/index.js';
export { RaftNode, type NodeId } from '../../../../src/raft/index.js';

export const silentRaftLogger: RaftLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
