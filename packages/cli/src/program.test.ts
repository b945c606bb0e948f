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
