/**
 * The node agent's public surface (the daemon composes it; nothing else imports node-agent
 * internals). See README.md.
 */
export { AgentService, type AgentServiceConfig } from './service.js';
export type { AgentServiceDrivers, AgentServiceOptions } from './service-context.js';
export { addAgentServiceToServer, createAgentServiceHandlers, startAgentServer, type AgentServer } from './server.js';
export { AGENT_GRPC_OPTIONS, type AgentTls } from './grpc-options.js';
export { AgentClient, type CallOpts, type ExecHandle, type PartialMessage, type RequestOf, type ResponseOf, type UnaryMethod } from './client.js';
export type { RecoveryReport } from './recovery.js';
export { instanceDrivers, networkDrivers, storageDrivers, type DriverContext } from './drivers/registry.js';
export { FsImageStore } from './images/fs-image-store.js';
export { buildBusyboxImage } from './images/busybox.js';
export { readHostIdmap } from './drivers/lxc/idmap.js';
export * from './types.js';
