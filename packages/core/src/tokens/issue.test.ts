import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createKeyward, manualClock, type EndpointRequest, type KeywardEvent } from '../index';

const T0 = Date.parse('2026-05-01T12:00:00Z');
const ES = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const ED = generateKeyPairSync('ed25519').privateKey;
const HS = 'h'.repeat(32);

function setup() {
  const clock = manualClock(T0);
  const kw = createKeyward({ clock, tokens: { signing: { issuer: 'https://api.example', audience: 'api', keys: [{ privateKey: ES, kid: 'new' }, { privateKey: ED, kid: 'old' }, { secret: HS, kid: 'hs' }] } } });
  const events: KeywardEvent[] = [];
  kw.on('*', (e) => { events.push(e); });
  return { kw, clock, events };
}

const form = (body: string, headers: Record<string, string> = {}): EndpointRequest => ({ method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('issuing', () => {
  it('signs with the first key (ES256, kid), sets jti, iat, exp, iss, aud, typ, and the pipeline accepts it', async () => {
    const { kw, events } = setup();
    const issued = await kw.tokens.issue({ subject: 'user-7', scopes: ['docs:read'], ttl: '10m', claims: { tenant: 't1' } });
    expect(decodeProtectedHeader(issued.token)).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: 'new' });
    const { payload } = await jwtVerify(issued.token, createLocalJWKSet(kw.tokens.jwks()), { currentDate: new Date(T0), issuer: 'https://api.example', audience: 'api' });
    expect(payload).toMatchObject({ sub: 'user-7', scope: 'docs:read', tenant: 't1', iat: T0 / 1000, exp: T0 / 1000 + 600, jti: issued.jti });
    expect(issued).toMatchObject({ expiresIn: 600, expiresAt: T0 + 600_000, scope: 'docs:read' });
    const d = await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${issued.token}` } }, { scopes: ['docs:read'] });
    expect(d.ok && d.principal).toMatchObject({ type: 'token', id: 'user-7', keyId: issued.jti, scopes: ['docs:read'] });
    await kw.flushEvents();
    const ev = events.find((e) => e.type === 'token.issued')!;
    expect(ev).toMatchObject({ subject: 'user-7', data: { jti: issued.jti, kid: 'new', scopes: ['docs:read'] } });
    expect(JSON.stringify(events)).not.toContain(issued.token);
  });

  it('publishes only public keys in the JWKS, and every listed key verifies (rotation)', async () => {
    const { kw } = setup();
    const jwks = kw.tokens.jwks();
    expect(jwks.keys.map((k) => k.kid)).toEqual(['new', 'old']);
    for (const k of jwks.keys) expect(Object.keys(k).sort()).not.toContain('d');
    const endpoint = kw.tokens.jwksEndpoint();
    const res = await endpoint({ method: 'GET', path: '/jwks', headers: {} });
    expect(res.status).toBe(200);
    expect(JSON.parse(String(res.body))).toEqual(jwks);
    expect((await endpoint({ method: 'POST', path: '/jwks', headers: {} })).status).toBe(405);
    // Each call gives a copy: a caller that changes it changes neither the next call nor the endpoint.
    jwks.keys[0]!.kid = 'changed';
    jwks.keys.pop();
    expect(kw.tokens.jwks().keys.map((k) => k.kid)).toEqual(['new', 'old']);
    expect(JSON.parse(String((await kw.tokens.jwksEndpoint()({ method: 'GET', path: '/jwks', headers: {} })).body)).keys.map((k: { kid: string }) => k.kid)).toEqual(['new', 'old']);
    const old = createKeyward({ clock: manualClock(T0), tokens: { signing: { issuer: 'https://api.example', audience: 'api', keys: [{ privateKey: ED, kid: 'old' }] } } });
    const fromOld = await old.tokens.issue({ subject: 's' });
    expect((await kw.tokens.verify(fromOld.token))).toHaveProperty('principal');
  });

  it('grants scopes only through "scopes": claims naming a claim scopes are read from are refused, however given', async () => {
    const { kw } = setup();
    const scopeClaim = /cannot set "(scp|permissions|roles)", a claim scopes are read from; give them in "scopes"/;
    await expect(kw.tokens.issue({ subject: 's', claims: { scp: ['admin:all'] } })).rejects.toThrow(scopeClaim);
    await expect(kw.tokens.issue({ subject: 's', claims: { permissions: 'admin:all' } })).rejects.toThrow(scopeClaim);
    // The names are those of the token as signed: a toJSON method cannot smuggle a registered or a scope claim in.
    await expect(kw.tokens.issue({ subject: 's', claims: { toJSON: () => ({ scope: 'admin:all' }) } })).rejects.toThrow(/registered claim "scope"/);
    await expect(kw.tokens.issue({ subject: 's', claims: { toJSON: () => ({ nbf: 1 }) } })).rejects.toThrow(/registered claim "nbf"/);
    const roles = createKeyward({ clock: manualClock(T0), tokens: { signing: { issuer: 'https://api.example', keys: [{ privateKey: ES }], claims: { scopes: 'roles' } } } });
    await expect(roles.tokens.issue({ subject: 's', claims: { roles: ['admin:all'] } })).rejects.toThrow(scopeClaim);
    const other = await roles.tokens.issue({ subject: 's', claims: { scp: ['admin:all'] } }); // not read as scopes there
    const d = await roles.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${other.token}` } });
    expect(d.ok && d.principal?.scopes).toEqual([]);
  });

  it('refuses a client_id claim: it would make the token act as that API key, which only the exchange grants', async () => {
    const { kw } = setup();
    const { record } = await kw.keys.create({ owner: 'acme', scopes: ['admin:*'] });
    await expect(kw.tokens.issue({ subject: 's', claims: { client_id: record.id } })).rejects.toThrow(/cannot set "client_id": it makes the token act as that API key/);
    await expect(kw.tokens.issue({ subject: 's', claims: { toJSON: () => ({ client_id: record.id }) } })).rejects.toThrow(/cannot set "client_id"/);
  });

  it('reads the scopes of its own tokens from "scope", where it writes them, whatever signing.claims.scopes names', async () => {
    const kw = createKeyward({ clock: manualClock(T0), tokens: { signing: { issuer: 'https://api.example', keys: [{ privateKey: ES }], claims: { scopes: 'roles' } } } });
    const issued = await kw.tokens.issue({ subject: 's', scopes: ['docs:read'] });
    const d = await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${issued.token}` } }, { scopes: ['docs:read'] });
    expect(d.ok && d.principal?.scopes).toEqual(['docs:read']);
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read', 'docs:write'] });
    const res = await kw.tokens.endpoint()(form('grant_type=client_credentials&scope=docs:write', { authorization: basic(record.id, key) }));
    const exchanged = await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${JSON.parse(String(res.body)).access_token}` } }, { scopes: ['docs:write'] });
    expect(exchanged.ok && exchanged.principal?.scopes).toEqual(['docs:write']);
  });

  it('signs under the kid and alg a signing key given as a JWK names (keyward secret --id), options first', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const jwk = { ...ec.export({ format: 'jwk' }), kid: 'kw-2026-11', alg: 'ES256', use: 'sig' };
    const fromEnv = createKeyward({ clock: manualClock(T0), environment: { KEYWARD_SIGNING_KEY: JSON.stringify(jwk) }, tokens: { signing: { issuer: 'https://api.example' } } });
    const issued = await fromEnv.tokens.issue({ subject: 's' });
    expect(decodeProtectedHeader(issued.token)).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: 'kw-2026-11' });
    expect(fromEnv.tokens.jwks().keys.map((k) => k.kid)).toEqual(['kw-2026-11']);
    const named = createKeyward({ clock: manualClock(T0), tokens: { signing: { issuer: 'https://api.example', keys: [{ privateKey: jwk, kid: 'from-options' }] } } });
    expect(decodeProtectedHeader((await named.tokens.issue({ subject: 's' })).token).kid).toBe('from-options');
    // A token signed before the key had a kid of its own (under its thumbprint) still verifies.
    const before = createKeyward({ clock: manualClock(T0), tokens: { signing: { issuer: 'https://api.example', keys: [{ privateKey: ec }] } } });
    const old = await before.tokens.issue({ subject: 'early' });
    expect(decodeProtectedHeader(old.token).kid).not.toBe('kw-2026-11');
    expect(await fromEnv.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${old.token}` } })).toMatchObject({ ok: true, principal: { id: 'early' } });

    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const pss = createKeyward({ clock: manualClock(T0), tokens: { signing: { issuer: 'https://api.example', keys: [{ privateKey: JSON.stringify({ ...rsa.export({ format: 'jwk' }), alg: 'PS256' }) }] } } });
    const signed = await pss.tokens.issue({ subject: 's' });
    expect(decodeProtectedHeader(signed.token).alg).toBe('PS256');
    expect(pss.tokens.jwks().keys[0]).toMatchObject({ kty: 'RSA', alg: 'PS256' });
    expect(await pss.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${signed.token}` } })).toMatchObject({ ok: true });
    expect(() => createKeyward({ tokens: { signing: { issuer: 'x', keys: [{ privateKey: { ...jwk, alg: 'RS256' } }] } } })).toThrow(/option "tokens.signing.keys\[0\].privateKey \(its JWK "alg"\)" contains "RS256", which this key cannot be used with/);
    expect(() => createKeyward({ tokens: { signing: { issuer: 'x', keys: [{ privateKey: { ...jwk, kid: 'a b' } }] } } })).toThrow(/"tokens.signing.keys\[0\].privateKey" is a JWK whose "kid" is not 1–128 visible ASCII characters/);
  });

  it('refuses bad input with a TypeError and reserved claims', async () => {
    const { kw } = setup();
    await expect(kw.tokens.issue({ subject: '' })).rejects.toThrow(TypeError);
    await expect(kw.tokens.issue({ subject: 's', ttl: '2d' })).rejects.toThrow(/"ttl" must be at least 1s and at most/);
    await expect(kw.tokens.issue({ subject: 's', claims: { exp: 1 } })).rejects.toThrow(/registered claim "exp"/);
    await expect(kw.tokens.issue({ subject: 's', scopes: ['bad scope'] })).rejects.toThrow(/"scopes"/);
    // A token's payload is readable by whoever holds it, and its subject is logged: no credential goes into either.
    const { key } = await kw.keys.create({ owner: 'acme' });
    const { token } = await kw.tokens.issue({ subject: 's' });
    await expect(kw.tokens.issue({ subject: 's', scopes: [key] })).rejects.toThrow('keyward: "scopes" holds a key or a token (not shown)');
    await expect(kw.tokens.issue({ subject: key })).rejects.toThrow('keyward: "subject" holds a key or a token (not shown): keyward never stores a credential');
    await expect(kw.tokens.issue({ subject: 's', claims: { upstream: { token } } })).rejects.toThrow('keyward: "claims" holds a key or a token (not shown)');
    await expect(kw.tokens.issue({ subject: 's', claims: { apiKey: key } })).rejects.toThrow('keyward: "claims" holds a key or a token (not shown)');
    await expect(kw.tokens.issue({ subject: 's', claims: { n: 1n } as never })).rejects.toThrow('keyward: "claims" must be JSON-serialisable');
    await kw.close();
  });

  it('revokes by jti, and refuses the token itself (or a key) given for its jti without storing or showing it', async () => {
    const { kw } = setup();
    const seen: KeywardEvent[] = [];
    kw.on('token.revoked', (e) => { seen.push(e); });
    const { token, jti } = await kw.tokens.issue({ subject: 's' });
    const { key } = await kw.keys.create({ owner: 'acme' });
    for (const wrong of [token, key]) {
      const error = await kw.tokens.revoke(wrong).then(() => undefined, (e: Error) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect(error!.message).toBe('keyward: "jti" is shaped like a token or a key (not shown): pass the token\'s "jti" claim, e.g. the `jti` that tokens.issue() returned');
    }
    await expect(kw.tokens.revoke(jti, 8.7e15)).rejects.toThrow('keyward: "until" must be a Date or a time in ms since the epoch');
    await expect(kw.tokens.revoke('a\u0000b')).rejects.toThrow('keyward: "jti" must not contain a NUL character or an unpaired surrogate');
    await kw.tokens.revoke(jti);
    expect(await kw.tokens.isRevoked(jti)).toBe(true);
    await kw.flushEvents();
    expect(seen.map((e) => (e.data as { jti: string }).jti)).toEqual([jti]);
    await kw.close();
  });

  it('isRevoked refuses a jti that is not a string with a TypeError naming it, as revoke does, on every store', async () => {
    const { kw } = setup();
    await kw.tokens.revoke('undefined');
    for (const jti of [undefined, null, 42, {}]) await expect(kw.tokens.isRevoked(jti as never)).rejects.toThrow(new TypeError('keyward: "jti" must be a string'));
    await kw.close();
  });
});

describe('client-credentials exchange', () => {
  async function withKey() {
    const s = setup();
    const created = await s.kw.keys.create({ owner: 'acme', scopes: ['docs:read', 'users:*'], plan: 'pro' });
    return { ...s, key: created.key, id: created.record.id, endpoint: s.kw.tokens.endpoint() };
  }

  it('exchanges a key (Basic) for a token with the key id as subject and the key plan', async () => {
    const { kw, key, id, endpoint } = await withKey();
    const res = await endpoint(form('grant_type=client_credentials&scope=users%3Aview', { authorization: basic(id, key) }));
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ 'Cache-Control': 'no-store', 'Content-Type': 'application/json' });
    const body = JSON.parse(String(res.body));
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900, scope: 'users:view' });
    const v = await kw.tokens.verify(body.access_token);
    expect('principal' in v && v.principal).toMatchObject({ id, owner: 'acme', plan: 'pro', scopes: ['users:view'], metadata: { client_id: id } });
  });

  it('refuses to exchange a key past its maximum age under keyPolicy.autoExpire, as the pipeline does', async () => {
    const clock = manualClock(T0);
    const kw = createKeyward({ clock, keyPolicy: { maxAge: '1d', autoExpire: true }, tokens: { signing: { issuer: 'https://api.example', audience: 'api', keys: [{ privateKey: ES, kid: 'k' }] } } });
    const { key, record } = await kw.keys.create({ owner: 'o', scopes: ['a:b'] });
    clock.advance(2 * 86_400_000);
    const d = await kw.check({ method: 'GET', path: '/', headers: { 'x-api-key': key } });
    expect(!d.ok && d.code).toBe('KEY_EXPIRED');
    const res = await kw.tokens.endpoint()(form(`grant_type=client_credentials&client_id=${record.id}&client_secret=${key}`));
    expect([res.status, JSON.parse(String(res.body)).error]).toEqual([401, 'invalid_client']);
  });

  it('never issues a token past the key maximum age under keyPolicy.autoExpire (exp and expires_in stop when the key does)', async () => {
    const clock = manualClock(T0);
    const kw = createKeyward({ clock, keyPolicy: { maxAge: '1h', autoExpire: true }, tokens: { signing: { issuer: 'https://api.example', audience: 'api', keys: [{ privateKey: ES, kid: 'k' }] } } });
    const { key, record } = await kw.keys.create({ owner: 'o', scopes: ['a:b'] }); // dies at T0 + 1h by its age
    clock.advance(55 * 60_000); // the default 15-minute token would run to T0 + 1h10m
    const res = await kw.tokens.endpoint()(form(`grant_type=client_credentials&client_id=${record.id}&client_secret=${key}`));
    const body = JSON.parse(String(res.body));
    expect([res.status, body.expires_in]).toEqual([200, 300]);
    const { payload } = await jwtVerify(body.access_token, createLocalJWKSet(kw.tokens.jwks()), { currentDate: new Date(clock()), issuer: 'https://api.example', audience: 'api' });
    expect(payload.exp).toBe((T0 + 3_600_000) / 1000);
    expect(payload.exp! - payload.iat!).toBe(body.expires_in);
    // the key's own shorter expiry still wins
    const short = await kw.keys.create({ owner: 'o', scopes: ['a:b'], expiresIn: '2m' });
    const res2 = await kw.tokens.endpoint()(form(`grant_type=client_credentials&client_id=${short.record.id}&client_secret=${short.key}`));
    expect(JSON.parse(String(res2.body)).expires_in).toBe(120);
    clock.advance(5 * 60_000);
    expect((await kw.check({ method: 'GET', path: '/', headers: { 'x-api-key': key } })).ok).toBe(false);
    const d = await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${body.access_token}` } });
    expect(d.ok).toBe(false);
    await kw.close();
  });

  it('carries the key restrictions into the token, so an IP-restricted key never yields an unrestricted token', async () => {
    const { kw } = setup();
    const { key, record } = await kw.keys.create({ owner: 'o', scopes: ['a:b'], restrictions: { ip: { allow: ['10.0.0.0/8'] } } });
    const res = await kw.tokens.endpoint()({ ...form(`grant_type=client_credentials&client_id=${record.id}&client_secret=${key}`), remoteAddress: '10.9.9.9' }); // exchanged where the key may be used
    const token = JSON.parse(String(res.body)).access_token as string;
    const inside = await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${token}` }, remoteAddress: '10.1.2.3' });
    const outside = await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${token}` }, remoteAddress: '192.0.2.7' });
    expect(inside.ok).toBe(true);
    expect(!outside.ok && outside.code).toBe('IP_FORBIDDEN');
  });

  it('accepts client_secret_post and grants all the key scopes by default, never past the key expiry', async () => {
    const { kw, clock } = setup();
    const { key, record } = await kw.keys.create({ owner: 'o', scopes: ['a:b'], expiresIn: '5m' });
    const res = await kw.tokens.endpoint()(form(`grant_type=client_credentials&client_id=${record.id}&client_secret=${key}`));
    const body = JSON.parse(String(res.body));
    expect([res.status, body.scope, body.expires_in]).toEqual([200, 'a:b', 300]);
    clock.advance(5 * 60_000);
    const d = await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${body.access_token}` } });
    expect(!d.ok && d.code).toBe('TOKEN_EXPIRED');
  });

  it.each([
    ['GET', { method: 'GET', path: '/t', headers: {} } as EndpointRequest, 405, 'invalid_request'],
    ['JSON body', { method: 'POST', path: '/t', headers: { 'content-type': 'application/json' }, body: '{}' } as EndpointRequest, 400, 'invalid_request'],
    ['no grant_type', form('scope=a'), 400, 'invalid_request'],
    ['another grant', form('grant_type=password&username=u&password=p'), 400, 'unsupported_grant_type'],
    ['repeated parameter', form('grant_type=client_credentials&grant_type=client_credentials'), 400, 'invalid_request'],
    ['no client authentication', form('grant_type=client_credentials'), 401, 'invalid_client'],
  ])('answers RFC 6749 errors: %s', async (_name, request, status, error) => {
    const { endpoint } = await withKey();
    const res = await endpoint(request);
    expect(res.status).toBe(status);
    expect(JSON.parse(String(res.body)).error).toBe(error);
    expect(res.headers['Cache-Control']).toBe('no-store');
  });

  it('refuses wrong, revoked or mismatched clients with invalid_client + Basic challenge, and extra scopes with invalid_scope', async () => {
    const { kw, key, id, endpoint } = await withKey();
    const other = await kw.keys.create({ owner: 'x', scopes: ['docs:read'] });
    const cases = [basic(id, key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a')), basic(other.record.id, key), basic(id, 'garbage'), 'Basic !!!'];
    for (const auth of cases) {
      const res = await endpoint(form('grant_type=client_credentials', { authorization: auth }));
      expect([res.status, JSON.parse(String(res.body)).error, res.headers['WWW-Authenticate']]).toEqual([401, 'invalid_client', 'Basic realm="keyward"']);
      expect(String(res.body)).not.toContain(key);
    }
    const both = await endpoint(form(`grant_type=client_credentials&client_secret=${key}`, { authorization: basic(id, key) }));
    expect(JSON.parse(String(both.body)).error).toBe('invalid_request');
    const wide = await endpoint(form('grant_type=client_credentials&scope=docs%3Aread%20admin', { authorization: basic(id, key) }));
    expect([wide.status, JSON.parse(String(wide.body)).error]).toEqual([400, 'invalid_scope']);
    await kw.keys.revoke(id);
    const revoked = await endpoint(form('grant_type=client_credentials', { authorization: basic(id, key) }));
    expect([revoked.status, JSON.parse(String(revoked.body)).error]).toEqual([401, 'invalid_client']);
  });
});

describe('an empty Authorization header at the token endpoint', () => {
  it('is no header: client_secret_post beside it is one client authentication, and without credentials none (not a failed one)', async () => {
    const clock = manualClock(T0);
    const kw = createKeyward({ clock, authFailures: { max: 1, window: '1m', block: '1m' }, tokens: { signing: { issuer: 'https://api.example', audience: 'api', keys: [{ secret: HS, kid: 'hs' }] } } });
    const { key, record } = await kw.keys.create({ owner: 'o', scopes: ['a:b'] });
    const endpoint = kw.tokens.endpoint();
    for (const authorization of ['', ' \t']) {
      const res = await endpoint({ ...form(`grant_type=client_credentials&client_id=${record.id}&client_secret=${key}`, { authorization }), remoteAddress: '192.0.2.1' });
      expect([res.status, JSON.parse(String(res.body)).scope]).toEqual([200, 'a:b']);
      const none = await endpoint({ ...form('grant_type=client_credentials', { authorization }), remoteAddress: '192.0.2.1' });
      expect([none.status, JSON.parse(String(none.body)).error_description]).toEqual([401, 'Client authentication is required.']);
    }
    // none of these counted as a failed authentication (one would have blocked the address)
    const after = await endpoint({ ...form(`grant_type=client_credentials&client_id=${record.id}&client_secret=${key}`), remoteAddress: '192.0.2.1' });
    expect(after.status).toBe(200);
    await kw.close();
  });
});

describe("revoke(jti, until) given a JWT's exp in seconds", () => {
  it('is refused, naming "until", rather than stored as a revocation that ended in 1970 and revokes nothing', async () => {
    const clock = manualClock(T0);
    const kw = createKeyward({ clock, tokens: { signing: { issuer: 'https://api.example', audience: 'api', keys: [{ secret: HS, kid: 'hs' }] } } });
    const seen: KeywardEvent[] = [];
    kw.on('token.revoked', (e) => { seen.push(e); });
    const issued = await kw.tokens.issue({ subject: 'svc', ttl: '10m' });
    const verified = await kw.tokens.verify(issued.token);
    const exp = 'claims' in verified ? verified.claims.exp! : NaN;
    for (const until of [exp, new Date(exp)]) await expect(kw.tokens.revoke(issued.jti, until)).rejects.toThrow(new TypeError('keyward: "until" is in ms since the epoch, and this one is in 1970: a JWT\'s "exp" is in seconds (pass exp * 1000)'));
    expect(await kw.tokens.isRevoked(issued.jti)).toBe(false);
    await kw.flushEvents();
    expect(seen).toEqual([]);
    await kw.tokens.revoke(issued.jti, exp * 1000);
    expect('principal' in (await kw.tokens.verify(issued.token))).toBe(false);
    await kw.tokens.revoke('long-gone', T0 - 60_000); // a time in ms already past is taken: the token has expired anyway
    await kw.close();
  });
});

describe('a parameter sent without a value at the token endpoint', () => {
  it('is omitted (RFC 6749 §3.1): an empty client_id or client_secret beside Basic is neither a second authentication nor a failed one', async () => {
    const clock = manualClock(T0);
    const kw = createKeyward({ clock, authFailures: { max: 1, window: '1m', block: '1m' }, tokens: { signing: { issuer: 'https://api.example', audience: 'api', keys: [{ secret: HS, kid: 'hs' }] } } });
    const { key, record } = await kw.keys.create({ owner: 'o', scopes: ['a:b'] });
    const endpoint = kw.tokens.endpoint();
    for (const body of ['client_secret=', 'client_id=', 'client_id=&client_secret=', 'scope=&client_id=']) {
      const res = await endpoint({ ...form(`grant_type=client_credentials&${body}`, { authorization: basic(record.id, key) }), remoteAddress: '192.0.2.1' });
      expect([body, res.status, JSON.parse(String(res.body)).scope]).toEqual([body, 200, 'a:b']);
    }
    const none = await endpoint({ ...form('grant_type=client_credentials&client_id=&client_secret='), remoteAddress: '192.0.2.1' });
    expect([none.status, JSON.parse(String(none.body)).error_description]).toEqual([401, 'Client authentication is required.']);
    expect((await endpoint({ ...form(`grant_type=client_credentials&client_id=${record.id}&client_secret=${key}`), remoteAddress: '192.0.2.1' })).status).toBe(200); // nothing counted
    await kw.close();
  });
});

describe('revoke(jti) without the token\'s expiry', () => {
  it('keeps the id as long as a token can live (signing.maxTtl), not just revocationTtl: a revoked token never works again before its exp', async () => {
    const clock = manualClock(T0);
    const kw = createKeyward({ clock, tokens: { revocationTtl: '1h', signing: { issuer: 'https://api.example', audience: 'api', maxTtl: '7d', keys: [{ secret: HS, kid: 'hs' }] } } });
    const long = await kw.tokens.issue({ subject: 'svc', ttl: '7d' });
    const verdict = async () => {
      const r = await kw.tokens.verify(long.token);
      return 'principal' in r ? 'valid' : r.code;
    };
    await kw.tokens.revoke(long.jti);
    expect(await verdict()).toBe('TOKEN_INVALID');
    clock.advance(25 * 3_600_000); // past revocationTtl and the old 24-hour default, well within the token's 7 days
    expect(await verdict()).toBe('TOKEN_INVALID');
    expect(await kw.tokens.isRevoked(long.jti)).toBe(true);
    clock.advance(6 * 86_400_000); // past the token's exp: the entry may go
    expect(await kw.tokens.isRevoked(long.jti)).toBe(false);
    await kw.close();
  });

  it('keeps it for good when a trusted issuer has no maxTokenAge: its tokens may live any length of time', async () => {
    const clock = manualClock(T0);
    const ISS = 'https://idp.example';
    const kw = createKeyward({ clock, tokens: { revocationTtl: '1h', issuers: [{ issuer: ISS, audience: 'api', secret: HS, algorithms: ['HS256'] }] } });
    const token = await new SignJWT({ sub: 'svc', jti: 'ext-1' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISS).setAudience('api').setIssuedAt(T0 / 1000).setExpirationTime(T0 / 1000 + 365 * 86_400).sign(new TextEncoder().encode(HS));
    const verdict = async () => {
      const r = await kw.tokens.verify(token);
      return 'principal' in r ? 'valid' : r.code;
    };
    expect(await verdict()).toBe('valid');
    await kw.tokens.revoke('ext-1');
    expect(await verdict()).toBe('TOKEN_INVALID');
    clock.advance(30 * 86_400_000); // past revocationTtl and the 24-hour default, within the token's year
    expect(await verdict()).toBe('TOKEN_INVALID');
    clock.advance(364 * 86_400_000); // past its exp too: still revoked (no shorter bound is known)
    expect(await kw.tokens.isRevoked('ext-1')).toBe(true);
    await kw.close();
  });
});
