/** The pure raft core: RawNode and what a runtime needs alongside it. */
export { RawNode } from './raw-node.js';
export type { RaftConfig } from './config.js';
export { encodeConfChange, decodeConfChange, describeConfChange, describeConfState } from './conf-change.js';
