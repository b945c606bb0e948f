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
});
