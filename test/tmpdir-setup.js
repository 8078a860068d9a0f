// Jest globalSetup: the run gets a temporary directory of its own (TMPDIR, inherited by the
// workers and every process they start), so that globalTeardown can tell what this run left
// behind from what other processes on the machine put in the shared temporary directory.
const fs = require('fs');
const os = require('os');
const path = require('path');

module.exports = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jest-run-'));
  process.env.BYOK_TEST_TMPDIR = dir;
  process.env.TMPDIR = dir;
};
