#!/usr/bin/env node
// Pre-bundles the import handler (lambda/index.ts) into assets/import-handler/index.js at library
// build time, so that consumers of the library never need esbuild or Docker to synthesize.
// The AWS SDK is bundled, not taken from the Lambda runtime: the runtime's SDK may predate the
// ImportKeyMaterial members the handler sends, and the SDK silently drops unknown members.
//
// Usage: node scripts/bundle-handler.js [outdir]   (default: assets/import-handler)
const path = require('path');
const fs = require('fs');
const esbuild = require('esbuild');
const { pkcs11BuildOptions, copyPkcs11Runtime } = require('./build-pkcs11-layer'); // issue 5

const root = path.join(__dirname, '..');
const outdir = path.resolve(process.argv[2] ?? path.join(root, 'assets', 'import-handler'));
// Build beside the target and swap it in, so a concurrent synth never sees a half-written asset.
const staging = `${outdir}.staging-${process.pid}`;
fs.rmSync(staging, { recursive: true, force: true });
const pkcs11 = pkcs11BuildOptions(root); // issue 5: the native PKCS#11 binding, see docs/decisions/0005
esbuild.buildSync({
  entryPoints: [path.join(root, 'lambda', 'index.ts')],
  outfile: path.join(staging, 'index.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  mainFields: ['module', 'main'],
  legalComments: 'none',
  logLevel: 'warning',
  ...pkcs11.esbuild,
});
copyPkcs11Runtime(root, staging, pkcs11); // issue 5
fs.rmSync(outdir, { recursive: true, force: true });
fs.renameSync(staging, outdir);

const files = [];
(function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(file);
    else files.push([path.relative(outdir, file), fs.statSync(file).size]);
  }
})(outdir);
const total = files.reduce((sum, [, size]) => sum + size, 0);
console.log(`bundled import handler: ${path.relative(root, outdir) || outdir} (${files.length} files, ${total} bytes)`);
for (const [file, size] of files) console.log(`  ${file} ${size}`);
