import { createKeyward } from '@keyward/core';
import { findLeaks } from './setup/leak-guard';

describe('leak guard', () => {
  it('recognises keys, JWTs and digests, and not ordinary ids', async () => {
    const kw = createKeyward();
    const { key, record } = await kw.keys.create({ owner: 'o' });
    expect(findLeaks(`x ${key} y`)).toEqual([expect.stringContaining('keyward key')]);
    expect(findLeaks('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlc2lnbmF0dXJl')).toEqual(['a JWT']); // keyward:allow (test fixture)
    expect(findLeaks('a'.repeat(64))).toEqual(['a SHA-256 hex digest']);
    expect(findLeaks(`${record.id} ${record.hint} 3f2a9c1e-0d7b-4a5e-9c1b-2f3e4d5c6b7a`)).toEqual([]);
    await kw.close();
  });

  it('recognises a key or a JWT encoded in base64 or base64url (HTTP Basic credentials), wherever the encoding starts', async () => {
    const kw = createKeyward();
    const { key, record } = await kw.keys.create({ owner: 'o' });
    const jwt = ['{"alg":"HS256"}', '{"sub":"a"}'].map((part) => Buffer.from(part).toString('base64url')).join('.') + '.c2lnbmF0dXJlc2lnbmF0dXJl';
    for (const [secret, what] of [[`${key}:`, 'keyward key'], [`${record.id}:${key}`, 'keyward key'], [`client:${jwt}`, 'JWT']] as const) {
      for (const encoded of [Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url')]) {
        for (const text of [`ua Basic ${encoded}`, `/v1/keys/${encoded}/docs`, `/v1/k/${encoded}`, `{"path":"/x?a=${encoded}"}`]) {
          const leaks = findLeaks(text);
          expect([text, leaks.some((l) => l.includes(what) && l.includes('base64'))]).toEqual([text, true]);
          expect(leaks.join(' ')).not.toContain(key.slice(8, 20));
        }
      }
    }
    expect(findLeaks(`${Buffer.from(`${record.id}:not-a-key`).toString('base64')} ${Buffer.from('a perfectly ordinary sentence of text').toString('base64url')}`)).toEqual([]);
    await kw.close();
  });
});
