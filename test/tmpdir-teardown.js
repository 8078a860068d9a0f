// Jest globalTeardown: fails the run if a test left one of this project's temporary
// directories (byok-*) behind, naming them; then removes the run's directory.
const fs = require('fs');
const path = require('path');

module.exports = async () => {
  const dir = process.env.BYOK_TEST_TMPDIR;
  if (!dir) return;
  const left = fs.readdirSync(dir).filter((name) => name.startsWith('byok-'));
  fs.rmSync(dir, { recursive: true, force: true });
  if (left.length > 0) {
    throw new Error(`the tests left ${left.length} temporary director${left.length === 1 ? 'y' : 'ies'} behind: ${left.slice(0, 20).join(', ')}${left.length > 20 ? ', ...' : ''}; remove what a test creates (test/e2e/util.ts tempDir does it for synthesized assemblies)`);
  }
};
