/**
 * The published package, as a consumer gets it: `npm pack` of the built tree (`npm test` builds
 * first), its file list, and a fresh CDK app outside this repository that installs the tarball
 * with the aws-cdk-lib and constructs versions we test against and synthesizes an ExternalKey.
 */
import { execFileSync, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readmeExample } from '../testing-kit/readme-example';

const ROOT = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

/** What may ship: the compiled library and testing kit, the jsii assembly, the pre-bundled handler, the docs npm always adds. */
const ALLOWED = [
  /^package\.json$/,
  /^\.jsii$/,
  // jsii-rosetta's fixtures: Construct Hub compiles the README's examples with them.
  /^rosetta\/[\w-]+\.ts-fixture$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^CHANGELOG\.md$/,
  /^lib\/.+\.(js|d\.ts)$/,
  /^testing\/.+\.(js|d\.ts)$/,
  // The pre-bundled handlers: the default index.js, and the PKCS#11 one with its native runtime.
  /^assets\/import-handler(-pkcs11)?\/.+$/,
];
/** What must never ship, named so that a failure says which rule broke. */
const FORBIDDEN: Array<[string, RegExp]> = [
  ['tests', /^test\//],
  ['handler sources (lambda/)', /^lambda\//],
  ['the example app (bin/)', /^bin\//],
  ['docs/', /^docs\//],
  ['CI scripts', /^\.ci\//],
  ['TypeScript sources', /(?<!\.d)\.ts$/],
  ['dotenv files', /(^|\/)\.env(\..*)?$/],
  ['PEM files', /\.pem$/],
  ['private keys', /\.(key|p8|p12|pfx)$/],
  ['SoftHSM tokens', /(^|\/)\.softhsm\//],
  ['source maps', /\.map$/],
  ['esbuild metafiles', /\.meta\.json$/],
];

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  try {
    return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`, { cause: e });
  }
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Every file under `dir`, relative to it, with its SHA-256. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  (function walk(d: string) {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const file = path.join(d, entry.name);
      if (entry.isDirectory()) walk(file);
      else out[path.relative(dir, file).split(path.sep).join('/')] = sha256(file);
    }
  })(dir);
  return out;
}

const HANDLER_ASSET = path.join(ROOT, 'assets', 'import-handler');

describe('the npm package', () => {
  let work: string;
  let tarball: string;
  let files: string[];

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-tarball-'));
    // `npm test` has just built lib/, testing/ and the handler bundle; --ignore-scripts keeps
    // prepack from building a second time.
    const out = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], ROOT);
    const [info] = JSON.parse(out.slice(out.indexOf('[')));
    tarball = path.join(work, info.filename);
    files = info.files.map((f: { path: string }) => f.path).sort();
  });

  /**
   * A fresh app directory with the tarball installed, made once for the tests that need it: the
   * tarball with the aws-cdk-lib and constructs versions we test against, and what
   * `cdk init app --language typescript` gives plus the README kit recipe's dev dependencies.
   * One `npm install` for all of them (a second one would load and write the whole tree again).
   */
  let consumer: string | undefined;
  function consumerApp(): string {
    if (consumer) return consumer;
    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({
      name: 'byok-consumer', version: '1.0.0', private: true,
      dependencies: {
        'cdk-kms-byok': `file:${tarball}`,
        'aws-cdk-lib': pkg.devDependencies['aws-cdk-lib'],
        'constructs': pkg.devDependencies.constructs,
      },
      devDependencies: Object.fromEntries(['jest', 'ts-jest', '@types/jest', 'typescript', '@types/node'].map((name) => [name, pkg.devDependencies[name]])),
    }));
    // --prefer-offline: the versions we test against are in the npm cache after `npm ci`.
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], app);
    consumer = app;
    return app;
  }

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test('the tarball holds the compiled library, its typings, the testing kit and the pre-bundled handler', () => {
    expect(fs.existsSync(tarball)).toBe(true);
    expect(files).toEqual(expect.arrayContaining([
      'package.json', 'README.md', 'LICENSE', 'CHANGELOG.md',
      'lib/index.js', 'lib/index.d.ts', 'lib/external-key.js', 'lib/external-key.d.ts',
      'assets/import-handler/index.js',
    ]));
    expect(files.some((f) => /^testing\/.+\.js$/.test(f))).toBe(true);
    // Every compiled module ships with its typings.
    const missingTypings = files.filter((f) => /^(lib|testing)\/.+\.js$/.test(f) && !files.includes(f.replace(/\.js$/, '.d.ts')));
    expect(missingTypings).toEqual([]);
  });

  test('the tarball holds nothing else: no tests, sources, docs, CI files or secrets', () => {
    const unexpected = files.filter((f) => !ALLOWED.some((re) => re.test(f)));
    expect(unexpected).toEqual([]);
    const forbidden = files.flatMap((f) => FORBIDDEN.filter(([, re]) => re.test(f)).map(([what]) => `${f} (${what})`));
    expect(forbidden).toEqual([]);
  });

  test('the jsii assembly ships: .jsii describes this package, its public types and its language targets', () => {
    expect(files).toContain('.jsii');
    const assembly = JSON.parse(fs.readFileSync(path.join(ROOT, '.jsii'), 'utf8'));
    expect(assembly).toMatchObject({ schema: 'jsii/0.10.0', name: pkg.name, version: pkg.version });
    expect(Object.keys(assembly.types)).toEqual(expect.arrayContaining([
      `${pkg.name}.ExternalKey`, `${pkg.name}.ExternalKeyProps`, `${pkg.name}.KeyMaterial`, `${pkg.name}.PartnerAccess`,
    ]));
    expect(Object.keys(assembly.targets).sort()).toEqual(['dotnet', 'go', 'java', 'js', 'python']);
    expect(files).toContain('rosetta/default.ts-fixture');
  });

  test('the shipped classes carry jsii\'s runtime type information (jsii compiled lib/ last, not tsc)', () => {
    // jsii injects a static JSII_RTTI_SYMBOL into each exported class; the jsii runtime of the
    // other languages needs it, and a later plain `tsc` emit of lib/ would silently drop it.
    const compiled = fs.readFileSync(path.join(ROOT, 'lib', 'external-key.js'), 'utf8');
    expect(compiled).toContain(`fqn: "${pkg.name}.ExternalKey"`);
  });

  test('the README\'s links work from the package page: absolute, and those into this repository name a file in it', () => {
    // npm, PyPI (the README goes into every generated package) and Construct Hub show the README
    // without the repository's other files, so a relative link would be broken there.
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(5);
    expect(links.filter((l) => !/^https:\/\//.test(l))).toEqual([]);
    const repo = `${pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '')}/`;
    expect(pkg.homepage.startsWith(repo.slice(0, -1))).toBe(true);
    const missing = links.filter((l) => l.startsWith(repo))
      .map((l) => l.slice(repo.length).replace(/^(blob|tree)\/main\//, '').replace(/#.*$/, ''))
      .filter((f) => !fs.existsSync(path.join(ROOT, f)));
    expect(missing).toEqual([]);
  });

  test.each(['import-handler', 'import-handler-pkcs11'])('the handler asset ships complete: every file the build put in assets/%s', (asset) => {
    const built = Object.keys(tree(path.join(path.dirname(HANDLER_ASSET), asset))).map((f) => `assets/${asset}/${f}`);
    expect(built).toContain(`assets/${asset}/index.js`);
    expect(built.filter((f) => !files.includes(f))).toEqual([]);
  });

  test('every compiled file in the tarball comes from a source file that still exists (no stale build output)', () => {
    const stale = files
      .filter((f) => /^(lib|testing)\/.+\.(js|d\.ts)$/.test(f))
      .filter((f) => !fs.existsSync(path.join(ROOT, f.replace(/(\.d)?\.ts$|\.js$/, '.ts'))));
    expect(stale).toEqual([]);
  });

  test('main, types, exports and bin point at files in the tarball', () => {
    const targets = new Set<string>([pkg.main, pkg.types]);
    for (const entry of Object.values(pkg.exports ?? {}) as Array<string | Record<string, string>>) {
      for (const target of typeof entry === 'string' ? [entry] : Object.values(entry)) targets.add(target);
    }
    for (const target of Object.values(pkg.bin ?? {}) as string[]) targets.add(target);
    const missing = [...targets].map((t) => t.replace(/^\.\//, '')).filter((t) => !files.includes(t));
    expect(missing).toEqual([]);
  });

  test('installing the package runs no scripts, and aws-cdk-lib and constructs are peer dependencies', () => {
    const scripts = Object.keys(pkg.scripts ?? {});
    expect(scripts.filter((s) => ['preinstall', 'install', 'postinstall', 'prepare'].includes(s))).toEqual([]);
    expect(Object.keys(pkg.peerDependencies ?? {}).sort()).toEqual(['aws-cdk-lib', 'constructs']);
    // The testing kit's runtime needs (its LocalCloud's SDK clients and its local certificate
    // maker); the library itself needs none.
    // Optional dependencies, which npm installs by default: jsii accepts only jsii modules (or
    // bundled ones) as dependencies.
    expect(pkg.dependencies).toBeUndefined();
    expect(Object.keys(pkg.optionalDependencies ?? {}).sort()).toEqual(['@aws-sdk/client-kms', '@aws-sdk/client-secrets-manager', 'selfsigned']);
  });

  test('a fresh CDK app installs the tarball and synthesizes an ExternalKey with the bundled handler', () => {
    const app = consumerApp();
    // One aws-cdk-lib in the app: the library resolves the consumer's copy (peer dependency).
    expect(fs.existsSync(path.join(app, 'node_modules', 'cdk-kms-byok', 'node_modules'))).toBe(false);

    fs.writeFileSync(path.join(app, 'app.js'), `
const { App, Stack, CfnOutput } = require('aws-cdk-lib');
const iam = require('aws-cdk-lib/aws-iam');
const s3 = require('aws-cdk-lib/aws-s3');
const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');
const { ExternalKey, KeyMaterial, PartnerAccess } = require('cdk-kms-byok');

const app = new App();
const stack = new Stack(app, 'ConsumerStack', { env: { account: '111122223333', region: 'us-east-1' } });
const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Material', 'byok/key-material');
const key = new ExternalKey(stack, 'PartnerKey', {
  material: KeyMaterial.fromSecret(secret),
  alias: 'alias/bluescape-workspace',
  partners: [PartnerAccess.account('123456789012')],
});
new s3.Bucket(stack, 'Bucket', { encryptionKey: key });
key.grantEncryptDecrypt(new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() }));
new CfnOutput(stack, 'KeyArn', { value: key.keyArn });
app.synth();
`);
    const outdir = path.join(work, 'cdk.out');
    run(process.execPath, ['app.js'], app, { ...process.env, CDK_OUTDIR: outdir });

    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'ConsumerStack.template.json'), 'utf8'));
    const resources = Object.values(template.Resources) as Array<{ Type: string; Properties: Record<string, any> }>;
    const keys = resources.filter((r) => r.Type === 'AWS::KMS::Key');
    expect(keys).toHaveLength(1);
    expect(keys[0].Properties).toMatchObject({ Origin: 'EXTERNAL', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' });
    expect(resources.filter((r) => r.Type === 'Custom::KmsKeyMaterialImport')).toHaveLength(1);
    expect(resources.filter((r) => r.Type === 'AWS::Lambda::Function')).toHaveLength(1);
    expect(template.Outputs.KeyArn).toBeDefined();

    // The handler asset in the assembly is the very bundle this repository built, every file of it.
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'ConsumerStack.assets.json'), 'utf8'));
    const handlerDirs = Object.values(manifest.files as Record<string, { source: { path: string; packaging?: string } }>)
      .filter((a) => a.source.packaging === 'zip')
      .map((a) => path.join(outdir, a.source.path))
      .filter((dir) => fs.existsSync(path.join(dir, 'index.js')));
    expect(handlerDirs).toHaveLength(1);
    expect(tree(handlerDirs[0])).toEqual(tree(HANDLER_ASSET));
  }, 180_000);

  test('the README\'s kit recipe passes verbatim in the fresh app, with its jest config and no python3 on PATH', () => {
    const app = consumerApp();
    const { blocks } = readmeExample();
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'commonjs', lib: ['es2022'], strict: true, esModuleInterop: true, skipLibCheck: true, types: ['jest', 'node'] },
      exclude: ['node_modules', 'cdk.out'],
    }));
    for (const [file, text] of Object.entries(blocks)) {
      fs.mkdirSync(path.join(app, path.dirname(file)), { recursive: true });
      fs.writeFileSync(path.join(app, file), text);
    }
    const bin = fs.mkdtempSync(path.join(work, 'node-only-'));
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const jest = spawnSync(process.execPath, [path.join(app, 'node_modules', 'jest', 'bin', 'jest.js'), '--ci'], { cwd: app, env: { ...process.env, PATH: bin }, encoding: 'utf8', timeout: 180_000 });
    const testCount = (blocks['test/consumer-stack.test.ts'].match(/^test\(/gm) ?? []).length;
    expect({ status: jest.status, summary: /Tests: .*/.exec(jest.stderr)?.[0] }).toEqual({ status: 0, summary: `Tests:       ${testCount} passed, ${testCount} total` });
  }, 240_000);

  test('a TypeScript consumer type-checks against the published typings through package.json exports', () => {
    const app = consumerApp();
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, noEmit: true, skipLibCheck: true, types: [] },
      files: ['stack.ts'],
    }));
    fs.writeFileSync(path.join(app, 'stack.ts'), `
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ExternalKey, ExternalKeyProps, KeyMaterial, KeyMaterialEncoding, KeyMaterialExpiration, PartnerAccess } from 'cdk-kms-byok';

const stack = new Stack(new App(), 'Typed');
const props: ExternalKeyProps = {
  material: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretNameV2(stack, 'M', 'byok/m'), { encoding: KeyMaterialEncoding.HEX }),
  partners: [PartnerAccess.account('123456789012')],
  expiration: KeyMaterialExpiration.after(Duration.days(90)),
};
const key: kms.IKey = new ExternalKey(stack, 'Key', props);
export const arn: string = key.keyArn;
`);
    // Our own compiler (the consumer needs none installed); the CLI resolves typings like tsc would.
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
  }, 120_000);
});
