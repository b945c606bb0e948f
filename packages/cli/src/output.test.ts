import type { KeyInfo } from '@keyward/core';
import { keyDetails, keyTable, printable } from './output';

const NOW = Date.parse('2026-03-01T10:00:00Z');
const key = (over: Partial<KeyInfo>): KeyInfo => ({ id: 'key_a', hint: 'kw_live_…abcd', prefix: 'kw', env: 'live', owner: 'acme', scopes: [], status: 'active', createdAt: NOW, updatedAt: NOW, metadata: {}, ...over });

describe('printable', () => {
  it('escapes control characters and bidirectional controls, and leaves other text alone', () => {
    expect(printable('a\nb\r\tc\u001b[2J\u0007\u007f\u009b\u202e\u2066')).toBe('a\\nb\\r\\tc\\u001b[2J\\u0007\\u007f\\u009b\\u202e\\u2066');
    expect(printable('Zoë — 東京 😀 ok')).toBe('Zoë — 東京 😀 ok');
  });
});

describe('text output of key records', () => {
  const hostile = key({ owner: 'evil\u001b[2J\u001b[31m', name: 'line1\nkey_fake  other  -', revokedReason: 'x\ry', status: 'revoked', revokedAt: NOW, metadata: { note: 'a\u001b]0;title\u0007' } });

  it('a table row stays one line and carries no escape sequence, whatever an owner or a name holds', () => {
    const out = keyTable([hostile], NOW);
    expect(out.split('\n')).toHaveLength(3); // header, one row, the final newline
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(out).toContain('evil\\u001b[2J\\u001b[31m');
    expect(out).toContain('line1\\nkey_fake');
  });

  it('key details show every field on its own line, escaped', () => {
    const out = keyDetails(hostile, NOW);
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(out.split('\n').filter((l) => l.startsWith('name:'))).toEqual(['name:     line1\\nkey_fake  other  -']);
    expect(out).toContain('x\\ry');
    expect(out).toContain('\\u001b]0;title\\u0007');
  });
});
