/** The replicated database. Cross-module imports go through this file only. */
export * from './kv/index.js';
