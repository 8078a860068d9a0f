/**
 * The docs check: every symbol `lib/index.ts` exports, and every public or protected member of
 * it, has a doc comment (API.md is generated from them by jsii-docgen, from the jsii assembly that
 * `npm run build` writes, as Construct Hub does; `npm run docs`), and every optional property of an
 * exported `*Props` / `*Options` interface says what happens when it is left out (`@default`),
 * as the aws-cdk design guidelines ask. Members marked `@internal` or named `_like_this` are not
 * public API and are skipped; a class member that implements a documented interface member
 * (`keyArn` of `kms.IKey`) inherits that documentation, as in the generated reference.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..');

interface ApiMember {
  /** `ExternalKey`, `ExternalKey.grantDecrypt`, `ExternalKeyProps.alias`. */
  readonly name: string;
  /** `lib/external-key.ts:42`. */
  readonly where: string;
  readonly documented: boolean;
  /** Set for properties of exported `*Props` / `*Options` interfaces. */
  readonly optionalProp?: { readonly hasDefault: boolean };
}

function loadProgram(index: string): ts.Program {
  const configFile = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, ROOT);
  return ts.createProgram([index], { ...options, noEmit: true });
}

function isInternal(symbol: ts.Symbol, checker: ts.TypeChecker): boolean {
  return symbol.getName().startsWith('_') || symbol.getJsDocTags(checker).some((t) => t.name === 'internal');
}

const hasDoc = (symbol: ts.Symbol, checker: ts.TypeChecker) =>
  ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim().length > 0;

/**
 * Walks the public surface of an index module: exported declarations and their non-private
 * members declared in its directory (members inherited from aws-cdk-lib are documented there).
 */
function publicApi(index: string): ApiMember[] {
  const libDir = path.dirname(index) + path.sep;
  const inLib = (decl: ts.Declaration) => path.resolve(decl.getSourceFile().fileName).startsWith(libDir);
  const location = (decl: ts.Declaration) => {
    const sf = decl.getSourceFile();
    const { line } = sf.getLineAndCharacterOfPosition(decl.getStart());
    return `${path.relative(path.dirname(libDir), sf.fileName)}:${line + 1}`;
  };
  const program = loadProgram(index);
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(index)!)!;
  const api: ApiMember[] = [];

  const visitMember = (owner: string, member: ts.Symbol, propsInterface: boolean) => {
    const decl = member.valueDeclaration ?? member.declarations?.[0];
    if (!decl || !inLib(decl) || isInternal(member, checker)) return;
    if (ts.isConstructorDeclaration(decl)) return;
    const modifiers = ts.getCombinedModifierFlags(decl);
    if (modifiers & ts.ModifierFlags.Private || ts.isPrivateIdentifier((decl as ts.NamedDeclaration).name ?? decl)) return;
    api.push({
      name: `${owner}.${member.getName()}`,
      where: location(decl),
      documented: hasDoc(member, checker),
      optionalProp: propsInterface && member.flags & ts.SymbolFlags.Optional
        ? { hasDefault: member.getJsDocTags(checker).some((t) => t.name === 'default') }
        : undefined,
    });
  };

  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decl = symbol.declarations?.[0];
    if (!decl || isInternal(symbol, checker)) continue;
    const name = exported.getName();
    api.push({ name, where: location(decl), documented: hasDoc(symbol, checker) });

    if (ts.isClassDeclaration(decl)) {
      // Instance side (own and inherited from lib/ base classes), then static members.
      for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) visitMember(name, member, false);
      for (const member of checker.getPropertiesOfType(checker.getTypeOfSymbolAtLocation(symbol, decl))) {
        if (member.getName() !== 'prototype') visitMember(name, member, false);
      }
    } else if (ts.isInterfaceDeclaration(decl)) {
      const propsInterface = /(Props|Options)$/.test(name);
      for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) visitMember(name, member, propsInterface);
    } else if (ts.isEnumDeclaration(decl)) {
      for (const member of decl.members) visitMember(name, checker.getSymbolAtLocation(member.name)!, false);
    }
  }
  return api;
}

const undocumented = (api: ApiMember[]) => api.filter((m) => !m.documented).map((m) => `${m.name}  (${m.where}) has no doc comment`);
const withoutDefault = (api: ApiMember[]) => api
  .filter((m) => m.optionalProp && !m.optionalProp.hasDefault)
  .map((m) => `${m.name}  (${m.where}) is optional but has no @default`);

describe('the API documentation check', () => {
  const api = publicApi(path.join(ROOT, 'lib', 'index.ts'));

  test('sees the public surface of lib/index.ts', () => {
    const names = api.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining([
      'ExternalKey', 'ExternalKey.keyArn', 'ExternalKey.grantEncryptDecrypt',
      'ExternalKeyProps', 'ExternalKeyProps.material', 'ExternalKeyProps.alias',
      'KeyMaterial', 'KeyMaterial.fromSecret', 'KeyMaterialEncoding.BASE64',
    ]));
    // @internal and _underscore members are not public API.
    expect(names.filter((n) => /(^|\.)_/.test(n))).toEqual([]);
  });

  test('every exported symbol and every public member has a doc comment', () => {
    expect(undocumented(api)).toEqual([]);
  });

  test('every optional property of an exported *Props or *Options interface has a @default tag', () => {
    expect(withoutDefault(api)).toEqual([]);
  });

  test('the check itself flags a missing doc comment and a missing @default', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-docs-check-'));
    try {
      fs.mkdirSync(path.join(dir, 'lib'));
      fs.writeFileSync(path.join(dir, 'lib', 'index.ts'), [
        '/** Documented. */',
        'export interface WidgetProps {',
        '  /** Documented, with a default. @default 1 */',
        '  readonly size?: number;',
        '  /** Documented, no default. */',
        '  readonly colour?: string;',
        '  readonly shape: string;',
        '}',
        'export class Widget {',
        '  /** Documented. */',
        '  public readonly size = 1;',
        '  public readonly colour = "red";',
        '  private readonly secret = 1;',
        '  /** @internal */',
        '  public _bind(): number { return this.secret; }',
        '}',
        '/** Documented. */',
        'export enum Kind {',
        '  /** Documented. */',
        '  A = "A",',
        '  B = "B",',
        '}',
        '',
      ].join('\n'));
      const fixture = publicApi(path.join(dir, 'lib', 'index.ts'));
      expect(undocumented(fixture).map((p) => p.split(' ')[0])).toEqual(['WidgetProps.shape', 'Widget', 'Widget.colour', 'Kind.B']);
      expect(withoutDefault(fixture).map((p) => p.split(' ')[0])).toEqual(['WidgetProps.colour']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('API.md', () => {
  test('is what jsii-docgen generates from the current assembly (run `npm run build && npm run docs` and commit it)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-api-md-'));
    try {
      execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'jsii-docgen', 'bin', 'jsii-docgen'), '--output', path.join(dir, 'API.md')], {
        cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      });
      const generated = fs.readFileSync(path.join(dir, 'API.md'), 'utf8');
      expect(generated).toContain('### ExternalKey ');
      expect(fs.readFileSync(path.join(ROOT, 'API.md'), 'utf8') === generated).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
