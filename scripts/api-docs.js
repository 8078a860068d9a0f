#!/usr/bin/env node
// `npm run docs`: writes the API reference of the public surface (lib/index.ts) to API.md, from
// the TSDoc comments, with typedoc + typedoc-plugin-markdown (settings in typedoc.json).
// typedoc empties its output directory first, so it writes into a temporary directory and only
// API.md is copied to the repository root.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-api-docs-'));
try {
  execFileSync(process.execPath, [
    path.join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'),
    '--options', path.join(root, 'typedoc.json'),
    '--out', out,
    '--logLevel', 'Warn',
    '--treatWarningsAsErrors',
  ], { cwd: root, stdio: 'inherit' });
  const written = fs.readdirSync(out);
  if (written.length !== 1 || written[0] !== 'API.md') {
    throw new Error(`typedoc wrote ${written.join(', ')}; expected a single API.md (router "module", one entry point)`);
  }
  fs.copyFileSync(path.join(out, 'API.md'), path.join(root, 'API.md'));
  console.log(`API reference: API.md (${fs.statSync(path.join(root, 'API.md')).size} bytes)`);
} finally {
  fs.rmSync(out, { recursive: true, force: true });
}
