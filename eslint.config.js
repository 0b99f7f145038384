// ESLint: type-aware rules, module boundaries (../shared/CONVENTIONS.md "Module boundaries") and
// determinism rules for the pure cores.
import tseslint from 'typescript-eslint';
import importPlugin from 'eslint-plugin-import';

const all = ['./src/shared', './src/raft', './src/state', './src/cluster', './src/scheduler', './src/node-agent',
  './src/api', './src/cli', './src/daemon'];
const except = (...allowed) => all.filter((m) => !allowed.includes(m));

const deterministic = {
  'no-restricted-globals': ['error',
    { name: 'setTimeout', message: 'Inject a Clock; the core is driven by tick().' },
    { name: 'setInterval', message: 'Inject a Clock; the core is driven by tick().' },
    { name: 'setImmediate', message: 'The core is synchronous.' },
    { name: 'process', message: 'No process access in pure modules.' }],
  'no-restricted-properties': ['error',
    { object: 'Math', property: 'random', message: 'Inject an Rng (seeded in tests).' },
    { object: 'Date', property: 'now', message: 'Inject a Clock.' }],
  'no-restricted-syntax': ['error',
    { selector: "NewExpression[callee.name='Date']", message: 'Inject a Clock.' },
    { selector: 'AwaitExpression', message: 'The core is synchronous.' }],
  'no-restricted-imports': ['error', { patterns: [
    { group: ['node:*', 'pino', '@grpc/*', 'classic-level', 'level'], message: 'Pure modules do no I/O.' }] }],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'proto/gen/**', '.shoal-demo/**', '.bench/**', 'eslint.config.js',
    'test/support/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { typescript: { project: './tsconfig.json' } } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
      'import/no-cycle': 'error',
      'import/no-restricted-paths': ['error', { zones: [
        { target: './src/shared', from: except('./src/shared'), message: 'shared is a leaf.' },
        { target: './src/raft', from: except('./src/shared', './src/raft'), message: 'raft knows nothing of the application.' },
        { target: './src/raft/core', from: ['./src/shared', './src/raft/runtime', './src/raft/storage', './src/raft/transport'],
          message: 'The raft core imports only raft/types and raft/ports.' },
        { target: './src/state', from: except('./src/shared', './src/raft', './src/state'), message: 'state builds on raft and shared only.' },
        { target: './src/scheduler', from: except('./src/shared', './src/scheduler'), message: 'scheduler is pure over its own snapshot types.' },
        { target: './src/cluster', from: ['./src/api', './src/cli', './src/daemon', './src/node-agent'], message: 'cluster must not reach into api, cli, daemon or node-agent.' },
        { target: './src/node-agent', from: except('./src/shared', './src/node-agent'), message: 'node-agent depends only on shared and proto/gen.' },
        { target: './src/api/types', from: except('./src/api'), message: 'api/types imports only typebox.' },
        { target: './src/api/types', from: './src/api', except: ['./types'], message: 'api/types imports only typebox.' },
        { target: './src/api', from: ['./src/raft', './src/node-agent', './src/cli', './src/daemon'], message: 'api talks to state, scheduler and cluster ports.' },
        { target: './src/cli', from: except('./src/shared', './src/cli', './src/api'), message: 'cli speaks only the REST API.' },
        { target: './src', from: ['./test', './bench'], message: 'src never imports tests or benchmarks.' },
        { target: except('./src/daemon'), from: './src/daemon', message: 'nothing imports the daemon.' },
      ] }],
    },
  },
  { files: ['src/raft/core/**/*.ts', 'src/scheduler/**/*.ts', 'src/state/kv/apply*.ts'], rules: deterministic },
  { files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'src/cli/**/*.ts'], rules: { 'no-console': 'off' } },
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-non-null-assertion': 'off' } },
);
