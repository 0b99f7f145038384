// Re-exports the src helpers the fakes use, in one place.
export { ErrorCode, ShoalError, errors, toDisposable, type Disposable } from '../../../src/shared/index.js';
export { canonicalJson as canonicalJsonForTests } from '../../../src/node-agent/ledger.js';
