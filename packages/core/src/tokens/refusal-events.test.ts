import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { createKeyward, manualClock, type Keyward, type KeywardEvent, type KeywardOptions } from '../index';
import type { AnomalyFeature } from '../anomaly/feature';

/**
 * The `auth.failed` of a token refused after its signature was verified (revoked, expired, too old, its key gone)
 * names whose it was — the subject, and for a token exchanged for a key the key (id and hint) — so replaying it counts
 * in that principal's metrics and towards its AUTH_FAILURE_BURST. A token whose signature was not verified names
 * nothing: everything in it is the sender's.
 */
const T0 = Date.parse('2026-03-01T10:00:00Z');
const signing = { issuer: 'https://api.example', audience: 'api', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }], ttl: '1h' };
const idp = { issuer: 'https://idp.example/', pair: generateKeyPairSync('ec', { namedCurve: 'P-256' }) };
const other = { issuer: 'https://other.example/', pair: generateKeyPairSync('ec', { namedCurve: 'P-256' }) };
const IDP = { issuer: idp.issuer, audience: 'api', publicKey: idp.pair.publicKey, maxTokenAge: '2h' };
const OTHER = { issuer: other.issuer, audience: 'api', publicKey: other.pair.publicKey };

async function setup(tokens: KeywardOptions['tokens'] = { signing, issuers: [IDP] }) {
  const clock = manualClock(T0);
  const events: KeywardEvent[] = [];
  const kw = createKeyward({ clock, metrics: true, anomalies: { warmup: '10m', warmupRequests: 20, authFailureBurst: 3, detect: ['AUTH_FAILURE_BURST'] }, tokens });
  kw.on('*', (e) => void events.push(e));
  const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
  const call = async (token: string, remoteAddress = '10.0.0.1') => {
    const d = await kw.check({ method: 'GET', path: '/docs', headers: { authorization: `Bearer ${token}` }, remoteAddress });
    if (d.ok) d.done({ status: 200, bytes: 10 });
    return d;
  };
  /** 11 minutes of 2 requests a minute with `token`. */
  const warmUp = async (token: string) => {
    for (let minute = 0; minute <= 10; minute++) {
      for (let i = 0; i < 2; i++) expect((await call(token)).ok).toBe(true);
      clock.advance(60_000);
    }
  };
  const failed = async () => {
    await kw.flushEvents();
    return events.filter((e) => e.type === 'auth.failed').map((e) => ({ reason: e.reason, keyId: e.keyId, hint: e.hint, principalType: e.principalType, subject: e.subject, issuer: e.issuer }));
  };
  const anomalies = async () => {
    await (kw.features.get('anomalies') as AnomalyFeature).detector.settled();
    return events.filter((e) => e.type === 'anomaly.detected').map((e) => [e.reason, e.keyId, e.subject, e.hint]);
  };
  return { kw, clock, events, key, record, call, warmUp, failed, anomalies };
}

const idpToken = (payload: JWTPayload, now: number, ttl = 3600, pair = idp.pair, iss = idp.issuer) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'ES256' }).setIssuer(iss).setAudience('api').setIssuedAt(now / 1000).setExpirationTime(now / 1000 + ttl).sign(pair.privateKey);

async function exchange(kw: Keyward, id: string, key: string): Promise<string> {
  const res = await kw.tokens.endpoint()({ method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${id}:${key}`).toString('base64')}` }, remoteAddress: '10.0.0.1', body: 'grant_type=client_credentials' });
  expect(res.status).toBe(200);
  return JSON.parse(String(res.body)).access_token;
}

describe("the auth.failed of a verified token's refusal", () => {
  it("names a revoked token's subject: its replays count in its metrics and make its AUTH_FAILURE_BURST", async () => {
    const s = await setup();
    const token = await idpToken({ sub: 'user-1', jti: 'j-1' }, T0);
    await s.warmUp(token);
    await s.kw.tokens.revoke('j-1');
    for (let i = 0; i < 3; i++) expect(await s.call(token)).toMatchObject({ ok: false, code: 'TOKEN_INVALID' });
    const named = { reason: 'TOKEN_INVALID', keyId: 'j-1', hint: undefined, principalType: 'token', subject: 'user-1', issuer: idp.issuer };
    expect(await s.failed()).toEqual([named, named, named]);
    expect(await s.anomalies()).toEqual([['AUTH_FAILURE_BURST', 'j-1', 'user-1', undefined]]);
    expect(s.kw.metrics!.forKey('token:user-1@"https://idp.example/"')!.windows.minute.auth).toEqual({ succeeded: 0, failed: 3 });
    await s.kw.close();
  });

  it("names an expired token's subject, and a token past the issuer's maxTokenAge too", async () => {
    const s = await setup({ issuers: [IDP] }); // the only issuer: no issuer named
    const token = await idpToken({ sub: 'user-2', jti: 'j-2' }, T0, 15 * 60);
    const old = await idpToken({ sub: 'user-3' }, T0, 24 * 3600);
    expect((await s.call(token)).ok).toBe(true);
    expect((await s.call(old)).ok).toBe(true);
    s.clock.advance(3 * 3600_000);
    expect(await s.call(token)).toMatchObject({ ok: false, code: 'TOKEN_EXPIRED' });
    expect(await s.call(old)).toMatchObject({ ok: false, code: 'TOKEN_EXPIRED', problem: { detail: 'The token is too old.' } });
    expect(await s.failed()).toEqual([
      { reason: 'TOKEN_EXPIRED', keyId: 'j-2', hint: undefined, principalType: 'token', subject: 'user-2', issuer: undefined },
      { reason: 'TOKEN_EXPIRED', keyId: 'user-3', hint: undefined, principalType: 'token', subject: 'user-3', issuer: undefined },
    ]);
    expect(s.kw.metrics!.forKey('token:user-2')!.windows.hour.auth.failed).toBe(1);
    await s.kw.close();
  });

  it('names the key (id and hint) of a revoked or expired token exchanged for it, and of one whose key was revoked', async () => {
    const s = await setup();
    const token = await exchange(s.kw, s.record.id, s.key);
    await s.warmUp(token);
    const { jti } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string };
    await s.kw.tokens.revoke(jti);
    expect(await s.call(token)).toMatchObject({ ok: false, code: 'TOKEN_INVALID' });
    const fresh = await exchange(s.kw, s.record.id, s.key);
    s.clock.advance(2 * 3600_000); // both tokens expired
    expect(await s.call(fresh)).toMatchObject({ ok: false, code: 'TOKEN_EXPIRED' });
    const live = await exchange(s.kw, s.record.id, s.key);
    await s.kw.keys.revoke(s.record.id);
    expect(await s.call(live)).toMatchObject({ ok: false, code: 'TOKEN_INVALID' });
    const asKey = { keyId: s.record.id, hint: s.record.hint, principalType: 'token', subject: s.record.id, issuer: undefined };
    expect(await s.failed()).toEqual([{ reason: 'TOKEN_INVALID', ...asKey }, { reason: 'TOKEN_EXPIRED', ...asKey }, { reason: 'TOKEN_INVALID', ...asKey }]);
    expect(await s.anomalies()).toEqual([]); // three failures, but over two hours
    await s.kw.close();
  });

  it("counts a revoked exchanged token's replays towards its key's AUTH_FAILURE_BURST", async () => {
    const s = await setup();
    const token = await exchange(s.kw, s.record.id, s.key);
    await s.warmUp(token);
    const { jti } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string };
    await s.kw.tokens.revoke(jti);
    for (let i = 0; i < 3; i++) expect(await s.call(token)).toMatchObject({ ok: false, code: 'TOKEN_INVALID' });
    expect(await s.anomalies()).toEqual([['AUTH_FAILURE_BURST', s.record.id, s.record.id, s.record.hint]]);
    expect(s.kw.metrics!.forKey(s.record.id)!.windows.minute.auth.failed).toBe(3);
    await s.kw.close();
  });

  it('names nothing of a token whose signature was not verified: forged, expired and forged, or of an issuer not trusted', async () => {
    const s = await setup({ signing, issuers: [IDP, OTHER] });
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = await idpToken({ sub: 'victim', jti: 'v-1' }, T0, 3600, attacker);
    const forgedExpired = await idpToken({ sub: 'victim', jti: 'v-2' }, T0 - 7200_000, 60, attacker);
    const forgedAsKey = await idpToken({ sub: s.record.id, client_id: s.record.id, jti: 'v-3' }, T0, 3600, attacker, signing.issuer);
    const untrusted = await idpToken({ sub: 'victim', jti: 'v-4' }, T0, 3600, attacker, 'https://evil.example/');
    for (const t of [forged, forgedExpired, forgedAsKey, untrusted]) expect(await s.call(t)).toMatchObject({ ok: false, code: 'TOKEN_INVALID' });
    const none = { keyId: undefined, hint: undefined, principalType: undefined, subject: undefined, issuer: undefined };
    expect(await s.failed()).toEqual([0, 1, 2, 3].map(() => ({ reason: 'TOKEN_INVALID', ...none })));
    expect(s.kw.metrics!.forKey('token:victim@"https://idp.example/"')).toBeUndefined();
    expect(s.kw.metrics!.forKey(s.record.id)).toBeUndefined();
    await s.kw.close();
  });

  it('is named with its cleaned claims, as the events of its accepted requests are', async () => {
    const s = await setup({ issuers: [IDP] });
    const token = await idpToken({ sub: 'user\u001b[2J\nFAKE', jti: 'j-\u2028x' }, T0);
    await s.kw.tokens.revoke('j-\u2028x');
    expect(await s.call(token)).toMatchObject({ ok: false, code: 'TOKEN_INVALID' });
    expect(await s.failed()).toEqual([{ reason: 'TOKEN_INVALID', keyId: 'j-\uFFFDx', hint: undefined, principalType: 'token', subject: 'user\uFFFD[2J\uFFFDFAKE', issuer: undefined }]);
    await s.kw.close();
  });
});
