import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { createKeyward, manualClock, type Keyward, type KeywardEvent, type KeywardOptions } from '../index';
import type { AnomalyFeature } from './feature';

/** Anomalies of token principals: a token acting as its key is that key; any other token is never one. */
const T0 = Date.parse('2026-03-01T10:00:00Z');
const signing = { issuer: 'https://api.example', audience: 'api', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }], ttl: '1h' };
const idp = { issuer: 'https://idp.example/', pair: generateKeyPairSync('ec', { namedCurve: 'P-256' }) };

const IDP = { issuer: idp.issuer, audience: 'api', publicKey: idp.pair.publicKey };

async function setup(tokens: KeywardOptions['tokens'] = { signing, issuers: [IDP] }) {
  const clock = manualClock(T0);
  const events: KeywardEvent[] = [];
  const kw = createKeyward({
    clock,
    anomalies: { warmup: '10m', warmupRequests: 20, maxAddresses: 5, rateFactor: 5, detect: ['MANY_ADDRESSES'], suspend: ['MANY_ADDRESSES'] },
    tokens,
  });
  kw.on('*', (e) => { events.push(e); });
  const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
  const call = async (headers: Record<string, string>, remoteAddress: string) => {
    const d = await kw.check({ method: 'GET', path: '/docs', headers, remoteAddress });
    if (d.ok) d.done({ status: 200, bytes: 10 });
    return d;
  };
  /** 11 minutes of 2 requests a minute with the key from one address. */
  const warmUp = async () => {
    for (let minute = 0; minute <= 10; minute++) {
      await call({ 'x-api-key': key }, '10.0.0.1');
      await call({ 'x-api-key': key }, '10.0.0.1');
      clock.advance(60_000);
    }
  };
  const settled = () => (kw.features.get('anomalies') as AnomalyFeature).detector.settled();
  return { kw, clock, events, key, record, call, warmUp, settled };
}

async function exchange(kw: Keyward, id: string, key: string): Promise<string> {
  const res = await kw.tokens.endpoint()({ method: 'POST', path: '/oauth/token', query: '', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${id}:${key}`).toString('base64')}` }, remoteAddress: '10.0.0.1', body: 'grant_type=client_credentials' });
  expect(res.status).toBe(200);
  return JSON.parse(String(res.body)).access_token;
}

describe('anomalies of token principals', () => {
  it('suspend the key of a token exchanged for it: the stolen key used through its tokens is suspended as the key itself would be', async () => {
    const s = await setup();
    await s.warmUp();
    const token = await exchange(s.kw, s.record.id, s.key);
    for (let i = 2; i <= 6; i++) expect((await s.call({ authorization: `Bearer ${token}` }, `10.0.0.${i}`)).ok).toBe(true);
    await s.settled();
    const found = s.events.filter((e) => e.type === 'anomaly.detected');
    expect(found.map((e) => [e.reason, e.keyId, e.principalType, (e.data as { suspend: boolean }).suspend])).toEqual([['MANY_ADDRESSES', s.record.id, 'token', true]]);
    expect(s.events.filter((e) => e.type === 'key.suspended').map((e) => e.keyId)).toEqual([s.record.id]);
    expect((await s.kw.keys.get(s.record.id))?.status).toBe('disabled');
    expect(await s.call({ authorization: `Bearer ${token}` }, '10.0.0.7')).toMatchObject({ ok: false, code: 'TOKEN_INVALID' });
    await s.kw.close();
  });

  it.each([
    ['the only trusted issuer', { issuers: [IDP] }],
    ['one of several trusted issuers', { signing, issuers: [IDP] }],
  ])("never count a token of %s whose sub is a key's id as that key, nor suspend the key for it", async (_name, tokens) => {
    const s = await setup(tokens);
    await s.warmUp();
    // An identity provider's user whose sub happens to be (or was chosen as) the key's id, from four addresses.
    const token = await new SignJWT({ sub: s.record.id }).setProtectedHeader({ alg: 'ES256' }).setIssuer(idp.issuer).setAudience('api').setIssuedAt(s.clock() / 1000).setExpirationTime(s.clock() / 1000 + 600).sign(idp.pair.privateKey);
    for (let i = 2; i <= 5; i++) expect((await s.call({ authorization: `Bearer ${token}` }, `10.0.0.${i}`)).ok).toBe(true);
    await s.call({ 'x-api-key': s.key }, '10.0.0.1'); // the key's own, usual use: one address
    await s.settled();
    expect(s.events.filter((e) => e.type === 'anomaly.detected' || e.type === 'key.suspended')).toEqual([]);
    expect((await s.kw.keys.get(s.record.id))?.status).toBe('active');
    await s.kw.close();
  });
  /** An identity provider's user-1 (`token:user-1`), warmed up: 11 minutes of 2 requests a minute from 10.0.1.1. */
  async function subject(anomalies: KeywardOptions['anomalies']) {
    const clock = manualClock(T0);
    const events: KeywardEvent[] = [];
    const kw = createKeyward({ clock, anomalies, tokens: { issuers: [IDP] } });
    kw.on('*', (e) => { events.push(e); });
    const now = () => Math.floor(clock() / 1000);
    const token = (exp: number) => new SignJWT({ sub: 'user-1' }).setProtectedHeader({ alg: 'ES256' }).setIssuer(idp.issuer).setAudience('api').setIssuedAt(now()).setExpirationTime(exp).sign(idp.pair.privateKey);
    const use = async (t: string, remoteAddress: string) => {
      const d = await kw.check({ method: 'GET', path: '/docs', headers: { authorization: `Bearer ${t}` }, remoteAddress });
      if (d.ok) d.done({ status: 200, bytes: 10 });
      return d;
    };
    const first = await token(now() + 3600);
    for (let minute = 0; minute <= 10; minute++) {
      await use(first, '10.0.1.1');
      await use(first, '10.0.1.1');
      clock.advance(60_000);
    }
    return { kw, clock, events, now, token, use, first };
  }

  it("never learn an address from a refused token: a subject's expired token replayed from an address does not hide it from the next token", async () => {
    const { kw, clock, events, now, token, use } = await subject({ warmup: '10m', warmupRequests: 20, detect: ['NEW_ADDRESS'] });
    const expired = await token(now() - 600);
    expect(await use(expired, '10.0.2.2')).toMatchObject({ ok: false });
    clock.advance(16 * 60_000); // past the cool-down
    expect((await use(await token(now() + 3600), '10.0.2.2')).ok).toBe(true);
    await (kw.features.get('anomalies') as AnomalyFeature).detector.settled();
    const found = events.filter((e) => e.type === 'anomaly.detected');
    expect(found.map((e) => [e.reason, e.subject, e.clientAddress])).toEqual([['NEW_ADDRESS', 'user-1', '10.0.2.2'], ['NEW_ADDRESS', 'user-1', '10.0.2.2']]);
    await kw.close();
  });
  it("never raise the address baseline with refused tokens: an expired token replayed beside the subject's use does not lift the MANY_ADDRESSES threshold", async () => {
    const { kw, clock, events, now, token, use, first } = await subject({ warmup: '10m', warmupRequests: 20, maxAddresses: 5, rateFactor: 5, detect: ['MANY_ADDRESSES'] });
    const expired = await token(now() - 600);
    // Ten minutes of the subject's own use from one address, and the expired token replayed from three others (under
    // the threshold of 5). Counted in the address baseline, they lifted the threshold to 15 (5 × a baseline near 3).
    for (let minute = 0; minute < 10; minute++) {
      expect((await use(first, '10.0.1.1')).ok).toBe(true);
      for (let i = 1; i <= 3; i++) expect((await use(expired, `10.0.3.${i}`)).ok).toBe(false);
      clock.advance(60_000);
    }
    for (let i = 1; i <= 6; i++) expect((await use(first, `10.0.4.${i}`)).ok).toBe(true);
    await (kw.features.get('anomalies') as AnomalyFeature).detector.settled();
    const found = events.filter((e) => e.type === 'anomaly.detected');
    expect(found.map((e) => [e.reason, e.subject])).toEqual([['MANY_ADDRESSES', 'user-1']]);
    expect(found[0]!.data).toMatchObject({ evidence: { addressesThisMinute: 5, baselineAddressesPerMinute: 1, threshold: 5 } });
    await kw.close();
  });
  it("never suspend a key for a warmed-up token whose jti is the key's id: only a token acting as its key suspends one", async () => {
    const s = await setup();
    // An identity provider's token whose jti is (by chance or by choice) the key's id: its own use, of its own subject.
    const token = await new SignJWT({ sub: 'user-1', jti: s.record.id }).setProtectedHeader({ alg: 'ES256' }).setIssuer(idp.issuer).setAudience('api').setIssuedAt(T0 / 1000).setExpirationTime(T0 / 1000 + 3600).sign(idp.pair.privateKey);
    for (let minute = 0; minute <= 10; minute++) {
      await s.call({ authorization: `Bearer ${token}` }, '10.0.1.1');
      await s.call({ authorization: `Bearer ${token}` }, '10.0.1.1');
      s.clock.advance(60_000);
    }
    for (let i = 2; i <= 6; i++) expect((await s.call({ authorization: `Bearer ${token}` }, `10.0.1.${i}`)).ok).toBe(true);
    await s.settled();
    const found = s.events.filter((e) => e.type === 'anomaly.detected');
    expect(found.map((e) => [e.reason, e.keyId, e.subject, e.principalType, (e.data as { suspend: boolean }).suspend])).toEqual([['MANY_ADDRESSES', s.record.id, 'user-1', 'token', false]]);
    expect(s.events.filter((e) => e.type === 'key.suspended')).toEqual([]);
    expect((await s.kw.keys.get(s.record.id))?.status).toBe('active');
    await s.kw.close();
  });
});
