import { SignJWT } from 'jose';
import { createKeyward, manualClock, type ClaimMappingOptions } from '../index';

const T0 = Date.parse('2026-05-01T12:00:00Z');
const SECRET = 'an-hmac-secret-that-is-long-enough-0123456789';

function instance(claims: ClaimMappingOptions) {
  return createKeyward({ clock: manualClock(T0), tokens: { issuers: [{ issuer: 'idp', audience: 'api', secret: SECRET, algorithms: ['HS256'], claims }] } });
}

/** A token whose payload is this JSON text as sent (so a `__proto__` member is a claim like any other). */
const signed = (json: string) => new SignJWT(JSON.parse(json)).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
const payload = (extra = '') => `{"sub":"s","iss":"idp","aud":"api","exp":${T0 / 1000 + 60},"scope":"docs:read"${extra}}`;

describe('claims mapping reads the claims the token has, never what every object inherits', () => {
  it('a mapped name such as "toString" or "constructor" that the token lacks is absent, not Object.prototype\'s member', async () => {
    const kw = instance({ scopes: ['toString', 'scope'], owner: 'valueOf', plan: 'hasOwnProperty', metadata: ['constructor', 'tenant'] });
    const r = await kw.tokens.verify(await signed(payload(',"tenant":"t1"')));
    if (!('principal' in r)) throw new Error(r.detail);
    expect(r.principal.scopes).toEqual(['docs:read']);
    expect(r.principal.owner).toBe('s');
    expect(r.principal.plan).toBeUndefined();
    expect(r.principal.metadata).toEqual({ tenant: 't1' });
    expect(Object.keys(r.principal.metadata)).toEqual(['tenant']);
    await kw.close();
  });

  it('"__proto__" is not a claim name it takes (a token could set the prototype of principal.metadata)', () => {
    for (const claims of [{ metadata: ['__proto__'] }, { metadata: '__proto__' as unknown as string[] }, { owner: '__proto__' }, { scopes: '__proto__' }]) {
      expect(() => instance(claims)).toThrow(/^keyward: option "tokens\.issuers\[0\]\.claims\.(metadata\[0\]|owner|scopes\[0\])" must be a claim name/);
    }
  });
});
