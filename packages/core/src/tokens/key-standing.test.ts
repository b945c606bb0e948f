import { generateKeyPairSync } from 'node:crypto';
import { createKeyward, manualClock, MemoryKeyStore, type AuthRequest, type InvalidationChannel, type KeyChange, type KeywardOptions } from '../index';
import { EventBus } from '../events/bus';
import type { FeatureDeps } from '../features/deps';
import type { AuthOutcome, PipelineContext } from '../pipeline/context';
import { tokensFeature, type TokensFeature } from './feature';

/** An in-process invalidation channel: what one instance publishes, every subscriber hears at once. */
function sharedChannel(): InvalidationChannel {
  const subscribers = new Set<(change: KeyChange) => void>();
  return {
    async publish(change) { for (const s of subscribers) s(change); },
    async subscribe(onChange) { subscribers.add(onChange); return () => void subscribers.delete(onChange); },
  };
}

const signing = { issuer: 'https://api.example', audience: 'docs-api', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k1' }], ttl: '10m' };

async function exchange(kw: ReturnType<typeof createKeyward>, id: string, key: string): Promise<string> {
  const res = await kw.tokens.endpoint()({ method: 'POST', path: '/oauth/token', query: '', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${id}:${key}`).toString('base64')}` }, remoteAddress: '10.0.0.1', body: 'grant_type=client_credentials' });
  expect(res.status).toBe(200);
  return JSON.parse(String(res.body)).access_token;
}

const bearer = (token: string): AuthRequest => ({ method: 'GET', path: '/docs', query: '', headers: { authorization: `Bearer ${token}` }, remoteAddress: '10.0.0.1' });

describe('tokens exchanged for an API key', () => {
  it('stop working on every instance when the key is revoked through one of them', async () => {
    const clock = manualClock(Date.parse('2026-04-01T08:00:00Z'));
    const store = new MemoryKeyStore();
    const invalidation = sharedChannel();
    const options: KeywardOptions = { clock, store, invalidation, tokens: { signing } };
    const a = createKeyward(options);
    const b = createKeyward(options);
    const { key, record } = await a.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const token = await exchange(a, record.id, key);
    for (let i = 0; i < 3; i++) expect(await b.check(bearer(token))).toMatchObject({ ok: true }); // b now holds the key's standing
    await a.keys.revoke(record.id);
    expect(await b.check(bearer(token))).toMatchObject({ ok: false, code: 'TOKEN_INVALID', status: 401 });
    expect(await a.check(bearer(token))).toMatchObject({ ok: false, code: 'TOKEN_INVALID' });
    await a.close();
    await b.close();
  });

  it('stay tied to their key whatever a caller of kw.tokens.verify() does to what it was handed (the cached entry)', async () => {
    const kw = createKeyward({ tokens: { signing } });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const token = await exchange(kw, record.id, key);
    expect(await kw.check(bearer(token))).toMatchObject({ ok: true }); // cached
    const verified = (await kw.tokens.verify(token)) as { claims: Record<string, unknown> };
    expect(Object.isFrozen(verified.claims)).toBe(true);
    expect(() => { verified.claims['iss'] = 'https://elsewhere.example'; }).toThrow(TypeError);
    expect(() => { delete verified.claims['client_id']; }).toThrow(TypeError);
    await kw.keys.revoke(record.id);
    expect(await kw.check(bearer(token))).toMatchObject({ ok: false, code: 'TOKEN_INVALID', status: 401 });
    await kw.close();
  });

  it('are refused with 503 STORE_UNAVAILABLE, not accepted, when the key store cannot answer', async () => {
    const store = new MemoryKeyStore();
    const kw = createKeyward({ store, tokens: { signing }, cache: false });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const token = await exchange(kw, record.id, key);
    expect(await kw.check(bearer(token))).toMatchObject({ ok: true });
    store.get = async () => { throw new Error('store down'); };
    expect(await kw.check(bearer(token))).toMatchObject({ ok: false, code: 'STORE_UNAVAILABLE', status: 503 });
    await kw.close();
  });
});

describe('legacy keys at the token endpoint', () => {
  const LEGACY = '0f3c2a9e-5b1d-4c7e-8a6f-2d9b4e1c7a35';
  const post = (kw: ReturnType<typeof createKeyward>, id: string, key: string) => kw.tokens.endpoint()({ method: 'POST', path: '/oauth/token', query: '', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${id}:${key}`).toString('base64')}` }, remoteAddress: '10.0.0.1', body: 'grant_type=client_credentials' });

  it('exchange under the same rule as the API: with legacyKeys, an imported legacy key gets a token that works', async () => {
    const kw = createKeyward({ tokens: { signing }, legacyKeys: /^[0-9a-f-]{36}$/ });
    const info = await kw.keys.import({ key: LEGACY, owner: 'acme', scopes: ['docs:read'] });
    expect(await kw.check({ ...bearer(LEGACY), headers: { 'x-api-key': LEGACY } })).toMatchObject({ ok: true }); // the API takes it
    const token = await exchange(kw, info.id, LEGACY);
    expect(await kw.check(bearer(token))).toMatchObject({ ok: true, principal: { type: 'token' } });
    await kw.close();
  });

  it('a keyward key of another prefix, found through the legacyKeys rule, is refused by both (only legacy records match)', async () => {
    const store = new MemoryKeyStore();
    const old = createKeyward({ store, prefix: 'old' });
    const kw = createKeyward({ store, prefix: 'new', legacyKeys: true, tokens: { signing } });
    const { key, record } = await old.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    expect(await kw.check({ ...bearer(key), headers: { 'x-api-key': key } })).toMatchObject({ ok: false, status: 401 });
    const res = await post(kw, record.id, key);
    expect([res.status, JSON.parse(String(res.body)).error]).toEqual([401, 'invalid_client']);
    await old.close();
    await kw.close();
  });

  it('without legacyKeys, neither the API nor the token endpoint looks the key up', async () => {
    const kw = createKeyward({ tokens: { signing } });
    const info = await kw.keys.import({ key: LEGACY, owner: 'acme', scopes: ['docs:read'] });
    expect(await kw.check({ ...bearer(LEGACY), headers: { 'x-api-key': LEGACY } })).toMatchObject({ ok: false, status: 401 });
    const res = await post(kw, info.id, LEGACY);
    expect([res.status, JSON.parse(String(res.body)).error]).toEqual([401, 'invalid_client']);
    await kw.close();
  });
});

describe('a token exchanged for an API key acts as its key in the pipeline', () => {
  /** The tokens feature of an instance, on that instance's key manager, and its JWT authenticator. */
  function authenticatorOf(kw: ReturnType<typeof createKeyward>, clock: ReturnType<typeof manualClock>) {
    const deps = { clock, events: new EventBus(clock), keys: kw.keys, challenge: { realm: 'keyward', schemes: ['Bearer'] } } as unknown as FeatureDeps;
    const feature = tokensFeature({ clock, tokens: { signing } }, deps) as TokensFeature;
    const authenticator = feature.authenticators![0]!;
    return { api: feature.api, authenticate: (token: string) => authenticator.authenticate({ value: token, source: 'authorization', scheme: 'bearer' }, { now: clock() } as PipelineContext) };
  }

  it('carries the key record, and answers at once with the same outcome once the token and the key are cached', async () => {
    const clock = manualClock(Date.parse('2026-04-01T08:00:00Z'));
    const kw = createKeyward({ clock, tokens: { signing } });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'], plan: 'free' });
    const { api, authenticate } = authenticatorOf(kw, clock);
    const token = await exchange(kw, record.id, key);

    const first = authenticate(token);
    expect(first).toBeInstanceOf(Promise); // jose, then the key store
    const outcome = (await first) as Extract<AuthOutcome, { principal: unknown }>;
    expect(outcome.record).toMatchObject({ id: record.id, owner: 'acme', plan: 'free' });
    expect(outcome.principal).toMatchObject({ type: 'token', id: record.id, subject: record.id, owner: 'acme', plan: 'free' });
    expect(outcome.principal.keyId).not.toBe(record.id); // a token's keyId is its jti: buckets must not be keyed by it

    const cached = authenticate(token);
    expect(cached).not.toBeInstanceOf(Promise);
    expect(cached).toMatchObject({ principal: outcome.principal, record: outcome.record });
    expect(authenticate(token)).toBe(cached); // the cached token's outcome: nothing allocated per request

    await kw.keys.update(record.id, { name: 'renamed' }); // a new record: a new outcome with it
    const changed = (await authenticate(token)) as typeof outcome;
    expect(changed.record).toMatchObject({ name: 'renamed' });
    expect(authenticate(token)).toBe(changed);

    // kw.tokens.verify() hands out the principal and the claims, never the record (it holds the key's hash)
    const verified = await api.verify(token);
    expect(verified).not.toHaveProperty('record');
    expect(JSON.stringify(verified)).not.toContain(outcome.record!.hash);
    expect(verified).toMatchObject({ principal: { type: 'token', id: record.id } });
    await kw.close();
  });

  it('decides synchronously for a cached token of a cached key with limits and restrictions on', async () => {
    const clock = manualClock(Date.parse('2026-04-01T08:00:00Z'));
    const kw = createKeyward({ clock, tokens: { signing }, limits: { rules: { burst: { points: 10, window: '1m' } } } });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'], restrictions: { ip: { allow: ['10.0.0.0/8'] } } });
    const token = await exchange(kw, record.id, key);
    expect(await kw.decide(bearer(token))).toMatchObject({ ok: true });
    const again = kw.decide(bearer(token));
    expect(again).not.toBeInstanceOf(Promise);
    // the exchange was one of the key's requests, the token's two the next ones
    expect(again).toMatchObject({ ok: true, headers: { RateLimit: '"burst";r=7;t=60' } });
    await kw.close();
  });

  it("carries its key's deprecation headers while the key is in its rotation grace period, reused per record", async () => {
    const clock = manualClock(Date.parse('2026-04-01T08:00:00Z'));
    const kw = createKeyward({ clock, tokens: { signing }, keyPolicy: { rotationDocs: 'https://docs.example/rotation' } });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const { authenticate } = authenticatorOf(kw, clock);
    const before = await exchange(kw, record.id, key); // exchanged before the rotation
    const plain = (await authenticate(before)) as Extract<AuthOutcome, { principal: unknown }>;
    expect(plain).not.toHaveProperty('headers'); // no grace period: nothing added

    clock.advance(60_000);
    await kw.keys.rotate(record.id, { gracePeriod: '24h' });
    const during = await exchange(kw, record.id, key); // exchanged while the key is in grace
    const response = await kw.tokens.endpoint()({ method: 'POST', path: '/oauth/token', query: '', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${record.id}:${key}`).toString('base64')}` }, remoteAddress: '10.0.0.1', body: 'grant_type=client_credentials' });
    const keyDecision = await kw.check({ method: 'GET', path: '/docs', query: '', headers: { 'x-api-key': key }, remoteAddress: '10.0.0.1' });
    expect(keyDecision).toMatchObject({ ok: true, headers: { Deprecation: expect.any(String), Sunset: expect.any(String), Link: expect.any(String) } });
    const { Deprecation, Sunset, Link } = (keyDecision as { headers: Record<string, string> }).headers;
    const keyHeaders = { Deprecation, Sunset, Link };
    expect(Sunset).toBe('Thu, 02 Apr 2026 08:01:00 GMT');
    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject(keyHeaders); // the token response of a deprecated key says so, as its API responses do

    const first = (await authenticate(before)) as typeof plain;
    expect(first.headers).toEqual(keyHeaders);
    expect(Object.isFrozen(first)).toBe(true);
    const cached = authenticate(before);
    expect(cached).toBe(first); // the cached token of a cached key: the same outcome, nothing allocated
    const other = (await authenticate(during)) as typeof plain;
    expect(other).not.toBe(first);
    expect(other.headers).toBe(first.headers); // one headers object per record, shared by the key's tokens

    expect(await kw.check(bearer(before))).toMatchObject({ ok: true, headers: keyHeaders });
    await kw.close();
  });

  it("follows the key's plan as it is now: the principal's plan is the key's", async () => {
    const clock = manualClock(Date.parse('2026-04-01T08:00:00Z'));
    const kw = createKeyward({ clock, tokens: { signing } });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'], plan: 'free' });
    const token = await exchange(kw, record.id, key);
    expect(await kw.check(bearer(token))).toMatchObject({ ok: true, principal: { plan: 'free' } });
    await kw.keys.update(record.id, { plan: 'pro' });
    const pro = await kw.check(bearer(token));
    expect(pro).toMatchObject({ ok: true, principal: { type: 'token', id: record.id, plan: 'pro' } });
    expect(Object.isFrozen((pro as { principal: object }).principal)).toBe(true);
    await kw.keys.update(record.id, { plan: null });
    expect((await kw.check(bearer(token))) as { principal?: object }).not.toHaveProperty('principal.plan');
    await kw.close();
  });

  it("carries its key's owner whatever claims signing.claims maps the owner and plan from", async () => {
    const kw = createKeyward({ clock: manualClock(Date.parse('2026-04-01T08:00:00Z')), tokens: { signing: { ...signing, claims: { owner: 'org', plan: 'tier' } } } });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'], plan: 'pro' });
    const token = await exchange(kw, record.id, key);
    expect(await kw.check(bearer(token))).toMatchObject({ ok: true, principal: { type: 'token', id: record.id, owner: 'acme', plan: 'pro' } });
    expect(await kw.tokens.verify(token)).toMatchObject({ principal: { owner: 'acme', plan: 'pro' } });
    // Tokens it issues itself still map the owner from the configured claim.
    const own = await kw.tokens.issue({ subject: 'user-1', claims: { org: 'globex' } });
    expect(await kw.check(bearer(own.token))).toMatchObject({ ok: true, principal: { id: 'user-1', owner: 'globex' } });
    await kw.close();
  });

  it("holds no scope its key no longer holds: narrowing the key's scopes narrows its live tokens, widening widens nothing", async () => {
    const kw = createKeyward({ clock: manualClock(Date.parse('2026-04-01T08:00:00Z')), tokens: { signing } });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read', 'admin:all', 'users:*'] });
    const token = await exchange(kw, record.id, key);
    const scopes = async () => ((await kw.check(bearer(token))) as { principal?: { scopes: readonly string[] } }).principal?.scopes;
    expect(await scopes()).toEqual(['docs:read', 'admin:all', 'users:*']);
    await kw.keys.update(record.id, { scopes: ['docs:read', 'users:read', 'users:write'] });
    expect(await scopes()).toEqual(['docs:read', 'users:read', 'users:write']); // users:* covers what the key kept
    expect(await kw.check(bearer(token), { scopes: ['admin:all'] })).toMatchObject({ ok: false, code: 'INSUFFICIENT_SCOPE', status: 403 });
    expect(await kw.tokens.verify(token)).toMatchObject({ principal: { scopes: ['docs:read', 'users:read', 'users:write'] } });
    await kw.keys.update(record.id, { scopes: ['*'] });
    expect(await scopes()).toEqual(['docs:read', 'admin:all', 'users:*']); // what was granted at the exchange, no more
    await kw.close();
  });

  it('is refused with 503 STORE_UNAVAILABLE, never judged by a stale record, when the store fails after a change', async () => {
    const clock = manualClock(Date.parse('2026-04-01T08:00:00Z'));
    const store = new MemoryKeyStore();
    const kw = createKeyward({ clock, store, tokens: { signing } });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const token = await exchange(kw, record.id, key);
    expect(await kw.check(bearer(token))).toMatchObject({ ok: true });
    await kw.keys.update(record.id, { restrictions: { ip: { allow: ['192.0.2.0/24'] } } }); // drops the cached record
    store.get = async () => { throw new Error('store down'); };
    const d = await kw.check(bearer(token));
    expect(d).toMatchObject({ ok: false, code: 'STORE_UNAVAILABLE', status: 503, headers: { 'Retry-After': '1' } });
    expect(JSON.stringify(d)).not.toContain('store down');
    await kw.close();
  });
});
