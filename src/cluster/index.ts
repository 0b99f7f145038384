/** The cluster module's public surface: join tokens, PKI, membership. Import src/cluster through this file. */
export * from './join-token.js';
export * from './pki.js';
export * from './duties.js';
export * from './membership.js';
