import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, exportJWK } from 'jose';
import { createKeyward, manualClock, type KeywardEvent, type RemoteJwksOptions } from '../index';

const ISS = 'https://idp.example.com/';
const AUD = 'api://docs';

/**
 * A real identity provider's JWKS endpoint whose answer the test switches: the key set, a 503, or no answer at all.
 * Counts the fetches it received.
 */
async function provider() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const state = { mode: 'ok' as 'ok' | 'down' | 'hang' | 'padded' | 'endless' | 'dribble' | 'cut', fetches: 0, padding: 0, sent: 0 };
  const hanging = new Set<import('node:http').ServerResponse>();
  const server: Server = createServer((_req, res) => {
    state.fetches++;
    if (state.mode === 'hang') return void hanging.add(res);
    if (state.mode === 'down') return void res.writeHead(503).end('maintenance: db password hunter2');
    res.setHeader('Content-Type', 'application/json');
    if (state.mode === 'cut') return void res.write('{"keys":[', () => res.destroy()); // the connection drops mid-body
    if (state.mode === 'padded') return void res.end(JSON.stringify({ keys: [jwk], padding: 'x'.repeat(state.padding) })); // a valid set, only large
    if (state.mode === 'endless' || state.mode === 'dribble') {
      // A body that never ends: as fast as the socket takes it, or one byte every 20 ms.
      hanging.add(res);
      const chunk = state.mode === 'endless' ? Buffer.alloc(64 * 1024, 0x20) : Buffer.from(' ');
      res.write('{"keys":[');
      const more = () => {
        if (res.destroyed) return;
        state.sent += chunk.length;
        if (state.mode === 'dribble') return void res.write(chunk, () => setTimeout(more, 20));
        if (res.write(chunk)) setImmediate(more);
        else res.once('drain', more);
      };
      res.on('error', () => {});
      return more();
    }
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  const sign = (kid = 'k1') => new SignJWT({ sub: 'user-1', aud: AUD, iss: ISS }).setProtectedHeader({ alg: 'ES256', kid }).setIssuedAt().setExpirationTime('2h').sign(privateKey);
  const close = async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return { state, url, sign, close };
}

/** jose decides its set's freshness by the real time, keyward by its clock: both past a `maxAge` of 100 ms. */
async function pastMaxAge(clock: { advance(ms: number): void }) {
  await new Promise((r) => setTimeout(r, 150));
  clock.advance(150);
}

async function instance(url: string, jwksCache: RemoteJwksOptions) {
  const clock = manualClock(Date.now());
  const kw = createKeyward({ clock, tokens: { cache: false, issuers: [{ issuer: ISS, audience: AUD, jwksUri: url, algorithms: ['ES256'], jwksCache }] } });
  const events: KeywardEvent[] = [];
  kw.on('store.error', (e) => { events.push(e); });
  const check = async (token: string) => {
    const d = await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${token}` } });
    return d.ok ? 200 : d.status;
  };
  const unavailable = async () => {
    await kw.flushEvents();
    return events.filter((e) => e.reason === 'JWKS_UNAVAILABLE').length;
  };
  return { kw, clock, check, unavailable };
}

describe('remote JWKS while the identity provider is down', () => {
  it('verifies with the last set fetched for staleIfError past maxAge, fetching again only after the cooldown', async () => {
    const idp = await provider();
    const { kw, clock, check, unavailable } = await instance(idp.url, { maxAge: '100ms', cooldown: '30s', staleIfError: '10m' });
    try {
      const token = await idp.sign();
      expect(await check(token)).toBe(200);
      expect(idp.state.fetches).toBe(1);

      idp.state.mode = 'down';
      await pastMaxAge(clock);
      expect(await check(token)).toBe(200); // the fetch failed; the set fetched before still verifies
      expect(idp.state.fetches).toBe(2);
      for (let i = 0; i < 5; i++) expect(await check(token)).toBe(200);
      expect(idp.state.fetches).toBe(2); // no fetch until the cooldown is over: the provider is not called per request
      expect(await check(await idp.sign('made-up'))).toBe(401); // an unknown kid fetches nothing either
      expect(idp.state.fetches).toBe(2);
      expect(await unavailable()).toBe(1); // one failed fetch, one event

      clock.advance(30_000);
      expect(await check(token)).toBe(200);
      expect(idp.state.fetches).toBe(3);
      expect(await unavailable()).toBe(2);

      clock.advance(10 * 60_000); // past maxAge + staleIfError of the last set fetched
      const refused = await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${token}` } });
      expect(!refused.ok && [refused.status, refused.code]).toEqual([401, 'TOKEN_INVALID']);
      expect(JSON.stringify(refused)).not.toMatch(/hunter2|maintenance|JSON Web Key Set/);

      idp.state.mode = 'ok';
      clock.advance(30_000);
      expect(await check(token)).toBe(200); // the provider is back: fetched again
      expect(idp.state.fetches).toBe(5);
    } finally {
      await kw.close();
      await idp.close();
    }
  });

  it('with staleIfError 0, refuses once maxAge has passed, and still does not call the provider per request', async () => {
    const idp = await provider();
    const { kw, clock, check, unavailable } = await instance(idp.url, { maxAge: '100ms', cooldown: '30s', staleIfError: 0 });
    try {
      const token = await idp.sign();
      expect(await check(token)).toBe(200);
      idp.state.mode = 'down';
      await pastMaxAge(clock);
      for (let i = 0; i < 5; i++) expect(await check(token)).toBe(401);
      expect(idp.state.fetches).toBe(2);
      expect(await unavailable()).toBe(1);
    } finally {
      await kw.close();
      await idp.close();
    }
  });

  it('a provider that never answered is asked once per cooldown, not once per request', async () => {
    const idp = await provider();
    idp.state.mode = 'down';
    const { kw, clock, check, unavailable } = await instance(idp.url, { cooldown: '30s' });
    try {
      const token = await idp.sign();
      for (let i = 0; i < 5; i++) expect(await check(token)).toBe(401);
      expect(idp.state.fetches).toBe(1);
      expect(await unavailable()).toBe(1);
      idp.state.mode = 'ok';
      clock.advance(30_000);
      expect(await check(token)).toBe(200);
      expect(idp.state.fetches).toBe(2);
    } finally {
      await kw.close();
      await idp.close();
    }
  });

  it('a hanging provider holds up one round of requests (the timeout), then the stale set answers without waiting for it', async () => {
    const idp = await provider();
    const { kw, clock, check, unavailable } = await instance(idp.url, { maxAge: '100ms', cooldown: '30s', timeout: '300ms' });
    try {
      const token = await idp.sign();
      expect(await check(token)).toBe(200);
      idp.state.mode = 'hang';
      await pastMaxAge(clock);
      expect(await Promise.all([check(token), check(token), check(token)])).toEqual([200, 200, 200]); // one fetch, shared
      expect(idp.state.fetches).toBe(2);
      for (let i = 0; i < 3; i++) expect(await check(token)).toBe(200);
      expect(idp.state.fetches).toBe(2);
      expect(await unavailable()).toBe(1);
    } finally {
      await kw.close();
      await idp.close();
    }
  });

  it('refuses a key set larger than jwksCache.maxBytes (default 512 KiB) without reading it all: a hostile provider cannot fill the memory', async () => {
    const idp = await provider();
    const { kw, clock, check, unavailable } = await instance(idp.url, { cooldown: '30s', timeout: '1m' });
    try {
      const token = await idp.sign();
      idp.state.mode = 'padded';
      idp.state.padding = 8 * 1024 * 1024; // a valid key set of 8 MiB
      expect(await check(token)).toBe(401);
      expect(await unavailable()).toBe(1);
      idp.state.mode = 'endless'; // no length announced, and no end: read up to the bound, then the connection is dropped
      clock.advance(30_000);
      expect(await check(token)).toBe(401);
      expect(await unavailable()).toBe(2);
      expect(idp.state.sent).toBeLessThan(64 * 1024 * 1024); // what the sockets' buffers took, not what a minute of sending is
      idp.state.mode = 'padded';
      idp.state.padding = 400 * 1024; // under the bound: accepted
      clock.advance(30_000);
      expect(await check(token)).toBe(200);
    } finally {
      await kw.close();
      await idp.close();
    }
  });

  it('takes a smaller or larger jwksCache.maxBytes, and refuses one that is not a whole number of bytes from 1 KiB to 16 MiB', async () => {
    const idp = await provider();
    const { kw, check } = await instance(idp.url, { maxBytes: 1024 });
    try {
      idp.state.mode = 'padded';
      idp.state.padding = 2048;
      expect(await check(await idp.sign())).toBe(401);
    } finally {
      await kw.close();
      await idp.close();
    }
    for (const maxBytes of [0, 1023, 16 * 1024 * 1024 + 1, 1500.5, '1mb', Infinity]) {
      expect(() => createKeyward({ tokens: { issuers: [{ issuer: ISS, audience: AUD, jwksUri: 'https://idp.example.com/jwks', algorithms: ['ES256'], jwksCache: { maxBytes: maxBytes as number } }] } })).toThrow(new TypeError('keyward: option "tokens.issuers[0].jwksCache.maxBytes" must be a whole number of bytes from 1024 (1 KiB) to 16777216 (16 MiB)'));
    }
  });

  it('gives up on a body that dribbles in at the timeout, and reports it once', async () => {
    const idp = await provider();
    const { kw, check, unavailable } = await instance(idp.url, { timeout: '300ms' });
    try {
      idp.state.mode = 'dribble';
      const started = Date.now();
      expect(await check(await idp.sign())).toBe(401);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await unavailable()).toBe(1);
    } finally {
      await kw.close();
      await idp.close();
    }
  });

  it('a connection dropped mid-body is a failed fetch: reported once, and not fetched again until the cooldown', async () => {
    const idp = await provider();
    const { kw, clock, check, unavailable } = await instance(idp.url, { cooldown: '30s' });
    try {
      idp.state.mode = 'cut';
      const token = await idp.sign();
      for (let i = 0; i < 3; i++) expect(await check(token)).toBe(401);
      expect(idp.state.fetches).toBe(1);
      expect(await unavailable()).toBe(1);
      idp.state.mode = 'ok';
      clock.advance(30_000);
      expect(await check(token)).toBe(200);
    } finally {
      await kw.close();
      await idp.close();
    }
  });

  it('refuses a staleIfError that is not a duration, naming the option', () => {
    expect(() => createKeyward({ tokens: { issuers: [{ issuer: ISS, audience: AUD, jwksUri: 'https://idp.example.com/jwks', algorithms: ['ES256'], jwksCache: { staleIfError: 'forever' } }] } })).toThrow(/tokens\.issuers\[0\]\.jwksCache\.staleIfError/);
  });
});
