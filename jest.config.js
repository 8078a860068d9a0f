/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Committed integ-runner snapshots (test/integ.*.ts.snapshot/) are cloud assemblies, not tests.
  testPathIgnorePatterns: ['/node_modules/', '\\.snapshot/'],
  modulePathIgnorePatterns: ['\\.snapshot/'],
  transform: { '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.dev.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 60000,
  // A temporary directory per run, checked for leftovers at the end (test/tmpdir-teardown.js).
  globalSetup: '<rootDir>/test/tmpdir-setup.js',
  globalTeardown: '<rootDir>/test/tmpdir-teardown.js',
  maxWorkers: 2,
  // `npm test` runs jest --coverage: the thresholds below fail the suite. (The e2e tests run the
  // bundled handler in child processes, which coverage cannot see; the unit tests cover lambda/.)
  collectCoverageFrom: ['lib/**/*.ts', 'lambda/**/*.ts', '!**/*.d.ts'],
  coverageDirectory: 'coverage',
  coverageReporters: ['text-summary', 'lcov'],
  coverageThreshold: {
    global: { statements: 90, lines: 90, functions: 90, branches: 80 },
  },
};
