#!/usr/bin/env node
// Pre-bundles the import handler (lambda/index.ts) at library build time, so that consumers of
// the library never need esbuild or Docker to synthesize (docs/decisions/0002). Two assets, from
// the same entry point (docs/decisions/0016):
//
//   assets/import-handler/         index.js only: Secrets Manager and offline-wrapped material.
//                                  No native code; the PKCS#11 bindings are left out (the
//                                  PKCS#11 source then reports that they are unavailable).
//   assets/import-handler-pkcs11/  the same handler with the PKCS#11 bindings (pkcs11js's binary
//                                  beside index.js, koffi in node_modules), for import providers
//                                  with an HSM connection (scripts/build-pkcs11-layer.js).
//
// The AWS SDK is bundled, not taken from the Lambda runtime: the runtime's SDK may predate the
// ImportKeyMaterial members the handler sends, and the SDK silently drops unknown members. The
// esbuild target is the Node.js version of the function's runtime (lib/private/handler-runtime.ts,
// compiled by tsc before this script runs).
//
// Usage: node scripts/bundle-handler.js [assetsDir]   (default: assets)
const path = require('path');
const fs = require('fs');
const esbuild = require('esbuild');
const { pkcs11BuildOptions, copyPkcs11Runtime, BINDINGS } = require('./build-pkcs11-layer');

const root = path.join(__dirname, '..');
const assetsDir = path.resolve(process.argv[2] ?? path.join(root, 'assets'));
const { handlerBundleTarget } = require(path.join(root, 'lib', 'private', 'handler-runtime.js'));

/** Builds one asset beside its target and swaps it in, so a concurrent synth never sees a half-written asset. */
function buildAsset(name, esbuildOptions, addFiles) {
  const outdir = path.join(assetsDir, name);
  const staging = `${outdir}.staging-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  const options = {
    entryPoints: [path.join(root, 'lambda', 'index.ts')],
    outfile: path.join(staging, 'index.js'),
    bundle: true,
    platform: 'node',
    target: handlerBundleTarget(),
    format: 'cjs',
    minify: true,
    mainFields: ['module', 'main'],
    legalComments: 'none',
    logLevel: 'warning',
    ...esbuildOptions,
  };
  esbuild.buildSync(options);
  addFiles?.(staging);
  fs.rmSync(outdir, { recursive: true, force: true });
  fs.renameSync(staging, outdir);
  report(outdir, options.target);
}

function report(outdir, target) {
  const files = [];
  (function walk(dir) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else files.push([path.relative(outdir, file), fs.statSync(file).size]);
    }
  })(outdir);
  const total = files.reduce((sum, [, size]) => sum + size, 0);
  console.log(`bundled import handler: ${path.relative(root, outdir) || outdir} (target ${target}; ${files.length} files, ${total} bytes)`);
  for (const [file, size] of files) console.log(`  ${file} ${size}`);
}

buildAsset('import-handler', { external: BINDINGS });
const pkcs11 = pkcs11BuildOptions(root);
buildAsset('import-handler-pkcs11', pkcs11.esbuild, (dir) => copyPkcs11Runtime(root, dir, pkcs11));
