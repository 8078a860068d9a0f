/**
 * The README's "Testing your own stacks offline" example is the sample consumer app, and its test
 * (in docs/testing-kit.md, "Testing a stack with jest") is the app's test, with the package's
 * import paths: so the example a user copies is known to compile and pass.
 */
import { read, readmeExample } from './readme-example';

describe('the README section "Testing your own stacks offline"', () => {
  const { section, blocks, readmeBlocks, kitBlocks } = readmeExample();

  test('comes before "Design decisions" and shows a stack, whose test is in docs/testing-kit.md', () => {
    const readme = read('README.md');
    expect(readme.indexOf('\n## Testing your own stacks offline\n')).toBeGreaterThan(0);
    expect(readme.indexOf('\n## Testing your own stacks offline\n')).toBeLessThan(readme.indexOf('\n## Design decisions\n'));
    expect(Object.keys(readmeBlocks)).toEqual(['lib/consumer-stack.ts']);
    expect(Object.keys(kitBlocks)).toEqual(['jest.config.js', 'test/consumer-stack.test.ts']);
    expect(Object.keys(blocks)).toHaveLength(3);
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
