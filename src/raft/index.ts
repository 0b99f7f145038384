// The public surface of src/raft: import raft only through this file.
export * from './types.js';
export * from './ports.js';
export * from './core/index.js';
export * from './storage/memory-storage.js';
