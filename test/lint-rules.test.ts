/**
 * The lint rule that keeps adapters honest: they import only `@keyward/core`'s public entry, never its internals.
 * Runs the real ESLint on snippets as if they were files of each adapter.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const eslint = path.join(root, 'node_modules', '.bin', 'eslint');

function lint(file: string, code: string) {
  const r = spawnSync(eslint, ['--stdin', '--stdin-filename', file, '--format', 'json'], { cwd: root, input: code, encoding: 'utf8' });
  const [result] = JSON.parse(r.stdout || '[]') as Array<{ messages: Array<{ ruleId: string; message: string }> }>;
  return result?.messages ?? [];
}

describe('adapter import rule', () => {
  it.each(['express', 'koa', 'nest'])('refuses core internals in @keyward/%s', (pkg) => {
    for (const spec of ['@keyward/core/dist/keyward', '../../core/src/keyward']) {
      const messages = lint(`packages/${pkg}/src/bad.ts`, `import { createKeyward } from '${spec}';\nexport const x = createKeyward;\n`);
      expect(messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
    }
  });

  it('allows the public entry in adapters, and internals inside the core', () => {
    expect(lint('packages/express/src/ok.ts', `import { createKeyward } from '@keyward/core';\nexport const x = createKeyward;\n`)).toEqual([]);
    expect(lint('packages/core/src/ok.ts', `import { createKeyward } from './keyward';\nexport const x = createKeyward;\n`)).toEqual([]);
  });
});
