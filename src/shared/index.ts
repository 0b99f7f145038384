/** Leaf utilities every module may use. Imports nothing else from src. */
export * from './errors.js';
export * from './disposables.js';
export * from './clock.js';
export * from './logger.js';
export * from './revert.js';
export * from './retry.js';
export * from './ids.js';
export * from './grpc-status.js';
export * from './units.js';
