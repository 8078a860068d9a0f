#!/usr/bin/env node
// A mutation check of the security-relevant lines: each mutant below is a deliberate breakage of
// one line (a length check, a partner condition, token binding, the wrap hash, the answer to
// CloudFormation, buffer zeroing, logging the material, echoing a secret's text). For each, the
// line is changed in place, the handler re-bundled if its tests run the bundle, the tests that
// should notice are run, and the file is restored (also on Ctrl-C or a crash: the original is
// kept in .mutants/ and put back by the next run). A mutant is "caught" when those tests fail.
// Every mutant on the list must be caught; the script exits 1 otherwise.
//
// Usage: npm run mutants [-- <name filter>] [-- --no-baseline] [-- --list]
// Not part of `npm test`: it runs the relevant tests once per mutant (several minutes).
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const BACKUP = path.join(ROOT, '.mutants');

/** `from` must occur exactly once in `file`; `bundle`: the tests run assets/import-handler. */
const MUTANTS = [
  {
    name: 'symmetric length check accepts any length',
    file: 'lambda/material.ts',
    from: 'if (material.length !== expected) {',
    to: 'if (material.length > expected) {',
    tests: ['test/lambda/material.test.ts'],
  },
  {
    name: 'partner grants lose the GrantIsForAWSResource condition',
    file: 'lib/partner-access.ts',
    from: "conditions: { ...viaService, Bool: { 'kms:GrantIsForAWSResource': 'true' } },",
    to: 'conditions: viaService,',
    tests: ['test/lib/external-key.test.ts', 'test/lib/partner-access.test.ts'],
  },
  {
    name: 'partner use loses the kms:ViaService condition',
    file: 'lib/partner-access.ts',
    from: '        conditions: viaService,\n      }),',
    to: '        conditions: undefined,\n      }),',
    tests: ['test/lib/external-key.test.ts', 'test/lib/partner-access.test.ts'],
  },
  {
    name: 'emulator import token not bound to its key',
    file: 'testing/emulator/operations/import.ts',
    from: 'if (!record || record.keyArn !== key.arn || record.used) throw invalidImportToken();',
    to: 'if (!record || record.used) throw invalidImportToken();',
    tests: ['test/emulator/import-symmetric.test.ts'],
  },
  {
    name: 'RSAES_OAEP_SHA_256 wraps with SHA-1',
    file: 'lambda/wrap.ts',
    from: "const oaepHash = wrappingAlgorithm.endsWith('SHA_256') ? 'sha256' : 'sha1';",
    to: "const oaepHash = wrappingAlgorithm.endsWith('SHA_256') ? 'sha1' : 'sha1';",
    tests: ['test/lambda/wrap.test.ts', 'test/interop/openssl-unwrap.test.ts'],
  },
  {
    name: 'a failure is not answered at the ResponseURL',
    file: 'lambda/index.ts',
    from: '  await sendResponse(event.ResponseURL, {',
    to: '  if (!failure) await sendResponse(event.ResponseURL, {',
    tests: ['test/lambda/handler.test.ts'],
  },
  {
    name: 'a failure is answered as SUCCESS',
    file: 'lambda/index.ts',
    from: "Status: failure ? 'FAILED' : 'SUCCESS',",
    to: "Status: 'SUCCESS',",
    tests: ['test/lambda/handler.test.ts'],
  },
  {
    name: 'the Secrets Manager material is not zeroed on close',
    file: 'lambda/sources/secrets-manager.ts',
    from: '    close() {\n      material.fill(0);\n    },',
    to: '    close() {\n    },',
    tests: ['test/lambda/secrets-manager.test.ts', 'test/lambda/importer.test.ts'],
  },
  {
    name: 'the SDK\'s SecretBinary is not zeroed',
    file: 'lambda/secret.ts',
    from: '    const binary = Buffer.from(response.SecretBinary);\n    response.SecretBinary.fill(0);\n',
    to: '    const binary = Buffer.from(response.SecretBinary);\n',
    tests: ['test/lambda/secret.test.ts', 'test/lambda/secrets-manager.test.ts', 'test/lambda/importer.test.ts'],
  },
  {
    name: 'the handler logs the material (util.inspect form)',
    file: 'lambda/sources/secrets-manager.ts',
    from: '    wrap(publicKeyDer, wrappingAlgorithm) {\n',
    to: "    wrap(publicKeyDer, wrappingAlgorithm) {\n      console.log('debug wrapping', material);\n",
    tests: ['test/e2e/secrecy.test.ts'],
    bundle: true,
  },
  {
    name: 'the handler logs the material (JSON form)',
    file: 'lambda/sources/secrets-manager.ts',
    from: '    wrap(publicKeyDer, wrappingAlgorithm) {\n',
    to: "    wrap(publicKeyDer, wrappingAlgorithm) {\n      console.log(JSON.stringify({ message: 'debug', material }));\n",
    tests: ['test/e2e/secrecy.test.ts'],
    bundle: true,
  },
  {
    name: 'a missing jsonField lists the field names (the secret\'s text)',
    file: 'lambda/secret.ts',
    from: '(it has ${count} field${count === 1 ? \'\' : \'s\'}, none named so;',
    to: '(fields: ${Object.keys(parsed as object).join(\', \')}; ${count}',
    tests: ['test/lambda/secrets-manager.test.ts'],
  },
  {
    name: 'an unknown PEM label is echoed',
    file: 'lambda/material.ts',
    from: "NAMEABLE_PEM_LABELS.includes(label) ? `'${label}'` : 'unrecognised'",
    to: "`'${label}'`",
    tests: ['test/lambda/material.test.ts'],
  },
];

function restoreBackups() {
  if (!fs.existsSync(BACKUP)) return;
  // A run stopped mid-mutant may also have left a mutated bundle: it is rebuilt below.
  for (const name of fs.readdirSync(BACKUP)) {
    const target = path.join(ROOT, decodeURIComponent(name));
    fs.copyFileSync(path.join(BACKUP, name), target);
    console.log(`restored ${path.relative(ROOT, target)} from an interrupted run`);
  }
  fs.rmSync(BACKUP, { recursive: true, force: true });
  bundle();
}

function jest(tests) {
  const started = Date.now();
  const report = path.join(BACKUP, '..', '.mutants-report.json');
  const run = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--runInBand', '--silent', '--json', `--outputFile=${report}`, ...tests], {
    cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' },
  });
  let failed;
  try {
    const json = JSON.parse(fs.readFileSync(report, 'utf8'));
    failed = json.testResults.flatMap((r) => [
      ...r.assertionResults.filter((a) => a.status === 'failed').map((a) => a.fullName),
      ...(r.status === 'failed' && r.assertionResults.length === 0 ? [`${path.relative(ROOT, r.name)} (suite failed)`] : []),
    ]);
  } catch {
    failed = run.status === 0 ? [] : ['(no jest report)'];
  } finally {
    fs.rmSync(report, { force: true });
  }
  return { ok: run.status === 0, failed, seconds: Math.round((Date.now() - started) / 1000) };
}

function bundle() {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'bundle-handler.js')], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`bundling the handler failed: ${run.stderr}`);
}

function main() {
  const args = process.argv.slice(2);
  const filter = args.find((a) => !a.startsWith('--'));
  const selected = MUTANTS.filter((m) => !filter || m.name.includes(filter));
  if (args.includes('--list')) {
    for (const m of MUTANTS) console.log(`${m.name}  (${m.file}; ${m.tests.join(', ')})`);
    return 0;
  }
  restoreBackups();
  if (selected.length === 0) { console.error(`no mutant matches '${filter}'`); return 1; }

  // The tests must pass unmutated, or a "caught" mutant proves nothing.
  if (!args.includes('--no-baseline')) {
    bundle();
    for (const tests of [...new Set(selected.map((m) => m.tests.join(' ')))]) {
      const base = jest(tests.split(' '));
      console.log(`baseline ${tests}: ${base.ok ? 'pass' : 'FAIL'} (${base.seconds} s)`);
      if (!base.ok) { console.error(`the tests fail without a mutant: ${base.failed.join('; ')}`); return 1; }
    }
  }

  const rows = [];
  for (const m of selected) {
    const file = path.join(ROOT, m.file);
    const original = fs.readFileSync(file, 'utf8');
    const count = original.split(m.from).length - 1;
    if (count !== 1) { rows.push({ m, result: `NOT APPLIED (found ${count} times)`, by: '', seconds: 0 }); continue; }
    fs.mkdirSync(BACKUP, { recursive: true });
    fs.writeFileSync(path.join(BACKUP, encodeURIComponent(m.file)), original);
    let outcome;
    try {
      fs.writeFileSync(file, original.replace(m.from, m.to));
      if (m.bundle) bundle();
      outcome = jest(m.tests);
    } finally {
      fs.writeFileSync(file, original);
      fs.rmSync(BACKUP, { recursive: true, force: true });
      if (m.bundle) bundle();
    }
    rows.push({ m, result: outcome.ok ? 'SURVIVED' : 'caught', by: outcome.failed[0] ?? '', seconds: outcome.seconds });
    console.log(`${outcome.ok ? 'SURVIVED' : 'caught  '} ${m.name} (${outcome.seconds} s)`);
  }

  console.log('\n| mutant | file | result | first failing test | s |\n|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.m.name} | ${r.m.file} | ${r.result} | ${r.by.replace(/\|/g, '/')} | ${r.seconds} |`);
  const bad = rows.filter((r) => r.result !== 'caught');
  console.log(`\n${rows.length - bad.length} of ${rows.length} mutants caught${bad.length ? `; not caught: ${bad.map((r) => r.m.name).join(', ')}` : ''}`);
  return bad.length ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { restoreBackups(); process.exit(130); });
process.exitCode = main();
