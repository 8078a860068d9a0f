#!/usr/bin/env node
// Pre-bundles the import handler (lambda/index.ts) into assets/import-handler/index.js at library
// build time, so that consumers of the library never need esbuild or Docker to synthesize.
// The AWS SDK is bundled, not taken from the Lambda runtime: the runtime's SDK may predate the
// ImportKeyMaterial members the handler sends, and the SDK silently drops unknown members.
const path = require('path');
const fs = require('fs');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const outdir = path.join(root, 'assets', 'import-handler');
fs.rmSync(outdir, { recursive: true, force: true });
esbuild.buildSync({
  entryPoints: [path.join(root, 'lambda', 'index.ts')],
  outfile: path.join(outdir, 'index.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  mainFields: ['module', 'main'],
  legalComments: 'none',
  logLevel: 'warning',
});
const bytes = fs.statSync(path.join(outdir, 'index.js')).size;
console.log(`bundled import handler: ${path.relative(root, outdir)}/index.js (${bytes} bytes)`);
