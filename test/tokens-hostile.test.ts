/**
 * Malformed and hostile tokens: every one gets a 401 through the core's check() and through every adapter, never a
 * 5xx, and no answer echoes the token.
 */
import request from 'supertest';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { SignJWT, exportJWK } from 'jose';
import { createKeyward, manualClock, type Keyward } from '@keyward/core';
import { ADAPTERS, answerOf, DEFAULT_ROUTES, type RunningApp } from './conformance/harness';

const T0 = Date.parse('2026-02-01T00:00:00Z');
const ISS = 'https://rsa-idp.example/';
const HS_ISS = 'https://hs-idp.example/';
const SECRET = 'hostile-suite-hmac-secret-0123456789abcdef';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const RSA_PEM = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const claims = { iss: ISS, sub: 'victim', aud: 'api', scope: '*', iat: T0 / 1000, exp: T0 / 1000 + 600 };
const hmac = (data: string, key: string | Buffer) => createHmac('sha256', key).update(data).digest('base64url');

/** A raw token with any header and payload, signed with HMAC over `key`. */
function raw(header: unknown, payload: unknown, key: string | Buffer = SECRET): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${hmac(input, key)}`;
}

async function hostileTokens(): Promise<Array<[string, string]>> {
  const valid = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey);
  const [h, p, s] = valid.split('.') as [string, string, string];
  const attackerJwk = await exportJWK(attacker.publicKey);
  const signedByAttacker = (header: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', ...header }).sign(attacker.privateKey);
  const list: Array<[string, string]> = [
    ['two segments', `${h}.${p}`],
    ['four segments', `${h}.${p}.${s}.${s}`],
    ['five segments (JWE shape)', `${h}.${p}.${s}.${s}.${s}`],
    ['only dots', '..'],
    ['empty signature', `${h}.${p}.`],
    ['empty header', `.${p}.${s}`],
    ['bad base64 characters', `${h}.${p}!.${s}`],
    ['bad base64 length', `${h}.${p}A.${s}`],
    ['standard base64 padding', `${h}.${p}==.${s}`],
    ['header not JSON', `${b64('not json')}.${p}.${s}`],
    ['header an array', raw(['HS256'], claims)],
    ['header without alg', raw({ typ: 'JWT' }, claims)],
    ['alg not a string', raw({ alg: 256 }, claims)],
    ['payload an array', raw({ alg: 'RS256' }, [claims])],
    ['payload a string', raw({ alg: 'RS256' }, '"hello"')],
    ['payload a number', raw({ alg: 'RS256' }, '12345')],
    ['payload null', raw({ alg: 'RS256' }, 'null')],
    ['payload true', raw({ alg: 'RS256' }, 'true')],
    ['payload not JSON', `${h}.${b64('{"iss":')}.${s}`],
    ['exp as a string', raw({ alg: 'HS256' }, { ...claims, iss: HS_ISS, exp: String(T0 / 1000 + 600) })],
    ['sub as an object', raw({ alg: 'HS256' }, { ...claims, iss: HS_ISS, sub: { id: 1 } })],
    ['iss as an array', raw({ alg: 'RS256' }, { ...claims, iss: [ISS] })],
    ['unknown critical header', raw({ alg: 'HS256', crit: ['exp-x'], 'exp-x': 1 }, { ...claims, iss: HS_ISS })],
    ['b64=false header', raw({ alg: 'HS256', b64: false, crit: ['b64'] }, { ...claims, iss: HS_ISS })],
    ['kid path traversal', raw({ alg: 'RS256', kid: '../../../../dev/null' }, claims)],
    ['HS256 signed with the RSA public key (algorithm confusion)', raw({ alg: 'HS256' }, claims, RSA_PEM)],
    ['HS256 with the RSA public key DER', raw({ alg: 'HS256' }, claims, rsa.publicKey.export({ type: 'spki', format: 'der' }))],
    ['embedded jwk header', await signedByAttacker({ jwk: attackerJwk })],
    ['jku header', await signedByAttacker({ jku: 'https://attacker.example/jwks.json', kid: 'a' })],
    ['x5u header', await signedByAttacker({ x5u: 'https://attacker.example/cert.pem' })],
    ['x5c header', await signedByAttacker({ x5c: ['MIIB'] })],
    ['signed by another EC key', await signedByAttacker({})],
    ['RS256 token re-labelled PS256', `${b64({ alg: 'PS256' })}.${p}.${s}`],
  ];
  for (const none of ['none', 'None', 'NONE', 'nOnE', ' none']) {
    list.push([`alg "${none}" without signature`, `${b64({ alg: none })}.${p}.`]);
    list.push([`alg "${none}" with a signature`, `${b64({ alg: none })}.${p}.${s}`]);
  }
  return list;
}

const RSA_ISSUER = { issuer: ISS, audience: 'api', publicKey: RSA_PEM, algorithms: ['RS256'] };
const HS_ISSUER = { issuer: HS_ISS, audience: 'api', secret: SECRET, algorithms: ['HS256'] };

/**
 * Both issuers (the token's payload is read to choose one), or one alone (the payload is left to jose, which
 * refuses any other issuer): the two paths of the verifier.
 */
type Trusting = 'both issuers' | 'the RSA issuer alone' | 'the HMAC issuer alone';
const TRUSTING: Trusting[] = ['both issuers', 'the RSA issuer alone', 'the HMAC issuer alone'];

function instance(maxCredentialLength?: number, trusting: Trusting = 'both issuers'): Keyward {
  const issuers = trusting === 'both issuers' ? [RSA_ISSUER, HS_ISSUER] : trusting === 'the RSA issuer alone' ? [RSA_ISSUER] : [HS_ISSUER];
  return createKeyward({
    clock: manualClock(T0 + 1000),
    ...(maxCredentialLength ? { maxCredentialLength } : {}),
    tokens: { issuers },
  });
}

describe.each(TRUSTING)('hostile tokens against check(), trusting %s', (trusting) => {
  const kw = instance(65_536, trusting);
  afterAll(() => kw.close());

  it('accepts the genuine token, so the refusals below are about the tampering', async () => {
    const valid =
      trusting === 'the HMAC issuer alone'
        ? await new SignJWT({ ...claims, iss: HS_ISS }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET))
        : await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey);
    const d = await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${valid}` } });
    expect(d.ok).toBe(true);
  });

  it('names the reason, the header decoded by jose alone: key-carrying headers, none, another issuer', async () => {
    const detail = async (token: string) => {
      const d = await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${token}` } });
      return d.ok ? 'admitted' : d.problem.detail;
    };
    // Signed by the trusted issuer's own key, so each refusal is about the one thing changed.
    const rsaAlone = trusting === 'the RSA issuer alone';
    const sign = (payload: Record<string, unknown>, header: Record<string, unknown> = {}) =>
      rsaAlone
        ? new SignJWT(payload).setProtectedHeader({ alg: 'RS256', ...header }).sign(rsa.privateKey)
        : new SignJWT(payload).setProtectedHeader({ alg: 'HS256', ...header }).sign(new TextEncoder().encode(SECRET));
    const iss = rsaAlone ? ISS : HS_ISS;
    for (const header of [{ jku: 'https://attacker.example/jwks.json' }, { x5u: 'https://attacker.example/c.pem' }, { jwk: { kty: 'oct', k: 'AA' } }, { x5c: ['MIIB'] }]) {
      expect(await detail(await sign({ ...claims, iss }, header))).toBe('The token carries keys or key URLs in its header, which are never followed.');
    }
    const [, p, s] = (await sign({ ...claims, iss })).split('.');
    expect(await detail(`${b64({ alg: 'none' })}.${p}.`)).toBe('The token is malformed.');
    expect(await detail(`${b64({ alg: 'nOnE' })}.${p}.${s}`)).toBe("The token's algorithm is not allowed.");
    expect(await detail(await sign({ ...claims, iss: 'https://other-idp.example/' }))).toBe("The token's issuer is not trusted.");
    expect(await detail(await sign({ ...claims, iss: undefined }))).toBe(trusting === 'both issuers' ? "The token's issuer is not trusted." : 'The token has no "iss" claim.');
  });

  it('refuses every hostile token with 401 and never echoes it', async () => {
    for (const [name, token] of await hostileTokens()) {
      const d = await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${token}` } });
      expect({ name, ok: d.ok, status: d.ok ? 200 : d.status }).toEqual({ name, ok: false, status: 401 });
      if (!d.ok) expect(JSON.stringify(d)).not.toContain(token);
    }
  });

  it('refuses a 16 KB token with 401 (token bound, and the default credential bound)', async () => {
    const big = raw({ alg: 'HS256' }, { ...claims, iss: HS_ISS, pad: 'x'.repeat(12 * 1024) });
    expect(big.length).toBeGreaterThan(16 * 1024);
    const d = await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${big}` } });
    expect(!d.ok && [d.status, d.code, d.problem.detail]).toEqual([401, 'TOKEN_INVALID', 'The token is too large.']);
    const dflt = instance();
    const e = await dflt.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${big}` } });
    expect(!e.ok && e.status).toBe(401);
    await dflt.close();
  });

  it('sends a JWT in X-API-Key to the key authenticator (401), not to token verification', async () => {
    const valid = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey);
    const d = await kw.check({ method: 'GET', path: '/', headers: { 'x-api-key': valid } });
    expect(!d.ok && [d.status, d.code]).toEqual([401, 'CREDENTIALS_INVALID']);
  });
});

describe.each(ADAPTERS.flatMap((adapter) => TRUSTING.map((trusting) => ({ ...adapter, trusting }))))('hostile tokens over HTTP on $name, trusting $trusting', ({ trusting, ...adapter }) => {
  let kw: Keyward;
  let app: RunningApp;
  beforeAll(async () => {
    kw = instance(undefined, trusting);
    app = await adapter.start({ keyward: kw, routes: DEFAULT_ROUTES });
  });
  afterAll(async () => {
    await app.close();
    await kw.close();
  });

  it('answers 401 problem+json to every hostile token, and to a 12 KB one', async () => {
    const tokens = await hostileTokens();
    const big = raw({ alg: 'HS256' }, { ...claims, iss: HS_ISS, pad: 'x'.repeat(9 * 1024) });
    expect(big.length).toBeGreaterThan(12_000);
    tokens.push(['12 KB token', big]);
    for (const [name, token] of tokens) {
      const res = await request(app.url).get('/open').set('Authorization', `Bearer ${token}`);
      // the answer is the core's decision for the same request, whole: status, headers and problem
      const d = await kw.check({ method: 'GET', path: '/open', headers: { authorization: `Bearer ${token}` } });
      const decided = d.ok ? { status: 200 } : { status: d.status, headers: Object.fromEntries(Object.entries(d.headers).map(([h, v]) => [h.toLowerCase(), v])), body: d.problem };
      expect({ name, ...answerOf(res) }).toEqual({ name, ...decided });
      expect({ name, status: res.status, type: res.headers['content-type'] }).toEqual({ name, status: 401, type: 'application/problem+json' });
      expect(res.text).not.toContain(token);
    }
  });

  it("a 16 KB token is never admitted: Node's HTTP parser refuses its header (431) before any adapter runs", async () => {
    const big = raw({ alg: 'HS256' }, { ...claims, iss: HS_ISS, pad: 'x'.repeat(12 * 1024) });
    expect(big.length).toBeGreaterThan(16 * 1024);
    const res = await request(app.url).get('/open').set('Authorization', `Bearer ${big}`);
    expect(res.status).toBe(431);
    expect(res.text).not.toContain(big);
  });
});
