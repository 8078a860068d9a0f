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
