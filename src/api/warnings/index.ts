/** Warnings: raise/resolve them from anywhere in the daemon (see warnings.ts). */
export { raiseWarning, raiseWarningTx, resolveWarnings, resolveWarningsTx, type WarningMatch, type WarningSpec } from './warnings.js';
