/**
 * The other languages: `jsii-pacmak --code-only` turns the jsii assembly (`.jsii`, written by
 * `npm run build`) into Python, Java, .NET and Go sources, as `npm run package:code` does. Only
 * the sources: the Java, .NET and Go toolchains and their registries are not reachable here; the
 * generated Python at least compiles. One pacmak run for all four targets (about 20 s idle).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const assembly = JSON.parse(fs.readFileSync(path.join(ROOT, '.jsii'), 'utf8'));
const targets = pkg.jsii.targets;
/** The exported types (classes, interfaces, enums), by their name in every language. */
const typeNames: string[] = Object.values(assembly.types as Record<string, { name: string }>).map((t) => t.name).sort();

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => f.split(path.sep).join('/'));
}

describe('jsii-pacmak --code-only', () => {
  let out: string;

  beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-pacmak-'));
    // pacmak packs the npm package to embed it in each language's package; the build already ran,
    // so npm's prepack (another build) is skipped.
    execFileSync(process.execPath, [
      path.join(ROOT, 'node_modules', 'jsii-pacmak', 'bin', 'jsii-pacmak'),
      '--code-only', '--no-npmignore', '--targets', 'python,java,dotnet,go', '--outdir', out,
    ], { cwd: ROOT, env: { ...process.env, npm_config_ignore_scripts: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
  }, 300_000);

  afterAll(() => {
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  test('the assembly has the public types to generate', () => {
    expect(typeNames).toEqual(expect.arrayContaining(['ExternalKey', 'ExternalKeyProps', 'KeyMaterial', 'PartnerAccess']));
  });

  test('Python: a distribution named as in package.json, a module with every type, and it compiles', () => {
    const setup = fs.readFileSync(path.join(out, 'python', 'setup.py'), 'utf8');
    expect(setup).toContain(`"name": "${targets.python.distName}"`);
    const init = fs.readFileSync(path.join(out, 'python', 'src', targets.python.module, '__init__.py'), 'utf8');
    expect(typeNames.filter((name) => !new RegExp(`^class ${name}\\b`, 'm').test(init))).toEqual([]);

    const pyFiles = filesUnder(path.join(out, 'python')).filter((f) => f.endsWith('.py')).map((f) => path.join(out, 'python', f));
    expect(pyFiles.length).toBeGreaterThan(1);
    // py_compile exits non-zero, naming the file and line, on a syntax error.
    execFileSync('python3', ['-m', 'py_compile', ...pyFiles], { stdio: ['ignore', 'pipe', 'pipe'] });
  });

  test('Java: a Maven project with the groupId and artifactId of package.json, one source file per type', () => {
    const pom = fs.readFileSync(path.join(out, 'java', 'pom.xml'), 'utf8');
    expect(pom).toContain(`<groupId>${targets.java.maven.groupId}</groupId>`);
    expect(pom).toContain(`<artifactId>${targets.java.maven.artifactId}</artifactId>`);
    const sources = filesUnder(path.join(out, 'java', 'src', 'main', 'java', ...targets.java.package.split('.')));
    expect(typeNames.filter((name) => !sources.includes(`${name}.java`))).toEqual([]);
  });

  test('.NET: a project with the package id and namespace of package.json, one source file per type', () => {
    const project = path.join(out, 'dotnet', targets.dotnet.packageId);
    expect(fs.readFileSync(path.join(project, `${targets.dotnet.packageId}.csproj`), 'utf8')).toContain(`<PackageId>${targets.dotnet.packageId}</PackageId>`);
    const sources = filesUnder(path.join(project, ...targets.dotnet.namespace.split('.')));
    expect(typeNames.filter((name) => !sources.includes(`${name}.cs`))).toEqual([]);
  });

  test('Go: a module under the moduleName of package.json, one source file per type', () => {
    const [goPackage] = fs.readdirSync(path.join(out, 'go'));
    const goMod = fs.readFileSync(path.join(out, 'go', goPackage, 'go.mod'), 'utf8');
    expect(goMod).toMatch(new RegExp(`^module ${targets.go.moduleName}/${goPackage}$`, 'm'));
    const sources = filesUnder(path.join(out, 'go', goPackage));
    expect(typeNames.filter((name) => !sources.includes(`${name}.go`))).toEqual([]);
  });
});
