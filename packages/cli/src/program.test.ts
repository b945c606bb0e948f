import { PassThrough } from 'node:stream';
import { generateKey } from '@keyward/core';
import { run } from './program';

async function runIn(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await run(args, { stdout, stderr, stdin: new PassThrough(), env: {}, cwd: process.cwd() });
  return { code, out, err };
}

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
