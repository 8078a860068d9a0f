/**
 * `npm run lint` as part of `npm test`: eslint (eslint.config.mjs) over the whole repository must
 * report no errors. Warnings are printed but do not fail.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');

interface LintResult {
  readonly filePath: string;
  readonly messages: Array<{ line: number; column: number; severity: number; ruleId: string | null; message: string }>;
}

test('eslint reports no errors in the repository', () => {
  const eslint = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--format', 'json', '.'], {
    cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  // Exit code 2 is eslint failing to run at all (bad config, crash), not lint findings.
  if (eslint.status === 2 || !eslint.stdout.trim().startsWith('[')) {
    throw new Error(`eslint did not run: exit ${eslint.status}\n${eslint.stderr}\n${eslint.stdout.slice(0, 2000)}`);
  }
  const results = JSON.parse(eslint.stdout) as LintResult[];
  const findings = (severity: number) => results.flatMap((r) => r.messages
    .filter((m) => m.severity === severity)
    .map((m) => `${path.relative(ROOT, r.filePath)}:${m.line}:${m.column}  ${m.message}  (${m.ruleId ?? 'eslint'})`));
  const warnings = findings(1);
  if (warnings.length) console.warn(`eslint: ${warnings.length} warning(s)\n${warnings.join('\n')}`);
  expect(results.length).toBeGreaterThan(10);
  expect(findings(2)).toEqual([]);
}, 120_000);

// jest compiles each test file alone (ts-jest isolatedModules) and so reports no type errors;
// the compiler checks the tests, the kit and the examples together here.
test('tsc finds no type errors in the tests, the kit and the examples (tsconfig.dev.json)', () => {
  const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', 'tsconfig.dev.json'], {
    cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  expect(tsc.stdout + tsc.stderr).toBe('');
  expect(tsc.status).toBe(0);
}, 180_000);
