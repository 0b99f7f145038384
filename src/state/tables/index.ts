/** The typed tables: definitions, records and the integrity rules. */
export * from './fields.js';
export * from './table.js';
export * from './tx.js';
export * from './cluster.js';
export * from './instances.js';
export * from './images.js';
export * from './storage.js';
export * from './networks.js';
export * from './projects.js';
export * from './certificates.js';
export * from './operations.js';
export { rulesFor, TABLES, tableOfKey } from './integrity.js';
