import { SignJWT, type JWTPayload } from 'jose';
import { createKeyward, manualClock, type KeywardEvent, type KeywardOptions, type RevocationStore } from '../index';
import { EventBus } from '../events/bus';
import type { FeatureDeps } from '../features/deps';
import type { AuthOutcome, PipelineContext } from '../pipeline/context';
import { tokensFeature, type TokensFeature } from './feature';

const T0 = Date.parse('2026-05-01T12:00:00Z');
const SECRET = 'an-hmac-secret-that-is-long-enough-0123456789';
const ISS = 'https://auth.example.com/';
const AUD = 'api://docs';
const ISSUERS = [{ issuer: ISS, audience: AUD, secret: SECRET, algorithms: ['HS256'] }];

const hs = (payload: JWTPayload) =>
  new SignJWT({ iss: ISS, aud: AUD, sub: 'user-1', ...payload })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(Math.floor(T0 / 1000))
    .setExpirationTime(Math.floor(T0 / 1000) + 600)
    .sign(new TextEncoder().encode(SECRET));

/** The tokens feature alone, its JWT authenticator, and the events it emitted. */
function jwtAuthenticator(tokens: KeywardOptions['tokens']) {
  const clock = manualClock(T0);
  const events = new EventBus(clock);
  const emitted: KeywardEvent[] = [];
  events.on('*', (e) => { emitted.push(e); });
  const deps = { clock, events, challenge: { realm: 'keyward', schemes: ['Bearer'] } } as unknown as FeatureDeps;
  const feature = tokensFeature({ clock, tokens }, deps) as TokensFeature;
  const authenticator = feature.authenticators![0]!;
  const ctx = { now: T0 } as PipelineContext;
  const authenticate = (token: string) => authenticator.authenticate({ value: token, source: 'authorization', scheme: 'bearer' }, ctx);
  return { api: feature.api, authenticate, events, emitted };
}

/** An asynchronous store, as Redis or PostgreSQL would be. */
function asyncStore(): RevocationStore & { checks: number } {
  const revoked = new Set<string>();
  return {
    checks: 0,
    async revoke(jti) { revoked.add(jti); },
    async isRevoked(jti) { this.checks++; return revoked.has(jti); },
  };
}

describe('the JWT authenticator', () => {
  it('answers a cached token at once with the memory revocation store, and refuses it at once once revoked', async () => {
    const { api, authenticate } = jwtAuthenticator({ issuers: ISSUERS });
    const token = await hs({ jti: 'sync-1', scope: 'docs:read' });
    const first = authenticate(token);
    expect(first).toBeInstanceOf(Promise); // not cached yet: jose verifies the signature
    const verified = (await first) as Extract<AuthOutcome, { principal: unknown }>;
    expect(verified.principal).toMatchObject({ type: 'token', id: 'user-1', keyId: 'sync-1', scopes: ['docs:read'] });

    const cached = authenticate(token);
    expect(cached).not.toBeInstanceOf(Promise);
    expect((cached as typeof verified).principal).toBe(verified.principal); // shared, not rebuilt
    expect(authenticate(token)).toBe(cached); // nothing allocated per request

    await api.revoke('sync-1');
    const refused = authenticate(token);
    expect(refused).not.toBeInstanceOf(Promise);
    // The refusal names the verified token it refused, for its event (see refusal-events.test.ts).
    expect(refused).toEqual({ code: 'TOKEN_INVALID', detail: 'The token has been revoked.', token: expect.objectContaining({ type: 'token', subject: 'user-1', keyId: 'sync-1' }) });
  });

  it('shares a frozen principal whose metadata no handler can change, nor the claims through it', async () => {
    const { api, authenticate } = jwtAuthenticator({ issuers: [{ ...ISSUERS[0]!, claims: { metadata: ['org'] } }] });
    const token = await hs({ jti: 'frozen-1', scope: 'docs:read', org: { id: 'acme', tags: ['a'] } });
    const { principal } = (await authenticate(token)) as Extract<AuthOutcome, { principal: unknown }>;
    expect(Object.isFrozen(principal)).toBe(true);
    expect(() => { (principal.scopes as string[]).push('admin:*'); }).toThrow(TypeError);
    expect(() => { ((principal.metadata['org'] as { tags: string[] }).tags).push('b'); }).toThrow(/not extensible/); // a clone: another realm's TypeError under jest
    const v = await api.verify(token);
    expect('claims' in v && v.claims['org']).toEqual({ id: 'acme', tags: ['a'] });
    expect('claims' in v && Object.isFrozen(v.claims['org'])).toBe(true); // the cache's claims, which later requests read
  });

  it('stays asynchronous with an asynchronous revocation store, and checks it on every request', async () => {
    const store = asyncStore();
    const { api, authenticate } = jwtAuthenticator({ issuers: ISSUERS, revocationStore: store });
    const token = await hs({ jti: 'async-1' });
    expect(await authenticate(token)).toHaveProperty('principal');
    const cached = authenticate(token);
    expect(cached).toBeInstanceOf(Promise);
    expect(await cached).toHaveProperty('principal');
    expect(store.checks).toBe(2);
    await api.revoke('async-1');
    expect(await authenticate(token)).toEqual({ code: 'TOKEN_INVALID', detail: 'The token has been revoked.', token: expect.objectContaining({ type: 'token', subject: 'user-1', keyId: 'async-1' }) });
  });

  it('answers a cached token without a jti at once whatever the store, there being nothing to look up', async () => {
    const store = asyncStore();
    const { authenticate } = jwtAuthenticator({ issuers: ISSUERS, revocationStore: store });
    const token = await hs({});
    await authenticate(token);
    expect(authenticate(token)).not.toBeInstanceOf(Promise);
    expect(store.checks).toBe(0);
  });

  it('answers 503 at once when a synchronous store fails, and says so in an event', async () => {
    let failing = false;
    const store = {
      async revoke() {},
      async isRevoked() { return false; },
      isRevokedSync() { if (failing) throw new Error('down'); return false; },
    };
    const { authenticate, emitted, events } = jwtAuthenticator({ issuers: ISSUERS, revocationStore: store });
    const token = await hs({ jti: 'fails-1' });
    await authenticate(token);
    failing = true;
    expect(authenticate(token)).toEqual({ code: 'STORE_UNAVAILABLE', detail: 'The revocation list is unavailable.' });
    await events.flush();
    expect(emitted).toContainEqual(expect.objectContaining({ type: 'store.error', reason: 'REVOCATION_STORE_FAILED' }));
  });

  it('keeps kw.tokens.verify() a promise, cached or not', async () => {
    const { api } = jwtAuthenticator({ issuers: ISSUERS });
    const token = await hs({ jti: 'api-1' });
    expect(await api.verify(token)).toHaveProperty('principal');
    const cached = api.verify(token);
    expect(cached).toBeInstanceOf(Promise);
    expect(await cached).toHaveProperty('principal.keyId', 'api-1');
  });
});

describe('decide() with a token', () => {
  it('decides synchronously for a cached token, and refuses it at once after kw.tokens.revoke()', async () => {
    const kw = createKeyward({ clock: manualClock(T0), tokens: { issuers: ISSUERS } });
    const token = await hs({ jti: 'decide-1', scope: 'docs:read' });
    const request = { method: 'GET', path: '/docs', headers: { authorization: `Bearer ${token}` } };
    const first = kw.decide(request, { scopes: ['docs:read'] });
    expect(first).toBeInstanceOf(Promise); // not cached yet
    expect(await first).toMatchObject({ ok: true });
    const cached = kw.decide(request, { scopes: ['docs:read'] });
    expect(cached).not.toBeInstanceOf(Promise);
    expect(cached).toMatchObject({ ok: true, principal: { type: 'token', keyId: 'decide-1' } });
    await kw.tokens.revoke('decide-1');
    const refused = kw.decide(request, { scopes: ['docs:read'] });
    expect(refused).not.toBeInstanceOf(Promise);
    expect(refused).toMatchObject({ ok: false, status: 401, code: 'TOKEN_INVALID', problem: { detail: 'The token has been revoked.' } });
    await kw.close();
  });
});

describe('decide() with a store that returns a non-native thenable', () => {
  it('still hands adapters a native promise (they test `instanceof Promise`), with the same decision', async () => {
    const revoked = new Set<string>();
    type Thenable<T> = { then: <R>(ok: (v: T) => R) => Thenable<R> };
    const thenable = <T>(value: T): Thenable<T> => ({ then: (ok) => thenable(ok(value)) }); // never a native promise
    const store: RevocationStore = { revoke: async (jti) => { revoked.add(jti); }, isRevoked: (jti) => thenable(revoked.has(jti)) as unknown as Promise<boolean> };
    const kw = createKeyward({ clock: manualClock(T0), tokens: { issuers: ISSUERS, revocationStore: store } });
    const token = await hs({ jti: 'thenable-1', scope: 'docs:read' });
    const request = { method: 'GET', path: '/docs', headers: { authorization: `Bearer ${token}` } };
    await kw.check(request); // cache the token
    const d = kw.decide(request);
    expect(d).toBeInstanceOf(Promise);
    expect(await d).toMatchObject({ ok: true, principal: { keyId: 'thenable-1' } });
    await kw.tokens.revoke('thenable-1');
    const refused = kw.decide(request);
    expect(refused).toBeInstanceOf(Promise);
    expect(await refused).toMatchObject({ ok: false, code: 'TOKEN_INVALID' });
    await kw.close();
  });
});
