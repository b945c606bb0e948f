/**
 * One Jest run for the whole monorepo. Tests import packages from source (@keyward/NAME resolves to packages/NAME/src), except
 * the import-matrix test, which loads the built `dist/` from real CommonJS and ESM processes.
 * jose is ESM-only, so it is transformed to CommonJS for Jest.
 */
/** @type {import('jest').Config} */
module.exports = {
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
  reporters: ['default', '<rootDir>/scripts/summary-reporter.js'],
  testTimeout: 30000,
  maxWorkers: 2,
};
