'use strict';
// The Node.js that the import handler runs on in Lambda (HANDLER_RUNTIME in
// lib/private/handler-runtime.ts), for the handler sections of the benchmark: the handler's CPU depends on the Node
// and OpenSSL versions (measured: node 24 parses a private key in about half the time of node 20),
// so its figures are taken on the runtime the function really has.
//
// - BENCH_LAMBDA_NODE=/path/to/node: that binary (its major version must match the runtime's).
// - BENCH_LAMBDA_NODE=machine: this machine's node, whatever its version (the report says so).
// - otherwise: this machine's node if its major version matches; else the official build from the
//   npm registry (package node-<platform>-<arch>, the one the `node` package installs), installed
//   once into node_modules/.cache/cdk-kms-byok-bench/. If that fails (no registry), the machine's
//   node is used and the report says so.
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'cdk-kms-byok-bench');

function runtimeMajor() {
  const { HANDLER_RUNTIME, nodeMajorOf } = require('../lib/private/handler-runtime');
  return nodeMajorOf(HANDLER_RUNTIME);
}

function versionOf(binary) {
  const r = spawnSync(binary, ['-p', 'process.version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`${binary} -p process.version failed: ${r.stderr || r.error}`);
  return r.stdout.trim();
}

function install(major, log) {
  const pkg = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
  const dir = path.join(CACHE, `${pkg}-${major}`);
  const binary = path.join(dir, 'node_modules', pkg, 'bin', 'node');
  if (fs.existsSync(binary)) return binary;
  log(`installing Node.js ${major} (${pkg}@${major}) from the npm registry into ${path.relative(ROOT, dir)}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n');
  const r = spawnSync('npm', ['install', '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', `${pkg}@${major}`], { cwd: dir, encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0 || !fs.existsSync(binary)) throw new Error(`npm install ${pkg}@${major} failed: ${(r.stderr || String(r.error)).slice(-500)}`);
  return binary;
}

/** { execPath, version, runtime, source } of the Node.js to run the handler on. */
function lambdaNode(log) {
  const major = runtimeMajor();
  const runtime = `nodejs${major}.x`;
  const choice = process.env.BENCH_LAMBDA_NODE;
  const machine = { execPath: process.execPath, version: process.version, runtime };
  if (choice === 'machine') return { ...machine, source: 'this machine\'s node (BENCH_LAMBDA_NODE=machine)' };
  if (choice) {
    const version = versionOf(choice);
    if (Number(version.slice(1).split('.')[0]) !== major) throw new Error(`BENCH_LAMBDA_NODE=${choice} is ${version}; the handler runs on ${runtime}`);
    return { execPath: choice, version, runtime, source: `BENCH_LAMBDA_NODE=${choice}` };
  }
  if (Number(process.versions.node.split('.')[0]) === major) return { ...machine, source: 'this machine\'s node' };
  try {
    const execPath = install(major, log);
    return { execPath, version: versionOf(execPath), runtime, source: `official build from the npm registry, cached in ${path.relative(ROOT, CACHE)}` };
  } catch (e) {
    log(`could not get Node.js ${major} (${e.message}); measuring the handler on this machine's node ${process.version} instead`);
    return { ...machine, source: `this machine's node: Node.js ${major} could not be installed` };
  }
}

module.exports = { lambdaNode };
