/** The scheduler's public surface: pure placement and evacuation planning over a ClusterSnapshot. */
export * from './types.js';
export { place } from './place.js';
export { planEvacuation } from './evacuate.js';
export { requestFromConfig, parseCpuLimit, parseMemoryLimit, memoryBytesOn } from './resources.js';
export { FILTER_NAMES, type FilterName } from './filters.js';
export { LOAD_WEIGHTS, loadAfter, type LoadBreakdown } from './scorers.js';
