import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { compileScopes, createKeyward, manualClock, memoryLimiterStore, type KeywardEvent, type KeywardOptions } from '../index';
import type { AnomalyFeature } from '../anomaly/feature';

/** Two trusted issuers, each with keys of its own, whose tokens carry the same `sub`, `jti` and owner. */
const T0 = Date.parse('2026-05-01T12:00:00Z');
const MINUTE = Math.floor(T0 / 60_000) * 60_000;
const MONTH = Date.parse('2026-05-01T00:00:00Z');
const A = { issuer: 'https://a.example/', pair: generateKeyPairSync('ec', { namedCurve: 'P-256' }), alg: 'ES256' };
const B = { issuer: 'https://b.example/', pair: generateKeyPairSync('ed25519'), alg: 'EdDSA' };
type Issuer = typeof A | typeof B;

const sign = (by: Issuer, claims: JWTPayload = {}) =>
  new SignJWT({ sub: 'user-1', jti: 'j-1', org: 'acme', ...claims }).setProtectedHeader({ alg: by.alg }).setIssuer(by.issuer).setAudience('api').setIssuedAt(claims.iat ?? T0 / 1000).setExpirationTime(claims.exp ?? T0 / 1000 + 600).sign(by.pair.privateKey);
const trusted = (by: Issuer) => ({ issuer: by.issuer, audience: 'api', publicKey: by.pair.publicKey, claims: { owner: 'org' } });

function setup(issuers: Issuer[], extra: Partial<KeywardOptions> = {}) {
  const clock = manualClock(T0);
  const store = memoryLimiterStore({ clock });
  const kw = createKeyward({
    clock,
    tokens: { issuers: issuers.map(trusted) },
    limits: { store, rules: { burst: { points: 2, window: '1m' }, team: { points: 3, window: '1m', by: 'owner' } } },
    ...extra,
  });
  const check = (token: string) => kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${token}` } });
  return { kw, store, check };
}

describe('tokens of several trusted issuers with the same sub', () => {
  it('count in buckets of their own issuer: one issuer using up its limit leaves the other untouched', async () => {
    const { kw, check } = setup([A, B]);
    const a = await sign(A);
    const b = await sign(B);
    expect((await check(a)).ok).toBe(true);
    expect((await check(a)).ok).toBe(true);
    expect(await check(a)).toMatchObject({ ok: false, code: 'RATE_LIMITED' });
    const fromB = await check(b);
    expect(fromB).toMatchObject({ ok: true, principal: { id: 'user-1', owner: 'acme', issuer: B.issuer } });
    expect(fromB.headers['RateLimit']).toBe('"burst";r=1;t=60, "team";r=2;t=60');
    await kw.close();
  });

  it("keep an owner bucket of their issuer's, apart from the other issuer's owner of that name", async () => {
    const { kw, check } = setup([A, B]);
    for (const sub of ['u1', 'u2', 'u3']) expect((await check(await sign(A, { sub }))).ok).toBe(true);
    expect(await check(await sign(A, { sub: 'u4' }))).toMatchObject({ ok: false, code: 'RATE_LIMITED', problem: { 'violated-policies': ['team'] } });
    expect((await check(await sign(B, { sub: 'u4' }))).ok).toBe(true);
    await kw.close();
  });

  it('name the buckets of each issuer apart, and a single trusted issuer\'s as before (k:token:<sub>, o:<owner>)', async () => {
    const two = setup([A, B]);
    await two.check(await sign(A));
    await two.check(await sign(B));
    expect(await two.store.get(`r:burst:60000:k:token@"${A.issuer}":user-1:${MINUTE}`)).toBe(1);
    expect(await two.store.get(`r:burst:60000:k:token@"${B.issuer}":user-1:${MINUTE}`)).toBe(1);
    expect(await two.store.get(`r:team:60000:o@"${B.issuer}":acme:${MINUTE}`)).toBe(1);
    expect(await two.store.get(`r:burst:60000:k:token:user-1:${MINUTE}`)).toBe(0);
    await two.kw.close();

    const clock = manualClock(T0);
    const store = memoryLimiterStore({ clock });
    const limits = { store, rules: { burst: { points: 2, window: '1m' } }, quotas: { month: { requests: 9, period: 'month' as const, by: 'owner' as const } } };
    const kw = createKeyward({ clock, tokens: { issuers: [trusted(A)] }, limits });
    expect((await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${await sign(A)}` } })).ok).toBe(true);
    expect(await store.get(`r:burst:60000:k:token:user-1:${MINUTE}`)).toBe(1);
    expect(await store.get(`q:month:requests:month:o:acme:${MONTH}`)).toBe(1);
    await kw.close();
  });

  it("leave keyward's own tokens in the buckets they always had when another issuer is trusted too", async () => {
    const clock = manualClock(T0);
    const store = memoryLimiterStore({ clock });
    const own = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kw = createKeyward({
      clock,
      tokens: { issuers: [trusted(A)], signing: { issuer: 'https://api.example/', audience: 'api', keys: [{ privateKey: own.privateKey }] } },
      limits: { store, rules: { burst: { points: 2, window: '1m' } } },
    });
    const { token } = await kw.tokens.issue({ subject: 'user-1' });
    expect(await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${token}` } })).toMatchObject({ ok: true, principal: { issuer: 'https://api.example/' } });
    expect((await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${await sign(A)}` } })).ok).toBe(true);
    expect(await store.get(`r:burst:60000:k:token:user-1:${MINUTE}`)).toBe(1);
    expect(await store.get(`r:burst:60000:k:token@"${A.issuer}":user-1:${MINUTE}`)).toBe(1);
    await kw.close();
  });
});

describe('events, metrics and anomaly baselines of tokens of several trusted issuers with the same jti', () => {
  const events: KeywardEvent[] = [];
  const run = async (issuers: Issuer[]) => {
    events.length = 0;
    const clock = manualClock(T0);
    const kw = createKeyward({ clock, metrics: {}, anomalies: { warmup: '10m', warmupRequests: 20 }, tokens: { issuers: issuers.map(trusted) } });
    kw.on('*', (e) => { events.push(e); });
    const call = async (token: string, remoteAddress: string) => {
      const d = await kw.check({ method: 'GET', path: '/docs', headers: { authorization: `Bearer ${token}` }, remoteAddress });
      if (d.ok) d.done({ status: 200, bytes: 10 });
      return d;
    };
    return { kw, clock, call };
  };

  it("name the token's issuer, and count each issuer's token on its own in metrics", async () => {
    const { kw, call } = await run([A, B]);
    await call(await sign(A), '10.0.0.1');
    await call(await sign(A), '10.0.0.1');
    const fromB = await call(await sign(B), '10.0.0.2');
    if (!fromB.ok) throw new Error("expected issuer B's token to be accepted");
    expect(kw.authorize(fromB, compileScopes('admin'))).toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
    await kw.flushEvents();
    const completed = events.filter((e) => e.type === 'request.completed');
    expect(completed.map((e) => [e.keyId, e.issuer])).toEqual([['j-1', A.issuer], ['j-1', A.issuer], ['j-1', B.issuer]]);
    expect(events.filter((e) => e.type === 'auth.succeeded' || e.type === 'access.denied').map((e) => [e.type, e.issuer])).toEqual([
      ['auth.succeeded', A.issuer], ['auth.succeeded', A.issuer], ['auth.succeeded', B.issuer], ['access.denied', B.issuer],
    ]);
    expect(kw.metrics!.forKey(`token:user-1@"${A.issuer}"`)?.windows.hour.completed).toBe(2);
    expect(kw.metrics!.forKey(`token:user-1@"${B.issuer}"`)?.windows.hour).toMatchObject({ completed: 1, refused: 1 });
    expect(kw.metrics!.forKey('token:user-1')).toBeUndefined();
    await kw.close();
  });

  it("keep each issuer's anomaly baseline: issuer B's token is not a new address of issuer A's", async () => {
    const { kw, clock, call } = await run([A, B]);
    const a = await sign(A, { exp: T0 / 1000 + 3600 });
    for (let minute = 0; minute <= 10; minute++) {
      await call(a, '10.0.0.1');
      await call(a, '10.0.0.1');
      clock.advance(60_000);
    }
    await call(await sign(B, { iat: clock() / 1000, exp: clock() / 1000 + 600 }), '10.0.0.2');
    await (kw.features.get('anomalies') as AnomalyFeature).detector.settled();
    expect(events.filter((e) => e.type === 'anomaly.detected')).toEqual([]);
    await call(a, '10.0.0.3'); // issuer A's own token from a new address still is one
    await (kw.features.get('anomalies') as AnomalyFeature).detector.settled();
    expect(events.filter((e) => e.type === 'anomaly.detected').map((e) => [e.reason, e.keyId, e.issuer])).toEqual([['NEW_ADDRESS', 'j-1', A.issuer]]);
    await kw.close();
  });

  it('leave the events and metrics of a single trusted issuer as they were', async () => {
    const { kw, call } = await run([A]);
    await call(await sign(A), '10.0.0.1');
    await kw.flushEvents();
    const completed = events.find((e) => e.type === 'request.completed')!;
    expect(completed.keyId).toBe('j-1');
    expect('issuer' in completed).toBe(false);
    expect(kw.metrics!.forKey('token:user-1')?.windows.hour.requests).toBe(1);
    await kw.close();
  });
});

describe('revoking a jti while several issuers are trusted', () => {
  it("refuses every trusted issuer's token with that jti, and leaves other ids alone (RFC 7519 §4.1.7)", async () => {
    const kw = createKeyward({ clock: manualClock(T0), tokens: { issuers: [trusted(A), trusted(B)] } });
    const check = async (token: string) => kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${token}` } });
    const a = await sign(A);
    const b = await sign(B);
    expect((await check(a)).ok).toBe(true); // cached as verified: revocation is still checked on every request
    await kw.tokens.revoke('j-1');
    for (const token of [a, b]) expect(await check(token)).toMatchObject({ ok: false, status: 401, code: 'TOKEN_INVALID', problem: { detail: 'The token has been revoked.' } });
    expect((await check(await sign(B, { jti: 'j-2' }))).ok).toBe(true);
    await kw.close();
  });
});
