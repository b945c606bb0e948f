import { createKeyward, manualClock, type Decision, type KeyStore, type KeywardEvent } from '../index';
import { MemoryKeyStore } from '../stores/memory-key-store';

const request = (key: string) => ({ method: 'GET', path: '/docs', headers: { 'x-api-key': key }, remoteAddress: '127.0.0.1' });

describe('decide()', () => {
  it('answers synchronously for a cached key, with a promise on a cache miss, the same decision either way', async () => {
    const kw = createKeyward();
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const first = kw.decide(request(key), { scopes: ['docs:read'] });
    expect(first).toBeInstanceOf(Promise); // the cache is empty: the store is asked
    const fromStore = (await first) as Decision;
    const cached = kw.decide(request(key), { scopes: ['docs:read'] });
    expect(cached).not.toBeInstanceOf(Promise);
    expect(cached).toMatchObject({ ok: true, principal: { id: record.id, owner: 'acme' } });
    expect((cached as Decision).ok && (cached as { principal: unknown }).principal).toBe(fromStore.ok && fromStore.principal);
    const refused = kw.decide(request(key), { scopes: ['docs:write'] });
    expect(refused).toMatchObject({ ok: false, code: 'INSUFFICIENT_SCOPE', status: 403 });
    await kw.close();
  });

  it('a path with a raw "#" is never public: routers route only what is before it', async () => {
    const kw = createKeyward({ publicPaths: [/\.css$/, '/assets/*', '/health'] });
    const at = (path: string) => kw.check({ method: 'GET', path, headers: {}, remoteAddress: '127.0.0.1' });
    expect(await at('/site.css')).toMatchObject({ ok: true, skipped: true });
    expect(await at('/assets/a/b')).toMatchObject({ ok: true, skipped: true });
    for (const p of ['/admin#x.css', '/admin#/site.css', '/assets/x#y', '/health#']) expect([p, await at(p)]).toMatchObject([p, { ok: false, code: 'CREDENTIALS_MISSING' }]);
    await kw.close();
  });

  it('an absolute-form target is never public: routers read its path, which a public pattern may not match', async () => {
    const kw = createKeyward({ publicPaths: [/\.(css|js)/, '/health'] });
    const at = (path: string) => kw.check({ method: 'GET', path, headers: {}, remoteAddress: '127.0.0.1' });
    expect(await at('/x.css')).toMatchObject({ ok: true, skipped: true });
    // Express and Koa route this to /admin
    for (const p of ['http://a.css/admin', 'http://x/health', '*']) expect([p, await at(p)]).toMatchObject([p, { ok: false, code: 'CREDENTIALS_MISSING' }]);
    await kw.close();
  });

  it('a path with a raw ";" is public only when what is before it is too (Fastify\'s useSemicolonDelimiter routes that)', async () => {
    const kw = createKeyward({ publicPaths: [/\.css$/, '/assets/*', '/health'] });
    const at = (path: string) => kw.check({ method: 'GET', path, headers: {}, remoteAddress: '127.0.0.1' });
    for (const p of ['/assets/a;v=2', '/assets/a;b/c.css']) expect([p, await at(p)]).toMatchObject([p, { ok: true, skipped: true }]);
    for (const p of ['/admin;x.css', '/admin;/assets/a', '/health;jsessionid=1']) expect([p, await at(p)]).toMatchObject([p, { ok: false, code: 'CREDENTIALS_MISSING' }]);
    await kw.close();
  });

  it('a request whose connection closed before it was read (its address lost with the socket) is refused, not let through as an unknown address', async () => {
    // a country deny-list lets an unknown address through, and per-address limits skip it: closing the connection
    // behind an async middleware must not be a way around them
    const kw = createKeyward({ trustProxy: 'loopback', countryLookup: (a) => (a === '8.8.8.8' ? 'US' : undefined), restrictions: { countries: { deny: ['US'] } } });
    const events: KeywardEvent[] = [];
    kw.on('access.denied', (e) => void events.push(e));
    const { key } = await kw.keys.create({ owner: 'acme' });
    const via = (extra: object) => kw.check({ method: 'POST', path: '/transfer', headers: { 'x-api-key': key, 'x-forwarded-for': '8.8.8.8' }, ...extra });
    expect(await via({ remoteAddress: '127.0.0.1' })).toMatchObject({ ok: false, code: 'COUNTRY_FORBIDDEN' });
    expect(await via({ closed: true })).toMatchObject({ ok: false, code: 'IP_FORBIDDEN', status: 403, problem: { detail: 'The connection closed before the client address could be read.' } });
    await new Promise((r) => setImmediate(r)); // events are delivered after the decision
    expect(events.map((e) => [e.reason, e.clientAddress])).toEqual([['COUNTRY_FORBIDDEN', '8.8.8.8'], ['IP_FORBIDDEN', undefined]]);
    // a request without an address that did not say its connection closed (kw.check from a script) is decided as before
    expect(await via({})).toMatchObject({ ok: true, clientAddress: undefined });
    await kw.close();
  });

  it('caches only keys whose shape it checked: a key of another prefix stays refused, request after request', async () => {
    const store = new MemoryKeyStore();
    const old = createKeyward({ store, prefix: 'kw' });
    const { key } = await old.keys.create({ owner: 'acme' });
    const renamed = createKeyward({ store, prefix: 'acme', legacyKeys: true });
    for (let i = 0; i < 3; i++) expect(await renamed.check(request(key))).toMatchObject({ ok: false, code: 'CREDENTIALS_INVALID' });
    expect(await old.check(request(key))).toMatchObject({ ok: true });
    expect(old.decide(request(key))).toMatchObject({ ok: true }); // cached, synchronous
    await old.close();
    await renamed.close();
  });

  it('never throws: a closed instance or a failing store is a rejected promise or a 503 decision', async () => {
    const store = new MemoryKeyStore();
    const failing: KeyStore = Object.assign(Object.create(store), { findByHash: () => { throw new Error('down'); } });
    const kw = createKeyward({ store: failing, cache: false });
    const { key } = await kw.keys.create({ owner: 'acme' });
    const d = kw.decide(request(key));
    expect(await d).toMatchObject({ ok: false, code: 'STORE_UNAVAILABLE' });
    await kw.close();
    const closed = kw.decide(request(key));
    expect(closed).toBeInstanceOf(Promise);
    await expect(closed).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('shares one frozen principal per cached record, so no handler can change what a later request sees', async () => {
    const kw = createKeyward();
    const { key } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'], metadata: { tier: { name: 'gold' } } });
    const a = (await kw.check(request(key))) as Extract<Decision, { ok: true }>;
    const b = (await kw.check(request(key))) as Extract<Decision, { ok: true }>;
    expect(b.principal).toBe(a.principal);
    expect(Object.isFrozen(a.principal)).toBe(true);
    expect(Object.isFrozen(a.principal!.scopes)).toBe(true);
    expect(() => { (a.principal!.scopes as string[]).push('admin:*'); }).toThrow(TypeError);
    expect(() => { ((a.principal!.metadata as { tier: { name: string } }).tier).name = 'platinum'; }).toThrow(TypeError);
    expect(b.principal!.metadata).toEqual({ tier: { name: 'gold' } });
    await kw.close();
  });

  it('stamps auth.succeeded with the request time and request.completed with the completion time', async () => {
    const clock = manualClock(Date.parse('2026-06-01T12:00:00.007Z'));
    const kw = createKeyward({ clock });
    const events: KeywardEvent[] = [];
    kw.on('*', (e) => { events.push(e); });
    const { key } = await kw.keys.create({ owner: 'acme' });
    await kw.check(request(key)); // warm the cache
    const d = (await kw.check(request(key))) as Extract<Decision, { ok: true }>;
    clock.advance(1_993);
    d.done({ status: 200, bytes: 3 });
    await kw.flushEvents();
    const [succeeded, completed] = events.filter((e) => e.type === 'auth.succeeded' || e.type === 'request.completed').slice(-2);
    expect(succeeded).toMatchObject({ type: 'auth.succeeded', time: '2026-06-01T12:00:00.007Z' });
    expect(completed).toMatchObject({ type: 'request.completed', time: '2026-06-01T12:00:02.000Z', status: 200, bytes: 3 });
    await kw.close();
  });

  it("reports each request once, through its own done, even when done is detached or called again", async () => {
    const kw = createKeyward();
    const events: KeywardEvent[] = [];
    kw.on('request.completed', (e) => { events.push(e); });
    const { key } = await kw.keys.create({ owner: 'acme' });
    const a = (await kw.check({ ...request(key), path: '/a' })) as Extract<Decision, { ok: true }>;
    const b = (await kw.check({ ...request(key), path: '/b' })) as Extract<Decision, { ok: true }>;
    const { done } = b; // adapters hand it over on its own, as a callback
    done({ status: 201, bytes: 2 });
    a.done({ status: 200, bytes: 1 });
    done({ status: 500, bytes: 9 });
    a.done({ status: 500, bytes: 9 });
    await kw.flushEvents();
    expect(events.map((e) => [e.path, e.status, e.bytes])).toEqual([['/b', 201, 2], ['/a', 200, 1]]);
    await kw.close();
  });
});
