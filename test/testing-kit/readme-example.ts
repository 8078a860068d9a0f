import * as fs from 'fs';
import * as path from 'path';

export const ROOT = path.join(__dirname, '..', '..');
export const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/** A section's code blocks, keyed by the file name on their first line (`// lib/x.ts`). */
function section(file: string, heading: string): { section: string; blocks: Record<string, string> } {
  const text = read(file);
  const start = text.indexOf(`\n${heading}\n`);
  const end = text.indexOf('\n## ', start + 1);
  const body = text.slice(start, end < 0 ? undefined : end);
  const blocks: Record<string, string> = {};
  // ```ts nofixture: a whole file, compiled by jsii-rosetta without a fixture (scripts/rosetta.js).
  for (const m of body.matchAll(/```(?:ts(?: nofixture)?|js)\n\/\/ (\S+)\n([\s\S]*?)```/g)) blocks[m[1]] = m[2];
  return { section: body, blocks };
}

/**
 * What a user copies into a fresh project: the README section "Testing your own stacks offline"
 * (the stack) and docs/testing-kit.md "Testing a stack with jest" (jest's config and the test).
 */
export function readmeExample(): { section: string; blocks: Record<string, string>; readmeBlocks: Record<string, string>; kitBlocks: Record<string, string> } {
  const readme = section('README.md', '## Testing your own stacks offline');
  const kit = section('docs/testing-kit.md', '## Testing a stack with jest');
  return { section: readme.section, blocks: { ...readme.blocks, ...kit.blocks }, readmeBlocks: readme.blocks, kitBlocks: kit.blocks };
}
