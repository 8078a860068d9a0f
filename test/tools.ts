import { spawnSync } from 'child_process';

/**
 * Tests that need a command-line tool (openssl, the AWS CLI) or SoftHSM: in CI (`CI` set to
 * anything but `false`/`0`) a missing tool is a failing test that names it; elsewhere the tests
 * are skipped and one line on stderr says which and why. Never a silent skip.
 */
export type Tool = 'openssl' | 'aws';

const CHECKS: Record<Tool, [string, string[], string]> = {
  openssl: ['openssl', ['version'], 'install openssl (Debian: apt-get install openssl)'],
  aws: ['aws', ['--version'], 'install the AWS CLI (pip install awscli, or the AWS CLI v2 installer)'],
};

const found = new Map<Tool, string | undefined>();

/** Why `tool` cannot be used here, or undefined when it can. */
export function missingTool(tool: Tool): string | undefined {
  if (!found.has(tool)) {
    const [command, args, fix] = CHECKS[tool];
    const run = spawnSync(command, args, { stdio: 'ignore' });
    found.set(tool, run.error || run.status !== 0 ? `\`${command}\` is not on PATH or does not run; ${fix}` : undefined);
  }
  return found.get(tool);
}

export const inCi = (): boolean => !!process.env.CI && !['false', '0'].includes(process.env.CI.toLowerCase());

/**
 * What to do about a missing requirement: undefined when it is present; otherwise, in CI, a
 * failing test stands in for the suite; locally, one line on stderr and 'skip'. In the `unit`
 * project a failing test stands in for it whether the requirement is present or not.
 */
export function whenMissing(name: string, reason: string | undefined): 'skip' | 'fail' | undefined {
  if (nodeOnly(name)) return 'fail';
  if (!reason) return undefined;
  if (inCi()) {
    test(`${name}: requirement present`, () => { throw new Error(`CI=${process.env.CI}: ${reason}`); });
    return 'fail';
  }
  process.stderr.write(`SKIPPED "${name}": ${reason} (in CI this fails)\n`);
  return 'skip';
}

/**
 * The `unit` jest project (`npm run test:unit`) runs with Node only: a test there that asks for a
 * tool fails, whether or not the tool is installed, so that the unit run never skips anything.
 * Such tests belong in test/interop/ (or another directory of the `tools-and-e2e` project).
 */
function nodeOnly(name: string): boolean {
  const only = (globalThis as { CDK_KMS_BYOK_NODE_ONLY?: boolean }).CDK_KMS_BYOK_NODE_ONLY === true;
  if (only) {
    test(`${name}: needs Node only`, () => {
      throw new Error('a unit test (npm run test:unit) may not need a command-line tool or SoftHSM; move it to test/interop/ (see jest.config.js)');
    });
  }
  return only;
}

const reasonFor = (tools: Tool[]) => tools.map(missingTool).filter(Boolean).join('; ') || undefined;

/** `describe` when every tool is here; otherwise see {@link whenMissing}. */
export function describeWithTools(tools: Tool[], name: string, fn: () => void): void {
  const missing = whenMissing(name, reasonFor(tools));
  if (missing === 'skip') describe.skip(name, fn);
  else if (!missing) describe(name, fn);
}

/** `test` when every tool is here; otherwise see {@link whenMissing}. */
export function testWithTools(tools: Tool[], name: string, fn: () => unknown, timeout?: number): void {
  const missing = whenMissing(name, reasonFor(tools));
  if (missing === 'skip') test.skip(name, fn as jest.ProvidesCallback);
  else if (!missing) test(name, fn as jest.ProvidesCallback, timeout);
}
