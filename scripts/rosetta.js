#!/usr/bin/env node
// `npm run rosetta`: compiles every TypeScript snippet (```ts blocks) of README.md and docs/*.md
// with jsii-rosetta in strict mode, as Construct Hub does before it translates a README into
// Python, Java, C# and Go, and prints each snippet's Python translation.
//
//   node scripts/rosetta.js               a line per snippet, the errors, exit 1 on any error
//   node scripts/rosetta.js --json        the same as JSON, with the Python translations (the test)
//   node scripts/rosetta.js --python README.md:45   the Python translation of one snippet
//
// Fixtures (https://aws.github.io/jsii/user-guides/lib-author/configuration/rosetta/): a snippet
// is inserted at `/// here` of rosetta/default.ts-fixture (the inside of a stack's constructor),
// or of rosetta/NAME.ts-fixture with ```ts fixture=NAME, or stands alone with ```ts nofixture.
// Its own imports are hoisted above the fixture, so a snippet shows what a user imports.
// A block whose first line is `// lib/x.ts` is a file of the reader's project: it is also written
// at that path, so that another block (`// test/x.test.ts`) can import it.
//
// Two places to compile, both temporary directories with node_modules links (rosetta's own
// dependency step would `npm install` them): README.md sees only this package and its peer
// dependencies, as Construct Hub does; docs/ is a reader's project with this repository's
// node_modules (the testing kit's examples need jest's and the AWS SDK's types).
// Needs `npm run build` first: snippets import `cdk-kms-byok` from its compiled typings.
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const pkg = require('../package.json');
// jsii-rosetta is pinned exactly in package.json: these internal modules are its own markdown
// extraction and fixture handling, the same code `jsii-rosetta extract` runs.
const rosettaLib = (m) => require(path.join(root, 'node_modules', 'jsii-rosetta', 'lib', m));
const ts = require('typescript');
const { BatchSnippetTranslator, PythonVisitor } = rosettaLib('index.js');
const { extractTypescriptSnippetsFromMarkdown } = rosettaLib('markdown/extract-snippets.js');
const { fixturize } = rosettaLib('fixtures.js');
const { updateParameters, SnippetParameters } = rosettaLib('snippet.js');

function markdownFiles() {
  const docs = fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

/** A temporary project whose node_modules links `names` from this repository, and this package. */
function project(names) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-rosetta-'));
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(modules);
  for (const name of names) fs.symlinkSync(path.join(root, 'node_modules', name), path.join(modules, name), 'dir');
  fs.symlinkSync(root, path.join(modules, pkg.name), 'dir');
  return dir;
}

/** The file a block stands for (`// lib/consumer-stack.ts` on its first line), if any. */
const projectFile = (snippet) => /^\/\/ ((?:[\w.-]+\/)*[\w.-]+\.ts)\n/.exec(snippet.visibleSource + '\n')?.[1];

/** Examples of the npm-only testing kit (`cdk-kms-byok/testing`, not in the jsii assembly): never
 * translated, so they must compile but may use what rosetta cannot translate (arrow functions). */
const TYPESCRIPT_ONLY = new Set(['docs/testing-kit.md']);

const format = (diagnostics) => ts.formatDiagnostics(diagnostics, {
  getCurrentDirectory: () => '.', getCanonicalFileName: (f) => f, getNewLine: () => '\n',
}).trim();

function compile(files) {
  const readmeDir = project(Object.keys(pkg.peerDependencies));
  const docsDir = project(fs.readdirSync(path.join(root, 'node_modules')).filter((n) => !n.startsWith('.') && n !== pkg.name));
  const origDir = process.cwd();
  try {
    const byDir = new Map([[readmeDir, []], [docsDir, []]]);
    for (const file of files) {
      const markdown = fs.readFileSync(path.join(root, file), 'utf8');
      const dir = file === 'README.md' ? readmeDir : docsDir;
      for (let snippet of extractTypescriptSnippetsFromMarkdown(markdown, { api: 'file', fileName: file }, true)) {
        snippet = fixturize(updateParameters(snippet, { [SnippetParameters.$PROJECT_DIRECTORY]: root }));
        const target = projectFile(snippet);
        if (target) {
          for (const d of [readmeDir, docsDir]) {
            fs.mkdirSync(path.join(d, path.dirname(target)), { recursive: true });
            fs.writeFileSync(path.join(d, target), snippet.visibleSource + '\n');
          }
          snippet = updateParameters(snippet, { [SnippetParameters.$COMPILATION_DIRECTORY]: path.join(dir, path.dirname(target)) });
        }
        byDir.get(dir).push({ where: `${file}:${snippet.location.field.line}`, translate: !TYPESCRIPT_ONLY.has(file), snippet });
      }
    }
    const results = [];
    for (const [dir, entries] of byDir) {
      if (entries.length === 0) continue;
      // rosetta resolves modules from the working directory, as `jsii-rosetta extract` does.
      process.chdir(dir);
      const batch = [...new BatchSnippetTranslator(entries.map((e) => e.snippet), { includeCompilerDiagnostics: true })];
      entries.forEach((entry, i) => {
        const translator = batch[i][1];
        const python = entry.translate ? translator.renderUsing(new PythonVisitor()) : '';
        // Compiler errors always count; what rosetta cannot translate counts where it translates.
        const translateErrors = entry.translate ? translator.translateDiagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error) : [];
        const errors = [...translator.compileDiagnostics, ...translateErrors];
        results.push({ where: entry.where, translated: entry.translate, python, errors: errors.length ? [format(errors)] : [] });
      });
    }
    return results;
  } finally {
    process.chdir(origDir);
    fs.rmSync(readmeDir, { recursive: true, force: true });
    fs.rmSync(docsDir, { recursive: true, force: true });
  }
}

function main(argv) {
  const results = compile(markdownFiles());
  if (argv[0] === '--json') {
    process.stdout.write(JSON.stringify(results, undefined, 2) + '\n');
    return;
  }
  if (argv[0] === '--python') {
    const result = results.find((r) => r.where === argv[1]);
    if (!result) throw new Error(`no snippet at ${argv[1]}; snippets: ${results.map((r) => r.where).join(', ')}`);
    process.stdout.write(result.python + '\n');
    return;
  }
  for (const r of results) {
    console.log(`${r.errors.length === 0 ? 'ok  ' : 'FAIL'} ${r.where}`);
    for (const e of r.errors) console.log(`     ${e.replace(/\n/g, '\n     ')}`);
  }
  const failed = results.filter((r) => r.errors.length > 0).length;
  console.log(`${results.length} snippets, ${failed} failed to compile (strict)`);
  process.exitCode = failed > 0 ? 1 : 0;
}

main(process.argv.slice(2));
