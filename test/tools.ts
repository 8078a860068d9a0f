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
 * failing test stands in for the suite; locally, one line on stderr and 'skip'.
 */
export function whenMissing(name: string, reason: string | undefined): 'skip' | 'fail' | undefined {
  if (!reason) return undefined;
  if (inCi()) {
    test(`${name}: requirement present`, () => { throw new Error(`CI=${process.env.CI}: ${reason}`); });
    return 'fail';
  }
  process.stderr.write(`SKIPPED "${name}": ${reason} (in CI this fails)\n`);
  return 'skip';
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
