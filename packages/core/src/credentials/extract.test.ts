import { extractCredential, type ExtractionConfig } from './extract';

const config: ExtractionConfig = { header: 'x-api-key', schemes: ['bearer'], queryParam: false, maxLength: 8192 };
const req = (headers: Record<string, string | string[]>, query = '') => ({ method: 'GET', path: '/', query, headers });

describe('credential extraction', () => {
  it('finds the key header and Bearer, scheme case-insensitive', () => {
    expect(extractCredential(req({ 'x-api-key': 'abc' }), config)).toEqual({ credential: { source: 'header', value: 'abc' } });
    expect(extractCredential(req({ authorization: 'BeArEr  abc ' }), config)).toEqual({ credential: { source: 'authorization', scheme: 'bearer', value: 'abc' } });
  });

  it('answers missing for nothing, and for schemes it does not own', () => {
    expect(extractCredential(req({}), config)).toMatchObject({ code: 'CREDENTIALS_MISSING' });
    expect(extractCredential(req({ authorization: 'Basic dTpw' }), config)).toMatchObject({ code: 'CREDENTIALS_MISSING' });
  });

  it('refuses repeated headers and two different credentials, accepts the same one twice', () => {
    expect(extractCredential(req({ 'x-api-key': ['a', 'b'] }), config)).toMatchObject({ code: 'CREDENTIALS_AMBIGUOUS' });
    expect(extractCredential(req({ authorization: ['Bearer a', 'Bearer a'] }), config)).toMatchObject({ code: 'CREDENTIALS_AMBIGUOUS' });
    expect(extractCredential(req({ 'x-api-key': 'a', authorization: 'Bearer b' }), config)).toMatchObject({ code: 'CREDENTIALS_AMBIGUOUS' });
    expect(extractCredential(req({ 'x-api-key': 'a', authorization: 'Bearer a' }), config)).toMatchObject({ credential: { value: 'a' } });
  });

  it.each([
    ['empty', { 'x-api-key': '' }],
    ['empty bearer', { authorization: 'Bearer' }],
    ['too long', { 'x-api-key': 'a'.repeat(8193) }],
    ['non-ASCII', { 'x-api-key': 'kw_é' }],
    ['control character', { 'x-api-key': 'a\u0001b' }],
    ['inner space', { 'x-api-key': 'a b' }],
  ])('refuses a %s value as invalid', (_n, headers) => {
    expect(extractCredential(req(headers), config)).toMatchObject({ code: 'CREDENTIALS_INVALID' });
  });

  it('reads the query only when enabled, refusing a repeated parameter', () => {
    expect(extractCredential(req({}, 'api_key=abc'), config)).toMatchObject({ code: 'CREDENTIALS_MISSING' });
    const q = { ...config, queryParam: 'api_key' };
    expect(extractCredential(req({}, 'x=1&api_key=abc'), q)).toEqual({ credential: { source: 'query', value: 'abc' } });
    expect(extractCredential(req({}, 'api_key=a&api_key=b'), q)).toMatchObject({ code: 'CREDENTIALS_AMBIGUOUS' });
    expect(extractCredential(req({}, 'api_key=%E0%A4%A'), q)).toMatchObject({ code: 'CREDENTIALS_INVALID' });
  });
});
