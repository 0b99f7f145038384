/** The replicated cluster database. Cross-module imports go through this file only. */
export * from './kv/index.js';
export * from './config/registry.js';
export * from './tables/index.js';
export * from './schema/versions.js';
export { SCHEMA_KEY, readSchemaVersion } from './schema/cluster-schema.js';
export { SchemaUpgrader, upgradeSchemaTx, type SchemaUpgraderOptions, type UpgradeStep } from './schema/upgrade.js';
export * from './store/state-store.js';
export { StateView } from './store/state-view.js';
export { WriteTx, type WriteOptions } from './store/write-tx.js';
export { ReadBarrier, type ReadIndexer } from './store/read-barrier.js';
export * from './init.js';
export * from './snapshot.js';
export * from './join-tokens.js';
export { createStateService, type StateServiceDeps } from './service/state-service.js';
