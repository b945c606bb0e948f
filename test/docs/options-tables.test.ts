/**
 * Every top-level option `createKeyward` accepts is named in the core README's options table, so an option the code
 * takes (and a user may meet in an error message's list of known names) is never left undocumented.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPTIONS } from '../../packages/core/src/config/config';

const ROOT = join(__dirname, '..', '..');

/** The names in backticks in the first column of the table rows under `heading` in `readme`. */
function tableNames(readme: string, heading: string): Set<string> {
  const text = readFileSync(join(ROOT, readme), 'utf8');
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`${readme}: no heading "${heading}"`);
  const end = text.indexOf('\n## ', start + 1);
  const names = new Set<string>();
  for (const row of text.slice(start, end < 0 ? undefined : end).split('\n').filter((l) => l.startsWith('| `'))) {
    for (const m of row.split('|')[1]!.matchAll(/`([^`]+)`/g)) names.add(m[1]!);
  }
  return names;
}

describe('options tables', () => {
  it('the core README lists every option of createKeyward', () => {
    const documented = tableNames('packages/core/README.md', '## Options of `createKeyward`');
    expect(OPTIONS.filter((o) => !documented.has(o))).toEqual([]);
  });
});
