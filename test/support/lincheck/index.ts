/** Public surface of the linearizability checker (see README.md). */
export { checkOperations } from './check.js';
export { bruteForceLinearizable } from './brute-force.js';
export { applyKv, describeKv, kvModel } from './kv-model.js';
export type { KvInput, KvOperation, KvOutput, KvState } from './kv-model.js';
export type { CheckBudget, CheckResult, Model, NotLinearizable, Operation, StepResult } from './model.js';
