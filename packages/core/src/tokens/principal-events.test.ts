import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { compileScopes, createKeyward, manualClock, type KeywardEvent } from '../index';

const T0 = Date.parse('2026-05-01T12:00:00Z');
const SECRET = 'an-hmac-secret-that-is-long-enough-0123456789';
const ISS = 'https://idp.example/';

const sign = (payload: JWTPayload) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISS).setAudience('api').setIssuedAt(T0 / 1000).setExpirationTime(T0 / 1000 + 600).sign(new TextEncoder().encode(SECRET));

describe("an external issuer's sub, owner, plan and jti in events", () => {
  it('are redacted and cleaned of control characters in every request event, the principal keeping the claims as they are', async () => {
    const kw = createKeyward({ clock: manualClock(T0), tokens: { issuers: [{ issuer: ISS, audience: 'api', secret: SECRET, algorithms: ['HS256'], claims: { owner: 'org', plan: 'tier' } }] } });
    const { key } = await kw.keys.create({ owner: 'o', scopes: ['a:b'] });
    const jwt = await sign({ sub: 'someone' });
    const events: KeywardEvent[] = [];
    kw.on('*', (e) => { events.push(e); });
    const claims = { sub: `user\u001b[31m\nFAKE 200 OK\u2028${key}`, org: `acme ${jwt}`, tier: 'pro\r\nx', jti: 'id-\u001b[2J', scope: 'docs:read' };
    const token = await sign(claims);
    const request = { method: 'GET', path: '/', headers: { authorization: `Bearer ${token}` } };

    const allowed = await kw.check(request, { scopes: ['docs:read'] });
    if (!allowed.ok) throw new Error('expected the token to be accepted');
    expect(allowed.principal).toMatchObject({ id: claims.sub, subject: claims.sub, owner: claims.org, plan: claims.tier, keyId: claims.jti });
    allowed.done({ status: 200, bytes: 2 });
    const denied = await kw.check(request, { scopes: ['admin'] }); // a denial after authentication: access.denied
    expect(!denied.ok && denied.code).toBe('INSUFFICIENT_SCOPE');
    const routeLevel = await kw.check(request);
    if (!routeLevel.ok) throw new Error('expected the token to be accepted');
    expect(kw.authorize(routeLevel, compileScopes('admin'))).toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
    await kw.flushEvents();

    const seen = events.filter((e) => e.principalType === 'token');
    expect(seen.map((e) => e.type).sort()).toEqual(['access.denied', 'access.denied', 'auth.succeeded', 'auth.succeeded', 'request.completed']);
    for (const e of seen) {
      const text = JSON.stringify(e);
      expect(text).not.toContain(key);
      expect(text).not.toContain(jwt);
      expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
      expect(JSON.stringify([e.subject, e.owner, e.plan, e.keyId])).not.toMatch(/\\u00|\\[nr]/); // not even escaped in the JSON
      expect(e.owner).toBe('acme [REDACTED]');
      expect(e.keyId).toBe('id-\uFFFD[2J');
      if (e.method === undefined) continue; // authorize()'s access.denied names the token and its owner only
      expect(e.plan).toBe('pro\uFFFD\uFFFDx');
      expect(e.subject).toBe('user\uFFFD[31m\uFFFDFAKE 200 OK\uFFFD[REDACTED]');
    }
    await kw.close();
  });

  it('leave a plain principal exactly as it is', async () => {
    const kw = createKeyward({ clock: manualClock(T0), tokens: { issuers: [{ issuer: ISS, audience: 'api', secret: SECRET, algorithms: ['HS256'] }] } });
    const events: KeywardEvent[] = [];
    kw.on('auth.succeeded', (e) => { events.push(e); });
    const sub = 'auth0|5f7c8ec7c33c6c004bbafe82 é ✓ 😀';
    await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${await sign({ sub, jti: 'j-1' })}` } });
    await kw.flushEvents();
    expect(events[0]).toMatchObject({ subject: sub, owner: sub, keyId: 'j-1' });
    await kw.close();
  });
});

describe('the events of a token exchanged for an API key', () => {
  it("name the key (its id and hint), as the key's own requests do, also when a route's scope check refuses it", async () => {
    const signing = { issuer: 'https://api.example', audience: 'api', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }] };
    const kw = createKeyward({ clock: manualClock(T0), tokens: { signing } });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const res = await kw.tokens.endpoint()({ method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${record.id}:${key}`).toString('base64')}` }, remoteAddress: '10.0.0.1', body: 'grant_type=client_credentials' });
    const token = JSON.parse(String(res.body)).access_token as string;
    const events: KeywardEvent[] = [];
    kw.on('*', (e) => { events.push(e); });
    const request = { method: 'GET', path: '/', headers: { authorization: `Bearer ${token}` } };
    expect(await kw.check(request, { scopes: ['admin'] })).toMatchObject({ ok: false, code: 'INSUFFICIENT_SCOPE' }); // in the pipeline
    const allowed = await kw.check(request);
    if (!allowed.ok) throw new Error('expected the token to be accepted');
    expect(kw.authorize(allowed, compileScopes('admin'))).toMatchObject({ code: 'INSUFFICIENT_SCOPE' }); // a route's own check
    await kw.flushEvents();
    const seen = events.filter((e) => e.type === 'access.denied' || e.type === 'auth.succeeded').map((e) => [e.type, e.keyId, e.hint, e.principalType]);
    expect(seen).toEqual([
      ['access.denied', record.id, record.hint, 'token'],
      ['auth.succeeded', record.id, record.hint, 'token'],
      ['access.denied', record.id, record.hint, 'token'],
    ]);
    await kw.close();
  });
});
