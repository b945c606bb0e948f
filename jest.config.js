/**
 * One Jest run for the whole monorepo. Tests import packages from source (@keyward/NAME resolves to packages/NAME/src), except
 * the import-matrix test, which loads the built `dist/` from real CommonJS and ESM processes.
 * jose is ESM-only, so it is transformed to CommonJS for Jest.
 *
 * Two projects: every test, and the adapter conformance suite once more on the Redis stores
 * (test/conformance/stores.ts; redis.conformance.test.ts is Redis-only already).
 */
/** @type {import('jest').Config} */
const project = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/test', '<rootDir>/examples'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  moduleNameMapper: {
    '^@keyward/(core|express|koa|nest|redis|postgres|geo|monitoring)$': '<rootDir>/packages/$1/src',
    '^keyward$': '<rootDir>/packages/cli/src',
  },
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json', diagnostics: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose)/)'],
  setupFilesAfterEnv: ['<rootDir>/test/setup/leak-guard.ts'],
  testTimeout: 30000,
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...project, displayName: 'keyward' },
    {
      ...project,
      displayName: 'conformance on Redis',
      roots: ['<rootDir>/test/conformance'],
      testMatch: ['**/*.conformance.test.ts'],
      testPathIgnorePatterns: [...project.testPathIgnorePatterns, '/redis\\.conformance\\.test\\.ts$'],
      setupFiles: ['<rootDir>/test/conformance/on-redis.env.ts'],
      setupFilesAfterEnv: [...project.setupFilesAfterEnv, '<rootDir>/test/conformance/on-redis.setup.ts'],
    },
  ],
  reporters: ['default', '<rootDir>/scripts/summary-reporter.js'],
  maxWorkers: 2,
};
