/**
 * Every top-level option `createKeyward` accepts is named in the core README's options table, and every field of the
 * `tokens` option in the root README's, so an option the code takes (and a user may meet in an error message's list
 * of known names) is never left undocumented.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
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

/** The property names of the exported interface `name` in the TypeScript file `file`. */
function fieldsOf(file: string, name: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest);
  const found = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name);
  if (!found) throw new Error(`${file}: no interface ${name}`);
  return found.members.flatMap((m) => (m.name && ts.isIdentifier(m.name) ? [m.name.text] : []));
}

describe('options tables', () => {
  it('the core README lists every option of createKeyward', () => {
    const documented = tableNames('packages/core/README.md', '## Options of `createKeyward`');
    expect(OPTIONS.filter((o) => !documented.has(o))).toEqual([]);
  });

  it('the root README lists every field of the tokens option', () => {
    const documented = tableNames('README.md', '## Tokens');
    // A row names a field by its whole path (`tokens.signing.ttl`) and may add its siblings by name (`/ maxTtl`).
    const rows = new Map<string, Set<string>>();
    for (const n of documented) {
      const at = n.lastIndexOf('.');
      if (at > 0) rows.set(n.slice(0, at), new Set([...(rows.get(n.slice(0, at)) ?? []), n.slice(at + 1)]));
    }
    const siblings = (prefix: string) => new Set([...(rows.get(prefix) ?? []), ...[...documented].filter((n) => !n.includes('.'))]);
    const listed = (prefix: string, f: string) => siblings(prefix).has(f) || [...documented].some((n) => n.startsWith(`${prefix}.${f}.`) || n.startsWith(`${prefix}.${f}[].`));
    const missing = (prefix: string, file: string, name: string) => fieldsOf(file, name).filter((f) => !listed(prefix, f)).map((f) => `${prefix}.${f}`);
    expect([
      ...missing('tokens', 'packages/core/src/tokens/options.ts', 'TokenOptions'),
      ...missing('tokens.issuers[]', 'packages/core/src/tokens/options.ts', 'TrustedIssuerOptions'),
      ...missing('tokens.signing', 'packages/core/src/tokens/options.ts', 'SigningOptions'),
    ]).toEqual([]);
  });
});
