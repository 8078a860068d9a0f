/**
 * The README's "Testing your own stacks offline" example is the sample consumer app, and its test
 * (in docs/testing-kit.md, "Testing a stack with jest") is the app's test, with the package's
 * import paths: so the example a user copies is known to compile and pass.
 */
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/** A section's ```ts blocks, keyed by the file name on their first line (`// lib/x.ts`). */
function exampleBlocks(file: string, heading: string): { section: string; blocks: Record<string, string> } {
  const text = read(file);
  const start = text.indexOf(`\n${heading}\n`);
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const blocks: Record<string, string> = {};
  // ```ts nofixture: a whole file, compiled by jsii-rosetta without a fixture (scripts/rosetta.js).
  for (const m of section.matchAll(/```ts(?: nofixture)?\n\/\/ (\S+)\n([\s\S]*?)```/g)) blocks[m[1]] = m[2];
  return { section, blocks };
}

describe('the README section "Testing your own stacks offline"', () => {
  const { section, blocks: readmeBlocks } = exampleBlocks('README.md', '## Testing your own stacks offline');
  const { blocks: kitBlocks } = exampleBlocks('docs/testing-kit.md', '## Testing a stack with jest');
  const blocks = { ...readmeBlocks, ...kitBlocks };

  test('comes before "Design decisions" and shows a stack, whose test is in docs/testing-kit.md', () => {
    const readme = read('README.md');
    expect(readme.indexOf('\n## Testing your own stacks offline\n')).toBeGreaterThan(0);
    expect(readme.indexOf('\n## Testing your own stacks offline\n')).toBeLessThan(readme.indexOf('\n## Design decisions\n'));
    expect(Object.keys(readmeBlocks)).toEqual(['lib/consumer-stack.ts']);
    expect(Object.keys(kitBlocks)).toEqual(['test/consumer-stack.test.ts']);
    expect(section).toContain('npx cdk-kms-byok-emulator --port 4599');
  });

  test('its stack is examples/consumer-app/consumer-stack.ts, importing cdk-kms-byok', () => {
    expect(blocks['lib/consumer-stack.ts']).toBe(read('examples/consumer-app/consumer-stack.ts').replace("from '../../lib';", "from 'cdk-kms-byok';"));
  });

  test('its jest test is test/testing-kit/consumer-app.test.ts, importing cdk-kms-byok/testing', () => {
    const test = read('test/testing-kit/consumer-app.test.ts');
    const asUserWritesIt = test.slice(test.indexOf('\nimport ') + 1)
      .replace("from '../../examples/consumer-app/consumer-stack';", "from '../lib/consumer-stack';")
      .replace("from '../../testing';", "from 'cdk-kms-byok/testing';");
    expect(blocks['test/consumer-stack.test.ts']).toBe(asUserWritesIt);
    expect(asUserWritesIt).not.toContain('../../');
  });
});
