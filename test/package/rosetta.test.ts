/**
 * The examples compile in every language: every ```ts block of README.md and docs/*.md compiles
 * under jsii-rosetta in strict mode (scripts/rosetta.js, fixtures in rosetta/), as Construct Hub
 * needs before it translates the README, and the README's Python quick start is rosetta's own
 * translation of the TypeScript one. Runs after `npm run build` (snippets import the typings).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');

interface SnippetResult {
  /** `README.md:45`: the file and the line of the block's opening fence. */
  readonly where: string;
  readonly translated: boolean;
  readonly python: string;
  readonly errors: string[];
}

const markdownFiles = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** `file:line` of every fenced TypeScript block, the way rosetta recognises them. */
function typescriptFences(): string[] {
  return markdownFiles.flatMap((file) => fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n')
    .flatMap((line, i) => (/^\s*```(ts|typescript)(\s|$)/.test(line) ? [`${file}:${i + 1}`] : [])));
}

describe('jsii-rosetta over README.md and docs/', () => {
  let results: SnippetResult[];

  beforeAll(() => {
    const out = execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'rosetta.js'), '--json'], {
      cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024,
    });
    results = JSON.parse(out);
  }, 300_000);

  test('sees every ```ts block of README.md and docs/*.md', () => {
    expect(results.map((r) => r.where).sort()).toEqual(typescriptFences().sort());
    expect(results.filter((r) => r.where.startsWith('README.md:')).length).toBeGreaterThanOrEqual(2);
  });

  test('every snippet compiles in strict mode (the testing kit\'s, which are never translated, compile too)', () => {
    const failed = results.filter((r) => r.errors.length > 0).map((r) => `${r.where}\n${r.errors.join('\n')}`);
    expect(failed).toEqual([]);
    expect(results.filter((r) => r.translated).map((r) => r.where.split(':')[0])).not.toContain('docs/testing-kit.md');
  });

  test('the README\'s Python quick start is rosetta\'s translation of the TypeScript block before it', () => {
    const lines = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n');
    const pythonFence = lines.indexOf('```python');
    expect(pythonFence).toBeGreaterThan(0);
    const python = lines.slice(pythonFence + 1, lines.indexOf('```', pythonFence + 1)).join('\n');
    const tsFence = lines.slice(0, pythonFence).map((l) => l.startsWith('```ts')).lastIndexOf(true);
    const source = results.find((r) => r.where === `README.md:${tsFence + 1}`);
    expect(source?.python.trim()).toBe(python.trim());
    expect(python).toContain('from cdk_kms_byok import ExternalKey');
  });
});
