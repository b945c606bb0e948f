import { generateKey } from '@keyward/core';
import { runInProcess as runIn } from '../../../test/cli/helpers/in-process';

describe('error lines never echo a credential typed in the wrong place', () => {
  it('redacts a key or a JWT in what commander and the commands echo back', async () => {
    const key = generateKey({ prefix: 'kw', randomBits: 192 }, 'live');
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhY21lIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    const cases: Array<[string[], RegExp]> = [
      [['keys', key], /^keyward: unknown command '\[REDACTED\]'\n$/],
      [[key], /^keyward: unknown command '\[REDACTED\]'\n$/],
      [['keys', 'list', '--state', key], /^keyward: option '--state <state>' argument '\[REDACTED\]' is invalid/],
      [['secret', '--kind', jwt], /^keyward: option '--kind <kind>' argument '\[REDACTED\]' is invalid/],
      [['scan', '--no-progress', key], /^keyward: no such file or directory: \[REDACTED\]\n$/],
    ];
    for (const [args, re] of cases) {
      const r = await runIn(args);
      expect({ args, code: r.code, out: r.out }).toEqual({ args, code: 2, out: '' });
      expect(r.err).toMatch(re);
      expect(r.err).not.toContain(key.slice(8, 30));
      expect(r.err).not.toContain('eyJzdWIi');
    }
  });
});

describe('keys import --file', () => {
  it('refuses a per-key flag beside --file instead of importing every key without it', async () => {
    for (const [flag, value] of [['--scope', 'docs:read'], ['--name', 'n'], ['--plan', 'pro'], ['--hint', '…abcd'], ['--created-at', '2020-01-01T00:00:00Z'], ['--expires-in', '30d']] as const) {
      const r = await runIn(['keys', 'import', '--file', 'keys.jsonl', '--owner', 'acme', flag, value]);
      expect({ flag, code: r.code, out: r.out, err: r.err }).toEqual({ flag, code: 2, out: '', err: `keyward: --file cannot be combined with ${flag}: give it on each line of the file\n` });
    }
  });
});
