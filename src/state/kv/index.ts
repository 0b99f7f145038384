/** The replicated key-value store: Txn commands, the LevelDB state machine, views, watches, services. */
export * from './apply.js';
export * from './txn.js';
export * from './record.js';
export * from './command.js';
export * from './kv-view.js';
export * from './watch-hub.js';
export * from './level-kv-state-machine.js';
export * from './kv-service.js';
export { opResultFromProto, opResultToProto, txnFromProto, txnToProto, asBuffer } from './txn-codec.js';
