/** The public surface of the raft library: import raft only through this file. */
export * from './types.js';
export * from './ports.js';
export * from './core/index.js';
export * from './storage/memory-storage.js';
export * from './storage/level-storage.js';
export * from './transport/codec.js';
export * from './transport/options.js';
export * from './transport/grpc-transport.js';
export * from './transport/peer-stream.js';
export * from './runtime/index.js';
