import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * The handler asset as scripts/bundle-handler.js builds it: the pkcs11js binary copied beside the
 * bundle, koffi's run-time files in node_modules, all for linux-x64, and nothing native loaded
 * until a PKCS#11 import needs it.
 */

const root = path.join(__dirname, '..', '..');
let outdir: string;

beforeAll(() => {
  outdir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'byok-asset-')), 'import-handler');
  execFileSync(process.execPath, [path.join(root, 'scripts', 'bundle-handler.js'), outdir], { stdio: 'pipe' });
}, 120_000);
afterAll(() => fs.rmSync(path.dirname(outdir), { recursive: true, force: true }));

function listing(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  (function walk(d: string) {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else out[path.relative(dir, f)] = fs.statSync(f).size;
    }
  })(dir);
  return out;
}

/** Runs a script in a fresh node process, away from the repository's node_modules. */
function runIsolated(script: string): string {
  return execFileSync(process.execPath, ['-e', script], { cwd: os.tmpdir(), env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' });
}

test('the asset holds the bundle, one x86-64 pkcs11js binary and koffi\'s linux-x64 run time, and nothing else', () => {
  const files = listing(outdir);
  const names = Object.keys(files).sort();
  const binary = names.find((n) => /^pkcs11-\w+\.node$/.test(n))!;
  expect(names).toEqual([
    'index.js',
    'node_modules/@koromix/koffi-linux-x64/index.js',
    'node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node',
    'node_modules/@koromix/koffi-linux-x64/package.json',
    'node_modules/koffi/LICENSE.txt',
    'node_modules/koffi/index.cjs',
    'node_modules/koffi/package.json',
    'node_modules/koffi/src/koffi/index.cjs',
    'node_modules/koffi/src/koffi/src/static.cjs',
    binary,
    'pkcs11js.LICENSE.txt',
  ].sort());
  // ELF, e_machine 0x3e (x86-64): the architecture of the handler function.
  const header = fs.readFileSync(path.join(outdir, binary)).subarray(0, 20);
  expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  expect(header.readUInt16LE(18)).toBe(0x3e);
  expect(fs.readFileSync(path.join(outdir, 'index.js'), 'utf8')).toContain(`require("./${binary}")`);
  // Sizes (bytes) as measured when this was written, with headroom: a jump means something
  // unexpected was bundled.
  expect(files[binary]).toBeLessThan(400_000);
  expect(files['node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node']).toBeLessThan(2_000_000);
  expect(Object.values(files).reduce((a, b) => a + b, 0)).toBeLessThan(3_000_000);
});

test('the bundle loads without touching a native module; koffi and pkcs11js load from the asset alone', () => {
  const out = runIsolated(`
    const fs = require('fs');
    const handler = require(${JSON.stringify(path.join(outdir, 'index.js'))}).handler;
    const mapped = () => fs.readFileSync('/proc/self/maps', 'utf8');
    const before = { handler: typeof handler, pkcs11: mapped().includes('pkcs11-'), koffi: mapped().includes('koffi.node') };
    const koffi = require(${JSON.stringify(path.join(outdir, 'node_modules', 'koffi'))});
    const binary = fs.readdirSync(${JSON.stringify(outdir)}).find((f) => f.endsWith('.node'));
    const pkcs11 = require(${JSON.stringify(outdir)} + '/' + binary);
    console.log(JSON.stringify({ before, koffi: koffi.version, pkcs11: typeof pkcs11.PKCS11 }));`);
  expect(JSON.parse(out)).toEqual({ before: { handler: 'function', pkcs11: false, koffi: false }, koffi: '3.3.4', pkcs11: 'function' });
});

test('without its native files the bundle still loads (the Secrets Manager source needs none)', () => {
  const stripped = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-stripped-'));
  try {
    fs.copyFileSync(path.join(outdir, 'index.js'), path.join(stripped, 'index.js'));
    expect(runIsolated(`console.log(typeof require(${JSON.stringify(path.join(stripped, 'index.js'))}).handler)`).trim()).toBe('function');
  } finally {
    fs.rmSync(stripped, { recursive: true, force: true });
  }
});
