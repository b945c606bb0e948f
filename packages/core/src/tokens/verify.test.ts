import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, exportJWK, type JWTPayload } from 'jose';
import { createKeyward, manualClock, type KeywardEvent, type KeywardOptions } from '../index';

const T0 = Date.parse('2026-05-01T12:00:00Z');
const SECRET = 'an-hmac-secret-that-is-long-enough-0123456789';
const ISS = 'https://auth.example.com/';
const AUD = 'api://docs';

function hs(payload: JWTPayload, options: { secret?: string; alg?: string; iat?: number; exp?: number | null; header?: Record<string, unknown> } = {}) {
  const iat = options.iat ?? Math.floor(T0 / 1000);
  let jwt = new SignJWT({ iss: ISS, aud: AUD, sub: 'user-1', ...payload }).setProtectedHeader({ alg: options.alg ?? 'HS256', ...(options.header ?? {}) }).setIssuedAt(iat);
  if (options.exp !== null) jwt = jwt.setExpirationTime(options.exp ?? iat + 600);
  return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET));
}

function setup(extra: Partial<KeywardOptions> = {}) {
  const clock = manualClock(T0);
  const kw = createKeyward({
    clock,
    tokens: { issuers: [{ issuer: ISS, audience: AUD, secret: SECRET, algorithms: ['HS256'] }] },
    ...extra,
  });
  const check = (token: string, scopes?: string | string[]) => kw.check({ method: 'GET', path: '/docs', headers: { authorization: `Bearer ${token}` } }, scopes === undefined ? {} : { scopes });
  return { kw, clock, check };
}

describe('token verification through check()', () => {
  it('accepts a valid token and maps its claims to a token principal', async () => {
    const { check, kw } = setup();
    const d = await check(await hs({ scope: 'docs:read users:view', jti: 'j1' }), 'docs:read');
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.principal).toEqual({ type: 'token', id: 'user-1', keyId: 'j1', owner: 'user-1', subject: 'user-1', issuer: ISS, scopes: ['docs:read', 'users:view'], metadata: {}, expiresAt: T0 + 600_000 });
    await kw.close();
  });

  it('reads scp or permissions arrays and maps owner, plan and metadata by option', async () => {
    const { check } = setup({ tokens: { issuers: [{ issuer: ISS, audience: AUD, secret: SECRET, algorithms: ['HS256'], claims: { scopes: ['permissions'], owner: 'org', plan: 'tier', metadata: ['email'] } }] } });
    const d = await check(await hs({ permissions: ['docs:read', 42, 'bad scope'], org: 'acme', tier: 'pro', email: 'a@b.c', scope: 'ignored' }));
    expect(d.ok && d.principal).toMatchObject({ owner: 'acme', plan: 'pro', scopes: ['docs:read'], metadata: { email: 'a@b.c' } });
    const { check: scp } = setup();
    const e = await scp(await hs({ scp: ['a:b', 'c:d'] }));
    expect(e.ok && e.principal?.scopes).toEqual(['a:b', 'c:d']);
  });

  it.each([
    ['expired', () => hs({}, { exp: Math.floor(T0 / 1000) - 1 }), 'TOKEN_EXPIRED'],
    ['not yet valid', () => hs({ nbf: Math.floor(T0 / 1000) + 60 }), 'TOKEN_INVALID'],
    ['without exp', () => hs({}, { exp: null }), 'TOKEN_INVALID'],
    ['wrong audience', () => hs({ aud: 'api://other' }), 'TOKEN_INVALID'],
    ['untrusted issuer', () => hs({ iss: 'https://evil.example/' }), 'TOKEN_INVALID'],
    ['another secret', () => hs({}, { secret: 'x'.repeat(40) }), 'TOKEN_INVALID'],
    ['a disallowed algorithm', () => hs({}, { alg: 'HS512', secret: SECRET + SECRET }), 'TOKEN_INVALID'],
    ['no subject', () => hs({ sub: undefined }), 'TOKEN_INVALID'],
  ])('refuses a token %s with 401', async (_name, make, code) => {
    const { check } = setup();
    const token = await make();
    const d = await check(token);
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect([d.status, d.code]).toEqual([401, code]);
    expect(d.headers['WWW-Authenticate']).toContain('error="invalid_token"');
    expect(JSON.stringify(d)).not.toContain(token);
    expect(JSON.stringify(d)).not.toContain(token.split('.')[2]);
  });

  it.each([
    ['nbf', { nbf: String(Math.floor(T0 / 1000) - 60) }],
    ['iat', { iat: 'yesterday' }],
    ['exp', { exp: String(Math.floor(T0 / 1000) + 60) }],
  ])('names a "%s" claim that is not a number as not accepted, not as a moment the token is refused at', async (name, claims) => {
    const { check } = setup();
    const payload = { iss: ISS, aud: AUD, sub: 'user-1', exp: Math.floor(T0 / 1000) + 600, ...claims } as unknown as JWTPayload;
    const d = await check(await new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET)));
    expect(!d.ok && [d.status, d.code, d.problem.detail]).toEqual([401, 'TOKEN_INVALID', `The token's "${name}" claim is not accepted.`]);
  });

  it('honours the clock tolerance and the maximum token age with the injected clock', async () => {
    const { check, clock } = setup({ tokens: { cache: false, issuers: [{ issuer: ISS, audience: AUD, secret: SECRET, algorithms: ['HS256'], clockTolerance: '30s', maxTokenAge: '5m' }] } });
    const token = await hs({}, { exp: Math.floor(T0 / 1000) + 600 });
    clock.advance(4 * 60_000);
    expect((await check(token)).ok).toBe(true);
    clock.advance(91_000);
    const d = await check(token);
    expect(!d.ok && d.code).toBe('TOKEN_EXPIRED');
    const early = await hs({ nbf: Math.floor(clock() / 1000) + 20 }, { iat: Math.floor(clock() / 1000) });
    expect((await check(early)).ok).toBe(true);
  });

  it('refuses a token issued in the future, with or without a maximum age (leeway: the clock tolerance, at least 1 min)', async () => {
    const { check } = setup({ tokens: { cache: false, issuers: [{ issuer: ISS, audience: AUD, secret: SECRET, algorithms: ['HS256'] }] } });
    const now = Math.floor(T0 / 1000);
    const later = await check(await hs({}, { iat: now + 3600, exp: now + 7200 }));
    expect(!later.ok && [later.code, later.problem.detail]).toEqual(['TOKEN_INVALID', 'The token was issued in the future.']);
    expect((await check(await hs({}, { iat: now + 61, exp: now + 600 }))).ok).toBe(false);
    expect((await check(await hs({}, { iat: now + 60, exp: now + 600 }))).ok).toBe(true); // an issuer's clock a little ahead
    const tolerant = setup({ tokens: { cache: false, issuers: [{ issuer: ISS, audience: AUD, secret: SECRET, algorithms: ['HS256'], clockTolerance: '5m' }] } });
    expect((await tolerant.check(await hs({}, { iat: now + 290, exp: now + 600 }))).ok).toBe(true);
  });

  it('gives an iat a little ahead the same minute of leeway with a maximum age as without one (jose allowed none past the tolerance)', async () => {
    const { check } = setup({ tokens: { cache: false, issuers: [{ issuer: ISS, audience: AUD, secret: SECRET, algorithms: ['HS256'], maxTokenAge: '1h' }] } });
    const now = Math.floor(T0 / 1000);
    for (const ahead of [1, 5, 60]) expect([ahead, (await check(await hs({}, { iat: now + ahead, exp: now + 600 }))).ok]).toEqual([ahead, true]);
    const later = await check(await hs({}, { iat: now + 61, exp: now + 600 }));
    expect(!later.ok && [later.code, later.problem.detail]).toEqual(['TOKEN_INVALID', 'The token was issued in the future.']);
    const old = await check(await hs({}, { iat: now - 3601, exp: now + 600 }));
    expect(!old.ok && [old.code, old.problem.detail]).toEqual(['TOKEN_EXPIRED', 'The token is too old.']);
    expect((await check(await hs({}, { iat: now - 3600, exp: now + 600 }))).ok).toBe(true);
    const noIat = await check(await new SignJWT({ iss: ISS, aud: AUD, sub: 'user-1' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now + 600).sign(new TextEncoder().encode(SECRET)));
    expect(!noIat.ok && [noIat.code, noIat.problem.detail]).toEqual(['TOKEN_INVALID', 'The token has no "iat" claim.']);
    const badIat = await check(await new SignJWT({ iss: ISS, aud: AUD, sub: 'user-1', iat: 'yesterday' } as unknown as JWTPayload).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now + 600).sign(new TextEncoder().encode(SECRET)));
    expect(!badIat.ok && badIat.code).toBe('TOKEN_INVALID');
  });

  it('refuses a token whose jti could never be revoked (too long, not a string, not storable)', async () => {
    const { check, kw } = setup({ tokens: { cache: false, issuers: [{ issuer: ISS, audience: AUD, secret: SECRET, algorithms: ['HS256'] }] } });
    for (const jti of ['j'.repeat(257), 5, '', 'half \ud800 pair']) {
      const d = await check(await hs({ jti } as JWTPayload));
      expect(!d.ok && [d.code, d.problem.detail]).toEqual(['TOKEN_INVALID', 'The token\'s "jti" claim is not accepted.']);
    }
    const longest = 'j'.repeat(256);
    expect((await check(await hs({ jti: longest }))).ok).toBe(true);
    await kw.tokens.revoke(longest);
    expect((await check(await hs({ jti: longest }))).ok).toBe(false);
    expect((await check(await hs({}))).ok).toBe(true); // no jti at all: accepted unless required
  });

  it('refuses a token whose jti holds a key or a JWT: tokens.revoke() refuses that id, so the token could never be revoked', async () => {
    const { check, kw } = setup({ tokens: { cache: false, issuers: [{ issuer: ISS, audience: AUD, secret: SECRET, algorithms: ['HS256'] }] } });
    const { key } = await kw.keys.create({ owner: 'o' });
    const jwt = await hs({});
    for (const jti of [key, `id-${key}`, jwt]) {
      await expect(kw.tokens.revoke(jti)).rejects.toThrow(TypeError);
      const d = await check(await hs({ jti }));
      expect(!d.ok && [d.code, d.problem.detail]).toEqual(['TOKEN_INVALID', 'The token\'s "jti" claim is not accepted.']);
    }
  });

  it('requires typ when configured', async () => {
    const { check } = setup({ tokens: { issuers: [{ issuer: ISS, audience: AUD, secret: SECRET, algorithms: ['HS256'], typ: 'at+jwt' }] } });
    expect((await check(await hs({}))).ok).toBe(false);
    expect((await check(await hs({}, { header: { typ: 'at+jwt' } }))).ok).toBe(true);
  });

  it('refuses a token signed by issuer A but claiming issuer B', async () => {
    const a = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const b = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const clock = manualClock(T0);
    const kw = createKeyward({ clock, tokens: { issuers: [
      { issuer: 'https://a.example/', audience: AUD, publicKey: a.publicKey.export({ type: 'spki', format: 'pem' }) as string },
      { issuer: 'https://b.example/', audience: AUD, publicKey: await exportJWK(b.publicKey) },
    ] } });
    const sign = (iss: string, key: typeof a.privateKey) => new SignJWT({ sub: 's', aud: AUD }).setProtectedHeader({ alg: 'ES256' }).setIssuer(iss).setIssuedAt(T0 / 1000).setExpirationTime(T0 / 1000 + 60).sign(key);
    const check = async (t: string) => kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${t}` } });
    expect((await check(await sign('https://a.example/', a.privateKey))).ok).toBe(true);
    expect((await check(await sign('https://b.example/', b.privateKey))).ok).toBe(true);
    const forged = await check(await sign('https://b.example/', a.privateKey));
    expect(!forged.ok && forged.code).toBe('TOKEN_INVALID');
  });

  it('tries each key of a set that a token without kid matches (an issuer rotating kid-less keys)', async () => {
    const [a, b, stranger] = [0, 1, 2].map(() => generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    const kw = createKeyward({ clock: manualClock(T0), tokens: { cache: false, issuers: [{ issuer: ISS, audience: AUD, jwks: { keys: [await exportJWK(a!.publicKey), await exportJWK(b!.publicKey)] } }] } });
    const sign = (key: typeof a, exp = T0 / 1000 + 60) => new SignJWT({ sub: 's', aud: AUD, iss: ISS }).setProtectedHeader({ alg: 'ES256' }).setIssuedAt(T0 / 1000 - 60).setExpirationTime(exp).sign(key!.privateKey);
    const check = async (t: string) => kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${t}` } });
    expect(await check(await sign(a))).toMatchObject({ ok: true });
    expect(await check(await sign(b))).toMatchObject({ ok: true });
    expect(await check(await sign(stranger))).toMatchObject({ ok: false, code: 'TOKEN_INVALID', problem: { detail: "The token's signature is not valid." } });
    expect(await check(await sign(b, T0 / 1000 - 1))).toMatchObject({ ok: false, code: 'TOKEN_EXPIRED' });
  });

  it('keeps API keys on the key authenticator', async () => {
    const { kw, check } = setup();
    const { key } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const d = await check(key);
    expect(d.ok && d.principal?.type).toBe('key');
  });

  it('caches verified tokens but checks revocation every time, and never past exp', async () => {
    const { kw, check, clock } = setup();
    const token = await hs({ jti: 'cached-1' }, { exp: Math.floor(T0 / 1000) + 60 });
    expect((await check(token)).ok).toBe(true);
    expect((await check(token)).ok).toBe(true);
    const events: KeywardEvent[] = [];
    kw.on('token.revoked', (e) => { events.push(e); });
    await kw.tokens.revoke('cached-1', T0 + 60_000);
    const d = await check(token);
    expect(!d.ok && [d.code, d.problem.detail]).toEqual(['TOKEN_INVALID', 'The token has been revoked.']);
    await kw.flushEvents();
    expect(events[0]).toMatchObject({ type: 'token.revoked', data: { jti: 'cached-1' } });
    const other = await hs({ jti: 'cached-2' }, { exp: Math.floor(T0 / 1000) + 60 });
    expect((await check(other)).ok).toBe(true);
    clock.advance(60_000);
    const e = await check(other);
    expect(!e.ok && e.code).toBe('TOKEN_EXPIRED');
    expect(await kw.tokens.isRevoked('cached-1')).toBe(false);
  });

  it('hands kw.tokens.verify() callers a cached token they cannot change for the requests after them', async () => {
    const { kw, check } = setup();
    const token = await hs({ scope: 'docs:read', jti: 'c1', profile: { role: 'reader' } });
    await kw.tokens.verify(token);
    const cached = (await kw.tokens.verify(token)) as { principal: unknown; claims: Record<string, unknown> };
    expect(() => { cached.principal = { type: 'token', id: 'admin', owner: 'admin', subject: 'admin', scopes: ['admin:all'], metadata: {} }; }).toThrow(TypeError);
    expect(() => { cached.claims['sub'] = 'admin'; }).toThrow(TypeError);
    expect(() => { (cached.claims['profile'] as Record<string, unknown>)['role'] = 'admin'; }).toThrow(TypeError);
    const d = await check(token);
    expect(d.ok && [d.principal?.id, d.principal?.scopes]).toEqual(['user-1', ['docs:read']]);
    expect(await kw.tokens.verify(token)).toMatchObject({ claims: { sub: 'user-1', profile: { role: 'reader' } } });
  });

  it('keeps a token revoked until its expiry refused through the clock tolerance that still accepts it', async () => {
    const { kw, check, clock } = setup({ tokens: { issuers: [{ issuer: ISS, audience: AUD, secret: SECRET, algorithms: ['HS256'], clockTolerance: '30s' }], signing: { issuer: 'https://api.example', keys: [{ secret: SECRET, kid: 'h' }], clockTolerance: '10s' } } });
    const exp = Math.floor(T0 / 1000) + 60;
    const token = await hs({ jti: 'tolerated-1' }, { exp });
    const own = await kw.tokens.issue({ subject: 'user-2', ttl: '60s' });
    await kw.tokens.revoke('tolerated-1', exp * 1000);
    await kw.tokens.revoke(own.jti, own.expiresAt);
    clock.advance(61_000); // past exp, within both tolerances
    for (const t of [token, own.token]) expect(await check(t)).toMatchObject({ ok: false, code: 'TOKEN_INVALID', problem: { detail: 'The token has been revoked.' } });
    clock.advance(30_000);
    expect(await check(token)).toMatchObject({ ok: false, code: 'TOKEN_EXPIRED' });
  });

  it('answers 503 when an injected revocation store fails, and uses it', async () => {
    const calls: string[] = [];
    let failing = false;
    const store = {
      async revoke(jti: string) { calls.push(`revoke:${jti}`); },
      async isRevoked(jti: string) { calls.push(`check:${jti}`); if (failing) throw new Error('down'); return false; },
    };
    const { check } = setup({ tokens: { revocationStore: store, issuers: [{ issuer: ISS, audience: AUD, secret: SECRET, algorithms: ['HS256'] }] } });
    const token = await hs({ jti: 'r1' });
    expect((await check(token)).ok).toBe(true);
    failing = true;
    const d = await check(token);
    expect(!d.ok && [d.status, d.code]).toEqual([503, 'STORE_UNAVAILABLE']);
    expect(calls).toEqual(['check:r1', 'check:r1']);
  });

  it('verifies against a remote JWKS with jose (keys fetched once, then cached)', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'r1', alg: 'RS256', use: 'sig' };
    let fetches = 0;
    const server: Server = createServer((_req, res) => { fetches++; res.setHeader('Content-Type', 'application/json'); res.end(JSON.stringify({ keys: [jwk] })); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    try {
      const clock = manualClock(Date.now());
      const kw = createKeyward({ clock, tokens: { cache: false, issuers: [{ issuer: ISS, audience: AUD, jwksUri: url, algorithms: ['RS256'] }] } });
      const now = Math.floor(clock() / 1000);
      const sign = (kid: string) => new SignJWT({ sub: 's', aud: AUD, iss: ISS }).setProtectedHeader({ alg: 'RS256', kid }).setIssuedAt(now).setExpirationTime(now + 60).sign(privateKey);
      const check = async (t: string) => kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${t}` } });
      expect((await check(await sign('r1'))).ok).toBe(true);
      expect((await check(await sign('r1'))).ok).toBe(true);
      expect(fetches).toBe(1);
      const unknown = await check(await sign('nope'));
      expect(!unknown.ok && unknown.code).toBe('TOKEN_INVALID');
      await kw.close();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('reports a remote JWKS that answers something other than a key set as unavailable, and answers 401 without it', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const answers: Record<string, [number, string]> = { '/status': [500, 'upstream secret: db password'], '/text': [200, 'not json'], '/error': [200, '{"error":"rate limited"}'], '/number': [200, '{"keys":5}'] };
    const server: Server = createServer((req, res) => { const [status, body] = answers[req.url ?? '']!; res.statusCode = status; res.end(body); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      for (const path of Object.keys(answers)) {
        const kw = createKeyward({ tokens: { issuers: [{ issuer: ISS, audience: AUD, jwksUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`, algorithms: ['ES256'] }] } });
        const events: KeywardEvent[] = [];
        kw.on('store.error', (e) => { events.push(e); });
        const t = await new SignJWT({ sub: 's', aud: AUD, iss: ISS }).setProtectedHeader({ alg: 'ES256' }).setIssuedAt().setExpirationTime('1m').sign(privateKey);
        const d = await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${t}` } });
        expect(!d.ok && [path, d.status, d.code]).toEqual([path, 401, 'TOKEN_INVALID']);
        expect(JSON.stringify(d)).not.toMatch(/secret|rate limited|JSON Web Key Set/);
        await kw.flushEvents();
        expect(events.map((e) => [path, e.reason, e.data])).toEqual([[path, 'JWKS_UNAVAILABLE', { issuer: ISS }]]);
        await kw.close();
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('answers 401, not 500, when the remote JWKS is unreachable', async () => {
    const kw = createKeyward({ tokens: { issuers: [{ issuer: ISS, audience: AUD, jwksUri: 'http://127.0.0.1:1/jwks', algorithms: ['ES256'], jwksCache: { timeout: '1s' } }] } });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const t = await new SignJWT({ sub: 's', aud: AUD, iss: ISS }).setProtectedHeader({ alg: 'ES256' }).setIssuedAt().setExpirationTime('1m').sign(privateKey);
    const d = await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${t}` } });
    expect(!d.ok && [d.status, d.code]).toEqual([401, 'TOKEN_INVALID']);
  });
});
