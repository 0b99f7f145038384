/** The replicated key-value store: commands, the LevelDB state machine and its client service. */
export * from './apply.js';
export * from './command.js';
export * from './level-kv-state-machine.js';
export * from './kv-service.js';
