/**
 * The example the README's "Testing your own stacks offline" points to (docs/testing-kit.md,
 * "Testing a stack with jest") is the sample consumer app and its test, with the package's import
 * paths: so the example a user copies is known to compile and pass.
 */
import { read, readmeExample } from './readme-example';

describe('the kit example the README points to', () => {
  const { readmeSection, blocks } = readmeExample();

  test('the README section comes before "Design decisions", links to the example and shows the standalone server', () => {
    const readme = read('README.md');
    expect(readme.indexOf('\n## Testing your own stacks offline\n')).toBeGreaterThan(0);
    expect(readme.indexOf('\n## Testing your own stacks offline\n')).toBeLessThan(readme.indexOf('\n## Design decisions\n'));
    expect(readmeSection).toContain('/docs/testing-kit.md#testing-a-stack-with-jest)');
    expect(readmeSection).toContain('npx cdk-kms-byok-emulator --port 4599');
    expect(Object.keys(blocks)).toEqual(['lib/consumer-stack.ts', 'jest.config.js', 'test/consumer-stack.test.ts']);
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
