import * as fs from 'fs';
import * as path from 'path';

export const ROOT = path.join(__dirname, '..', '..');
export const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/**
 * The README section "Testing your own stacks offline" and its code blocks, keyed by the file name
 * on their first line (`// lib/x.ts`): what a user copies into a fresh project.
 */
export function readmeExample(): { section: string; blocks: Record<string, string> } {
  const readme = read('README.md');
  const start = readme.indexOf('\n## Testing your own stacks offline\n');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end);
  const blocks: Record<string, string> = {};
  for (const m of section.matchAll(/```(?:ts|js)\n\/\/ (\S+)\n([\s\S]*?)```/g)) blocks[m[1]] = m[2];
  return { section, blocks };
}
