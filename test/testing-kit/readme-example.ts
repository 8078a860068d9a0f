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
 * What a user copies into a fresh project: docs/testing-kit.md "Testing a stack with jest" (the
 * stack, jest's config and the test), which the README section "Testing your own stacks offline"
 * links to.
 */
export function readmeExample(): { readmeSection: string; blocks: Record<string, string> } {
  const readme = section('README.md', '## Testing your own stacks offline');
  const kit = section('docs/testing-kit.md', '## Testing a stack with jest');
  return { readmeSection: readme.section, blocks: kit.blocks };
}
