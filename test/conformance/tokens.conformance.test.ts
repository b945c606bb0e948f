/**
 * Token scenarios, identical for every adapter: JWT verification through the pipeline, revocation, the OAuth 2.0
 * client-credentials token endpoint and the JWKS endpoint (core endpoints mounted by each adapter).
 */
import request from 'supertest';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { createKeyward, manualClock, type Keyward, type KeywardEvent, type KeywardOptions } from '@keyward/core';
import { ADAPTERS, answerOf, DEFAULT_ROUTES, type RunningApp } from './harness';
import { onStores } from './stores';

const SECRET = 'conformance-hmac-secret-0123456789abcdef';
const ISS = 'https://idp.example/';
const AUD = 'docs-api';
const challenge = (title: string) => `Bearer realm="keyward", error="invalid_token", error_description="${title}"`;
/** A token endpoint's error (RFC 6749 §5.2): JSON, `no-store` and `no-cache`, the `Basic` challenge with `invalid_client`. */
const oauthError = (status: number, error: string, description: string) => ({
  status,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache', ...(error === 'invalid_client' ? { 'www-authenticate': 'Basic realm="keyward"' } : {}) },
  body: { error, error_description: description },
});
const problem = (code: 'TOKEN_INVALID' | 'TOKEN_EXPIRED', detail: string) => ({
  type: `urn:keyward:problem:${code.toLowerCase().replace('_', '-')}`,
  title: code === 'TOKEN_INVALID' ? 'Invalid token' : 'Token expired',
  status: 401,
  detail,
  code,
});

describe.each(ADAPTERS)('conformance: tokens on $name', (adapter) => {
  let kw: Keyward;
  let app: RunningApp;
  let key: string;
  let keyId: string;
  const clock = manualClock(Date.parse('2026-04-01T08:00:00Z'));
  const now = () => Math.floor(clock() / 1000);

  const external = (payload: JWTPayload = {}, o: { alg?: string; secret?: string; exp?: number } = {}) =>
    new SignJWT({ iss: ISS, aud: AUD, sub: 'user-1', scope: 'docs:read users:view', ...payload })
      .setProtectedHeader({ alg: o.alg ?? 'HS256' })
      .setIssuedAt(now())
      .setExpirationTime(o.exp ?? now() + 300)
      .sign(new TextEncoder().encode(o.secret ?? SECRET));

  beforeAll(async () => {
    kw = createKeyward(onStores({
      clock,
      tokens: {
        issuers: [{ issuer: ISS, audience: AUD, secret: SECRET, algorithms: ['HS256'] }],
        signing: { issuer: 'https://api.example', audience: AUD, keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k1' }], ttl: '10m' },
      },
    }));
    app = await adapter.start({
      keyward: kw,
      routes: DEFAULT_ROUTES,
      endpoints: [
        { method: 'POST', path: '/oauth/token', handler: kw.tokens.endpoint() },
        { method: 'GET', path: '/.well-known/jwks.json', handler: kw.tokens.jwksEndpoint() },
      ],
    });
    const created = await kw.keys.create({ owner: 'acme', scopes: ['docs:read', 'users:view'], plan: 'pro' });
    key = created.key;
    keyId = created.record.id;
  });
  afterAll(async () => {
    await app.close();
    await kw.close();
  });

  const bearer = (path: string, token: string) => request(app.url).get(path).set('Authorization', `Bearer ${token}`);
  const refused = async (token: string, code: 'TOKEN_INVALID' | 'TOKEN_EXPIRED', detail: string) => {
    const res = await bearer('/docs', token);
    expect(answerOf(res)).toEqual({
      status: 401,
      headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', 'www-authenticate': challenge(code === 'TOKEN_INVALID' ? 'Invalid token' : 'Token expired') },
      body: problem(code, detail),
    });
    expect(res.text).not.toContain(token.split('.')[2]);
  };

  it('valid token: 200 with a token principal', async () => {
    const principal = { ok: true, principal: { id: 'user-1', owner: 'user-1', type: 'token', scopes: ['docs:read', 'users:view'] } };
    expect(answerOf(await bearer('/docs', await external()))).toEqual({ status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: principal });
    expect(answerOf(await bearer('/both', await external()))).toEqual({ status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: principal });
  });

  it('expired token: 401 TOKEN_EXPIRED', async () => {
    await refused(await external({}, { exp: now() - 1 }), 'TOKEN_EXPIRED', 'The token has expired.');
  });

  it('not yet valid: 401 TOKEN_INVALID', async () => {
    await refused(await external({ nbf: now() + 120 }), 'TOKEN_INVALID', 'The token is not yet valid.');
  });

  it('wrong issuer: 401', async () => {
    await refused(await external({ iss: 'https://other-idp.example/' }), 'TOKEN_INVALID', "The token's issuer is not trusted.");
  });

  it('wrong audience: 401', async () => {
    await refused(await external({ aud: 'another-api' }), 'TOKEN_INVALID', 'The token\'s "aud" claim is not accepted.');
  });

  it('disallowed algorithm: 401', async () => {
    await refused(await external({}, { alg: 'HS512', secret: SECRET + SECRET }), 'TOKEN_INVALID', "The token's algorithm is not allowed.");
  });

  it('tampered signature and tampered payload: 401', async () => {
    const token = await external();
    const [h, p, s] = token.split('.') as [string, string, string];
    const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
    await refused(`${h}.${p}.${flipped}`, 'TOKEN_INVALID', "The token's signature is not valid.");
    const forged = Buffer.from(JSON.stringify({ iss: ISS, aud: AUD, sub: 'admin', scope: '*', exp: now() + 300 })).toString('base64url');
    await refused(`${h}.${forged}.${s}`, 'TOKEN_INVALID', "The token's signature is not valid.");
  });

  it('revoked token: 401 on the next request', async () => {
    const issued = await kw.tokens.issue({ subject: 'svc-1', scopes: ['docs:read'] });
    expect((await bearer('/docs', issued.token)).status).toBe(200);
    await kw.tokens.revoke(issued.jti, issued.expiresAt);
    await refused(issued.token, 'TOKEN_INVALID', 'The token has been revoked.');
  });

  it('insufficient scope: 403 insufficient_scope', async () => {
    const res = await request(app.url).post('/docs').set('Authorization', `Bearer ${await external()}`);
    expect(answerOf(res)).toEqual({
      status: 403,
      headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', 'www-authenticate': 'Bearer realm="keyward", error="insufficient_scope", scope="docs:write"' },
      body: { type: 'urn:keyward:problem:insufficient-scope', title: 'Insufficient scope', status: 403, detail: 'This request needs: docs:write.', code: 'INSUFFICIENT_SCOPE' },
    });
  });

  const token = () => request(app.url).post('/oauth/token').type('form');

  it('exchange: API key (Basic) → token that the pipeline accepts', async () => {
    const res = await token().auth(keyId, key).send('grant_type=client_credentials&scope=docs:read');
    expect(answerOf(res)).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' },
      body: { access_token: expect.any(String), token_type: 'Bearer', expires_in: 600, scope: 'docs:read' },
    });
    const use = await bearer('/docs', res.body.access_token);
    expect(use.status).toBe(200);
    expect(use.body).toEqual({ ok: true, principal: { id: keyId, owner: 'acme', type: 'token', scopes: ['docs:read'] } });
    expect((await bearer('/both', res.body.access_token)).status).toBe(403);
  });

  it('exchange: a token lives only as long as its key is in good standing (disable, enable, revoke)', async () => {
    const other = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const res = await token().auth(other.record.id, other.key).send('grant_type=client_credentials');
    const access: string = res.body.access_token;
    expect((await bearer('/docs', access)).status).toBe(200);
    await kw.keys.disable(other.record.id);
    await refused(access, 'TOKEN_INVALID', 'The API key this token was issued for can no longer be used.');
    await kw.keys.enable(other.record.id);
    expect((await bearer('/docs', access)).status).toBe(200);
    await kw.keys.revoke(other.record.id);
    await refused(access, 'TOKEN_INVALID', 'The API key this token was issued for can no longer be used.');
    expect(await kw.tokens.verify(access)).toMatchObject({ code: 'TOKEN_INVALID' });
    // another issuer's client_id is its own business, not a keyward key id
    expect((await bearer('/docs', await external({ client_id: other.record.id }))).status).toBe(200);
  });

  it("exchange: 503 STORE_UNAVAILABLE, never a stale record, when the key store fails while the token's key is fetched", async () => {
    const other = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const access: string = (await token().auth(other.record.id, other.key).send('grant_type=client_credentials')).body.access_token;
    expect((await bearer('/docs', access)).status).toBe(200);
    await kw.keys.update(other.record.id, { name: 'changed' }); // drops the cached record: the next request asks the store
    const spy = jest.spyOn(kw.config.store, 'get').mockRejectedValue(new Error('store down'));
    try {
      const res = await bearer('/docs', access);
      expect([res.status, res.headers['retry-after'], res.headers['content-type'], res.body.code]).toEqual([503, '1', 'application/problem+json', 'STORE_UNAVAILABLE']);
      expect(res.text).not.toContain('store down');
      expect(res.text).not.toContain(other.record.id);
    } finally {
      spy.mockRestore();
    }
    expect((await bearer('/docs', access)).status).toBe(200);
  });

  it('exchange: client_secret_post with every scope of the key', async () => {
    const res = await token().send({ grant_type: 'client_credentials', client_id: keyId, client_secret: key });
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('docs:read users:view');
  });

  it('exchange errors per RFC 6749 §5.2', async () => {
    const unsupported = await token().auth(keyId, key).send('grant_type=password&username=a&password=b');
    expect(answerOf(unsupported)).toEqual(oauthError(400, 'unsupported_grant_type', 'Only the client_credentials grant is supported.'));
    const missing = await token().auth(keyId, key).send('scope=docs:read');
    expect(answerOf(missing)).toEqual(oauthError(400, 'invalid_request', 'The grant_type parameter is missing.'));
    const badClient = await token().auth(keyId, 'kw_live_not-a-key').send('grant_type=client_credentials');
    expect(answerOf(badClient)).toEqual(oauthError(401, 'invalid_client', 'Client authentication failed.'));
    const badPost = await token().send({ grant_type: 'client_credentials', client_id: keyId, client_secret: 'kw_live_not-a-key' });
    expect(answerOf(badPost)).toEqual(oauthError(401, 'invalid_client', 'Client authentication failed.'));
    const noClient = await token().send('grant_type=client_credentials');
    expect(answerOf(noClient)).toEqual(oauthError(401, 'invalid_client', 'Client authentication is required.'));
    const wide = await token().auth(keyId, key).send('grant_type=client_credentials&scope=docs:write');
    expect(answerOf(wide)).toEqual(oauthError(400, 'invalid_scope', 'The requested scope exceeds the scopes of the key.'));
    const json = await request(app.url).post('/oauth/token').auth(keyId, key).set('Content-Type', 'application/json').send('{"grant_type":"client_credentials"}');
    expect(answerOf(json)).toEqual(oauthError(400, 'invalid_request', 'The body must be application/x-www-form-urlencoded.'));
    for (const r of [unsupported, missing, badClient, badPost, wide, json]) expect(r.text).not.toContain(key);
  });

  it('exchange: bad client secrets block the address at the token endpoint and in the pipeline until the block ends', async () => {
    const blockClock = manualClock(Date.parse('2026-04-01T08:00:00Z'));
    const guarded = createKeyward(onStores({
      clock: blockClock,
      authFailures: { max: 3, window: '1m', block: '2m' },
      tokens: { signing: { issuer: 'https://api.example', audience: AUD, keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k1' }] } },
    }));
    const guardedApp = await adapter.start({ keyward: guarded, routes: DEFAULT_ROUTES, endpoints: [{ method: 'POST', path: '/oauth/token', handler: guarded.tokens.endpoint() }] });
    try {
      const client = await guarded.keys.create({ owner: 'acme', scopes: ['docs:read'] });
      const wrong = client.key.slice(0, -1) + (client.key.endsWith('a') ? 'b' : 'a');
      const exchange = (secret: string) => request(guardedApp.url).post('/oauth/token').type('form').auth(client.record.id, secret).send('grant_type=client_credentials');
      for (let i = 0; i < 3; i++) expect((await exchange(wrong)).status).toBe(401);
      const blocked = await exchange(client.key);
      expect([blocked.status, blocked.headers['retry-after'], blocked.headers['cache-control']]).toEqual([429, '120', 'no-store']);
      expect(blocked.body).toEqual({ error: 'temporarily_unavailable', error_description: 'Too many failed authentication attempts from this address; try again later.' });
      const route = await request(guardedApp.url).get('/docs').set('X-API-Key', client.key);
      expect([route.status, route.headers['retry-after'], route.body.code]).toEqual([429, '120', 'AUTH_BLOCKED']);
      for (const r of [blocked, route]) expect([r.headers['ratelimit-policy'], r.headers['ratelimit']]).toEqual(['"auth-failures";q=3;w=60', '"auth-failures";r=0;t=120']);
      for (const r of [blocked, route]) expect(r.text).not.toContain(client.key);
      blockClock.advance(120_000);
      const again = await exchange(client.key);
      expect([again.status, again.body.token_type]).toEqual([200, 'Bearer']);
      expect((await request(guardedApp.url).get('/docs').set('X-API-Key', client.key)).status).toBe(200);
    } finally {
      await guardedApp.close();
      await guarded.close();
    }
  });

  /** Runs `scenario` on an app of its own, behind the trusted loopback proxy (client addresses in X-Forwarded-For). */
  async function behindProxy(options: KeywardOptions, scenario: (s: { kw: Keyward; url: string; exchange: (client: { id: string; key: string }, xff: string) => request.Test }) => Promise<void>) {
    const own = createKeyward(onStores({ clock, trustProxy: 'loopback', ...options, tokens: { signing: { issuer: 'https://api.example', audience: AUD, keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k1' }] } } }));
    const ownApp = await adapter.start({ keyward: own, routes: DEFAULT_ROUTES, endpoints: [{ method: 'POST', path: '/oauth/token', handler: own.tokens.endpoint() }] });
    try {
      await scenario({ kw: own, url: ownApp.url, exchange: (client, xff) => request(ownApp.url).post('/oauth/token').type('form').set('X-Forwarded-For', xff).auth(client.id, client.key).send('grant_type=client_credentials') });
    } finally {
      await ownApp.close();
      await own.close();
    }
  }

  it("exchange: refused (403 unauthorized_client) where the key's restrictions or the global policy forbid its use; routes restrictions do not apply", async () => {
    await behindProxy({ restrictions: { ip: { deny: ['10.66.0.0/16'] } } }, async ({ kw: own, url, exchange }) => {
      const created = await own.keys.create({ owner: 'acme', scopes: ['docs:read'], restrictions: { ip: { allow: ['10.0.0.0/8'] }, routes: [{ methods: ['GET'], path: '/docs' }] } });
      const client = { id: created.record.id, key: created.key };
      const events: KeywardEvent[] = [];
      own.on('access.denied', (e) => void events.push(e));
      for (const [xff, description] of [['192.0.2.7', 'Requests from this address are not allowed.'], ['10.66.1.1', 'Requests from this address are not allowed.']] as const) {
        const refused = await exchange(client, xff);
        expect([refused.status, refused.headers['cache-control'], refused.headers['www-authenticate']]).toEqual([403, 'no-store', undefined]);
        expect(refused.headers['content-type']).toMatch(/^application\/json/);
        expect(refused.body).toEqual({ error: 'unauthorized_client', error_description: description });
        expect(refused.text).not.toContain(created.key);
        const route = await request(url).get('/docs').set('X-Forwarded-For', xff).set('X-API-Key', created.key);
        expect([route.status, route.body.code]).toEqual([403, 'IP_FORBIDDEN']);
      }
      const inside = await exchange(client, '10.1.2.3');
      expect([inside.status, inside.body.token_type]).toEqual([200, 'Bearer']); // /oauth/token is not one of the key's routes, and that is not asked
      expect((await request(url).get('/docs').set('X-Forwarded-For', '10.1.2.3').set('Authorization', `Bearer ${inside.body.access_token}`)).status).toBe(200);
      await own.flushEvents();
      const fromEndpoint = events.filter((e) => e.data?.['endpoint'] === 'token');
      expect(fromEndpoint.map((e) => [e.reason, e.clientAddress, e.keyId])).toEqual([['IP_FORBIDDEN', '192.0.2.7', client.id], ['IP_FORBIDDEN', '10.66.1.1', client.id]]);
      expect(JSON.stringify(events)).not.toContain(created.key);
    });
  });

  it('exchange: before-auth address limits count API requests and exchanges of an address together (429 temporarily_unavailable)', async () => {
    await behindProxy({ limits: { rules: { perAddress: { points: 2, window: '1m', by: 'address', beforeAuth: true } } } }, async ({ kw: own, url, exchange }) => {
      const created = await own.keys.create({ owner: 'acme', scopes: ['docs:read'] });
      const client = { id: created.record.id, key: created.key };
      expect((await request(url).get('/docs').set('X-Forwarded-For', '203.0.113.5').set('X-API-Key', created.key)).status).toBe(200);
      expect((await exchange(client, '203.0.113.5')).status).toBe(200);
      const refused = await exchange(client, '203.0.113.5');
      expect([refused.status, refused.headers['retry-after'], refused.headers['ratelimit-policy'], refused.headers['ratelimit'], refused.headers['cache-control']]).toEqual([429, '60', '"perAddress";q=2;w=60', '"perAddress";r=0;t=60', 'no-store']);
      expect(refused.body).toEqual({ error: 'temporarily_unavailable', error_description: 'Rate limit exceeded: perAddress.' });
      const route = await request(url).get('/docs').set('X-Forwarded-For', '203.0.113.5').set('X-API-Key', created.key);
      expect([route.status, route.body.code]).toEqual([429, 'RATE_LIMITED']);
      expect((await exchange(client, '203.0.113.6')).status).toBe(200);
    });
  });

  it('JWKS endpoint: the public signing keys', async () => {
    const res = await request(app.url).get('/.well-known/jwks.json');
    expect(answerOf(res)).toEqual({ status: 200, headers: { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=300' }, body: kw.tokens.jwks() });
    expect(JSON.parse(res.text).keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-256', kid: 'k1', alg: 'ES256', use: 'sig' })]);
    expect(res.text).not.toMatch(/"d":/);
  });
});
