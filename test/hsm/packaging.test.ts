import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';

/**
 * The handler assets as scripts/bundle-handler.js builds them: the default one (Secrets Manager
 * and offline-wrapped material) is the bundle alone, without native code; the PKCS#11 one has the
 * pkcs11js binary copied beside the bundle and koffi's run-time files in node_modules, all for
 * linux-x64, and loads nothing native until a PKCS#11 import needs it.
 */

const root = path.join(__dirname, '..', '..');
let assetsDir: string;
let defaultDir: string;
let outdir: string;
let buildLog: string;

beforeAll(() => {
  assetsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-asset-'));
  buildLog = execFileSync(process.execPath, [path.join(root, 'scripts', 'bundle-handler.js'), assetsDir], { encoding: 'utf8', stdio: 'pipe' });
  defaultDir = path.join(assetsDir, 'import-handler');
  outdir = path.join(assetsDir, 'import-handler-pkcs11');
}, 120_000);
afterAll(() => fs.rmSync(assetsDir, { recursive: true, force: true }));

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

/**
 * The directory as a zip archive, as the CDK uploads an asset directory: one deflated entry per
 * file (level 9), local headers, central directory.
 */
function zipDirectory(dir: string): Buffer {
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const name of Object.keys(listing(dir)).sort()) {
    const data = fs.readFileSync(path.join(dir, name));
    const deflated = zlib.deflateRawSync(data, { level: 9 });
    const fileName = Buffer.from(name.split(path.sep).join('/'));
    const fields = (header: Buffer, at: number) => {
      header.writeUInt16LE(20, at); // version needed
      header.writeUInt16LE(0, at + 2); // flags
      header.writeUInt16LE(8, at + 4); // deflate
      header.writeUInt32LE(0, at + 6); // time, date
      header.writeUInt32LE(zlib.crc32(data), at + 10);
      header.writeUInt32LE(deflated.length, at + 14);
      header.writeUInt32LE(data.length, at + 18);
      header.writeUInt16LE(fileName.length, at + 22);
    };
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    fields(header, 4);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4); // version made by
    fields(entry, 6);
    entry.writeUInt32LE(offset, 42);
    local.push(header, fileName, deflated);
    central.push(entry, fileName);
    offset += header.length + fileName.length + deflated.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(central.length / 2, 8);
  end.writeUInt16LE(central.length / 2, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, directory, end]);
}

/** The files of a zip archive written by zipDirectory, read back through its central directory. */
function unzip(zip: Buffer): Record<string, Buffer> {
  const end = zip.length - 22;
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < count; i++) {
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString();
    const localAt = zip.readUInt32LE(at + 42);
    const dataAt = localAt + 30 + zip.readUInt16LE(localAt + 26);
    const data = zlib.inflateRawSync(zip.subarray(dataAt, dataAt + zip.readUInt32LE(at + 20)));
    expect(zlib.crc32(data)).toBe(zip.readUInt32LE(at + 16));
    files[name] = data;
    at += 46 + nameLength;
  }
  return files;
}

test('the default asset is the bundle alone: no native file, at most 150 KB zipped, and it loads', () => {
  const files = listing(defaultDir);
  expect(Object.keys(files)).toEqual(['index.js']);
  const zip = zipDirectory(defaultDir);
  expect(Object.keys(unzip(zip))).toEqual(['index.js']);
  expect(unzip(zip)['index.js'].equals(fs.readFileSync(path.join(defaultDir, 'index.js')))).toBe(true);
  expect(zip.length).toBeLessThanOrEqual(150 * 1024);
  // The bindings are not bundled either: only a require of the absent package remains.
  const bundle = fs.readFileSync(path.join(defaultDir, 'index.js'), 'utf8');
  expect(bundle).not.toMatch(/\.node"\)/);
  expect(bundle).toContain('require("pkcs11js")');
  expect(runIsolated(`console.log(typeof require(${JSON.stringify(path.join(defaultDir, 'index.js'))}).handler)`).trim()).toBe('function');
});

test('both bundles target the Node.js version of the function\'s runtime', () => {
  const { HANDLER_RUNTIME, handlerBundleTarget } = require('../../lib/private/handler-runtime');
  expect(HANDLER_RUNTIME.name).toBe('nodejs24.x');
  expect(handlerBundleTarget()).toBe('node24');
  expect(buildLog.match(/^bundled import handler: .*$/gm)!.map((line) => / \(target (\w+);/.exec(line)![1])).toEqual(['node24', 'node24']);
});

test('the PKCS#11 asset holds the bundle, one x86-64 pkcs11js binary and koffi\'s linux-x64 run time, and nothing else', () => {
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

test('the PKCS#11 bundle loads without touching a native module; koffi and pkcs11js load from the asset alone', () => {
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

test('without its native files the PKCS#11 bundle still loads (the Secrets Manager source needs none)', () => {
  const stripped = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-stripped-'));
  try {
    fs.copyFileSync(path.join(outdir, 'index.js'), path.join(stripped, 'index.js'));
    expect(runIsolated(`console.log(typeof require(${JSON.stringify(path.join(stripped, 'index.js'))}).handler)`).trim()).toBe('function');
  } finally {
    fs.rmSync(stripped, { recursive: true, force: true });
  }
});
