// ESLint flat config. The rule that matters most: adapters import only @keyward/core's public entry,
// never its internals, so third-party adapters can be written against the same surface.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const coreInternals = {
  patterns: [
    { group: ['@keyward/core/*'], message: 'Adapters import only the public entry "@keyward/core".' },
    { group: ['**/core/src/**', '../../core/**', '../core/**'], message: 'Adapters import only the public entry "@keyward/core".' },
  ],
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '**/*.d.ts', '.turbo/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly', URL: 'readonly', performance: 'readonly', TextEncoder: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-require-imports': 'off',
      'no-control-regex': 'off',
    },
  },
  {
    files: ['packages/express/src/**', 'packages/koa/src/**', 'packages/nest/src/**'],
    rules: { 'no-restricted-imports': ['error', coreInternals] },
  },
  {
    files: ['**/*.test.ts', 'test/**', 'bench/**', 'examples/**', 'scripts/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
