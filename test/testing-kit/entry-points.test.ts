/**
 * `cdk-kms-byok` and `cdk-kms-byok/testing` are separate entry points: production code never loads
 * the emulator or the harness. Checked in fresh node processes (after `npm run build`), through the
 * package's own name as a consumer resolves it (package.json `exports`) and through lib/index.js.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const TESTING_DIR = path.join(ROOT, 'testing') + path.sep;

/** The files a fresh node process has loaded after requiring `specifier` from the repository root. */
function modulesLoadedBy(specifier: string): string[] {
  const script = `require(${JSON.stringify(specifier)}); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  const result = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`node could not require ${specifier}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

const underTesting = (files: string[]) => files.filter((f) => f.startsWith(TESTING_DIR)).map((f) => path.relative(ROOT, f));

describe('the production entry point', () => {
  test.each(['./lib/index.js', 'cdk-kms-byok'])('requiring %s loads no module under testing/', (specifier) => {
    const loaded = modulesLoadedBy(specifier);
    expect(loaded).toContain(path.join(ROOT, 'lib', 'index.js'));
    expect(underTesting(loaded)).toEqual([]);
  });

  test('no source file of lib/ or lambda/ imports from testing/', () => {
    const offenders: string[] = [];
    for (const dir of ['lib', 'lambda']) {
      for (const file of fs.readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
        if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
        const source = fs.readFileSync(path.join(ROOT, dir, file), 'utf8');
        if (/(from\s+|require\(\s*|import\(\s*)['"][^'"]*\/testing(\/[^'"]*)?['"]/.test(source)) offenders.push(path.join(dir, file));
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe('the testing entry point', () => {
  test('cdk-kms-byok/testing resolves to testing/index.js and exports the emulator, the Secrets Manager, the harness and synthAndDeploy', () => {
    const script = [
      `const kit = require('cdk-kms-byok/testing');`,
      `process.stdout.write(JSON.stringify({ file: require.resolve('cdk-kms-byok/testing'), exports: Object.keys(kit).filter((k) => typeof kit[k] === 'function').sort() }));`,
    ].join('\n');
    const result = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const { file, exports } = JSON.parse(result.stdout);
    expect(file).toBe(path.join(ROOT, 'testing', 'index.js'));
    expect(exports).toEqual(expect.arrayContaining([
      'DeploymentFailed', 'EmulatorClock', 'KmsEmulator', 'LocalCloud', 'LocalStack', 'SecretsManagerServer', 'keyMaterialFingerprint', 'synthAndDeploy',
    ]));
  });

  test('loading it does load the emulator and the harness (the check above can see them)', () => {
    const loaded = underTesting(modulesLoadedBy('cdk-kms-byok/testing'));
    expect(loaded).toEqual(expect.arrayContaining([path.join('testing', 'emulator', 'server.js'), path.join('testing', 'harness', 'local-cloud.js')]));
  });
});
