/**
 * THE REST contract: TypeBox schemas and their static types, named as LXD names them
 * (shared/api/*.go), with LXD's snake_case wire keys. Used by the server for validation and
 * serialization and by the CLI as types. Imports only typebox.
 */
export * from './common.js';
export * from './status-code.js';
export * from './response.js';
export * from './operation.js';
export * from './event.js';
export * from './server.js';
export * from './certificate.js';
export * from './instance.js';
export * from './instance-state.js';
export * from './instance-snapshot.js';
export * from './instance-exec.js';
export * from './migration.js';
export * from './image.js';
export * from './profile.js';
export * from './network.js';
export * from './storage.js';
export * from './project.js';
export * from './cluster.js';
export * from './warning.js';
export * from './resources.js';
export * from './extensions.js';
