// Two projects: `unit` needs Node only (no python3/moto, openssl, AWS CLI or SoftHSM) and runs
// alone with `npm run test:unit` (jest --selectProjects unit); `tools-and-e2e` is the rest: the
// local-cloud deployments, the package checks, and the tests that need a command-line tool or
// SoftHSM (test/tools.ts). `npm test` runs both.
const UNIT = [
  'test/lib/',
  'test/lambda/',
  'test/emulator/',
  'test/iam/',
  'test/secrets-manager/protocol.test.ts',
  'test/testing-kit/',
  'test/hsm/construct.test.ts',
  'test/hsm/mechanisms.test.ts',
  'test/hsm/pin.test.ts',
];
const ignored = ['/node_modules/', '\\.snapshot/'];

const project = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  // Committed integ-runner snapshots (test/integ.*.ts.snapshot/) are cloud assemblies, not tests.
  testPathIgnorePatterns: ignored,
  modulePathIgnorePatterns: ['\\.snapshot/'],
  transform: { '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.dev.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Silences the AWS SDK's Node.js version warning, repeated once per test file (tests only).
  setupFiles: ['<rootDir>/test/sdk-warnings.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    // test/tools.ts fails any test in this project that asks for a tool: unit tests need Node only.
    {
      ...project,
      displayName: 'unit',
      testMatch: UNIT.map((p) => `<rootDir>/${p}${p.endsWith('/') ? '**/*.test.ts' : ''}`),
      globals: { CDK_KMS_BYOK_NODE_ONLY: true },
    },
    {
      ...project,
      displayName: 'tools-and-e2e',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: [...ignored, ...UNIT.map((p) => `<rootDir>/${p.replace(/\./g, '\\.')}`)],
    },
  ],
  testTimeout: 60000,
  // A temporary directory per run, checked for leftovers at the end (test/tmpdir-teardown.js).
  globalSetup: '<rootDir>/test/tmpdir-setup.js',
  globalTeardown: '<rootDir>/test/tmpdir-teardown.js',
  maxWorkers: 2,
  // `npm test` runs jest --coverage: the thresholds below fail the suite. (The e2e tests run the
  // bundled handler in child processes, which coverage cannot see; the unit tests cover lambda/.)
  collectCoverageFrom: ['lib/**/*.ts', 'lambda/**/*.ts', 'testing/**/*.ts', '!**/*.d.ts'],
  coverageDirectory: 'coverage',
  coverageReporters: ['text-summary', 'lcov'],
  coverageThreshold: {
    global: { statements: 90, lines: 90, functions: 90, branches: 80 },
  },
};
