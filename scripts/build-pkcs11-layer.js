#!/usr/bin/env node
// Packaging of the PKCS#11 bindings with the import handler's PKCS#11 asset,
// assets/import-handler-pkcs11 (docs/decisions/0005-pkcs11-binding.md, 0016). Used by
// scripts/bundle-handler.js; the default asset, assets/import-handler, leaves them out:
//
// - pkcs11js is a Node-API addon with no prebuilt binaries: `npm ci` compiles it with node-gyp
//   at library build time. esbuild bundles its JavaScript and copies build/Release/pkcs11.node
//   beside index.js (`--loader:.node=copy`, which rewrites the require to ./pkcs11-<hash>.node).
// - koffi cannot be bundled: it finds its prebuilt binary in @koromix/koffi-<platform> at run
//   time. It stays external, and the few files it needs at run time are copied into the asset's
//   node_modules, for linux-x64 glibc only: the handler is an x86_64 nodejs24.x (Amazon Linux 2023)
//   function.
//
// Both are loaded lazily by lambda/sources/pkcs11/binding.ts, so the Secrets Manager source works
// in the default asset, which has neither. Where a binding is missing at build time (npm ci
// --ignore-scripts, no compiler, another host platform) the asset is built without it, with a
// warning: without pkcs11js the PKCS#11 source reports that it is unavailable; without koffi it
// composes RSA_AES_KEY_WRAP_* from two HSM calls instead of using CKM_RSA_AES_KEY_WRAP.
//
// Run directly (`node scripts/build-pkcs11-layer.js`) it prints what would be shipped and checks
// that the bindings load here.
const fs = require('fs');
const path = require('path');

/** The packages the PKCS#11 asset ships and the default asset leaves out. */
const BINDINGS = ['pkcs11js', 'koffi'];

/** The Lambda platform the handler asset is built for (lib/private/handler-runtime.ts: x86_64). */
const TARGET = { platform: 'linux', arch: 'x64', koffiPackage: '@koromix/koffi-linux-x64', koffiBinaryDir: 'linux_x64' };

/** koffi's run-time files (its package also holds C++ sources, docs and vendored headers). */
const KOFFI_FILES = ['package.json', 'index.cjs', 'LICENSE.txt', 'src/koffi/index.cjs', 'src/koffi/src/static.cjs'];
const KOFFI_PLATFORM_FILES = ['package.json', 'index.js', `${TARGET.koffiBinaryDir}/koffi.node`];

function packageDir(root, name) {
  try {
    return path.dirname(require.resolve(`${name}/package.json`, { paths: [root] }));
  } catch {
    // koffi's "exports" map does not list package.json: look for the folder itself.
    const dir = path.join(root, 'node_modules', name);
    return fs.existsSync(path.join(dir, 'package.json')) ? dir : undefined;
  }
}

/** What to tell esbuild, and what copyPkcs11Runtime will copy. */
function pkcs11BuildOptions(root) {
  const pkcs11jsDir = packageDir(root, 'pkcs11js');
  const pkcs11Node = pkcs11jsDir && path.join(pkcs11jsDir, 'build', 'Release', 'pkcs11.node');
  const hasPkcs11js = Boolean(pkcs11Node && fs.existsSync(pkcs11Node));
  const koffiDir = packageDir(root, 'koffi');
  const koffiPlatformDir = packageDir(root, TARGET.koffiPackage);
  const hasKoffi = Boolean(koffiDir && koffiPlatformDir
    && KOFFI_FILES.every((f) => fs.existsSync(path.join(koffiDir, f)))
    && KOFFI_PLATFORM_FILES.every((f) => fs.existsSync(path.join(koffiPlatformDir, f))));
  if (!hasPkcs11js) {
    console.warn('bundle-handler: WARNING pkcs11js is not built (node_modules/pkcs11js/build/Release/pkcs11.node); the PKCS#11 asset will have no PKCS#11 source. Install g++, make and python3 and run npm ci.');
  }
  if (!hasKoffi) {
    console.warn(`bundle-handler: WARNING koffi or ${TARGET.koffiPackage} is missing; the PKCS#11 asset will compose RSA_AES_KEY_WRAP_* in the HSM instead of calling CKM_RSA_AES_KEY_WRAP.`);
  }
  return {
    hasPkcs11js, hasKoffi, pkcs11jsDir, koffiDir, koffiPlatformDir,
    esbuild: {
      loader: { '.node': 'copy' },
      external: hasPkcs11js ? ['koffi'] : ['koffi', 'pkcs11js'],
    },
  };
}

/** Copies koffi's run-time files and the licenses of what is shipped into the asset folder. */
function copyPkcs11Runtime(root, outdir, options) {
  const copy = (from, to) => {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
  };
  if (options.hasPkcs11js) copy(path.join(options.pkcs11jsDir, 'LICENSE'), path.join(outdir, 'pkcs11js.LICENSE.txt'));
  if (options.hasKoffi) {
    for (const f of KOFFI_FILES) copy(path.join(options.koffiDir, f), path.join(outdir, 'node_modules', 'koffi', f));
    for (const f of KOFFI_PLATFORM_FILES) copy(path.join(options.koffiPlatformDir, f), path.join(outdir, 'node_modules', ...TARGET.koffiPackage.split('/'), f));
  }
}

module.exports = { pkcs11BuildOptions, copyPkcs11Runtime, TARGET, BINDINGS };

if (require.main === module) {
  const root = path.join(__dirname, '..');
  const options = pkcs11BuildOptions(root);
  const report = { target: `${TARGET.platform}-${TARGET.arch}`, pkcs11js: options.hasPkcs11js, koffi: options.hasKoffi };
  if (options.hasPkcs11js) {
    const node = path.join(options.pkcs11jsDir, 'build', 'Release', 'pkcs11.node');
    report.pkcs11Node = { bytes: fs.statSync(node).size, machine: elfMachine(node) };
    require(path.join(options.pkcs11jsDir));
  }
  if (options.hasKoffi) report.koffiVersion = require(options.koffiDir).version;
  console.log(JSON.stringify(report, null, 2));
}

/** The ELF e_machine of a shared object: what CPU it was built for. */
function elfMachine(file) {
  const header = Buffer.alloc(20);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, header, 0, 20, 0);
  } finally {
    fs.closeSync(fd);
  }
  const machine = header.readUInt16LE(18);
  return { 0x3e: 'x86_64', 0xb7: 'aarch64' }[machine] ?? `0x${machine.toString(16)}`;
}
