import KoaCurrent from 'koa';
import Koa30 from 'koa3_0';
import Router from '@koa/router';
import { Readable } from 'node:stream';
import request from 'supertest';
import { createKeyward, manualClock, type Endpoint, type KeywardEvent } from '@keyward/core';
import { apiKeyAuth, endpoint, requireScopes } from './index';

/** `@keyward/koa` supports Koa ^3.0.0: every test runs on the current Koa 3 and on 3.0.0 (the `koa3_0` alias). */
const KOAS: ReadonlyArray<readonly [string, typeof KoaCurrent]> = [['koa 3 (current)', KoaCurrent], ['koa 3.0.0', Koa30]];

describe.each(KOAS)('@keyward/koa on %s', (_version, Koa) => {
  async function setup(options: Parameters<typeof createKeyward>[0] = {}) {
    const clock = manualClock(Date.parse('2026-06-01T12:00:00Z'));
    const kw = createKeyward({ clock, publicPaths: ['/health'], ...options });
    const app = new Koa();
    app.silent = true;
    const router = new Router();
    router.get('/health', (ctx) => { ctx.body = { ok: true, auth: ctx.state.auth ?? null }; });
    router.get('/docs', requireScopes('docs:read'), (ctx) => { ctx.body = { id: ctx.state.auth?.id, owner: ctx.state.auth?.owner }; });
    router.get('/both', requireScopes('(docs:read OR docs:write) AND users:view'), (ctx) => { ctx.body = 'both'; });
    router.options('/docs', (ctx) => { ctx.status = 204; });
    router.get('/stream', (ctx) => { ctx.type = 'text/plain'; ctx.body = Readable.from(['abc', 'defg', Buffer.from('hij')]); });
    app.use(apiKeyAuth(kw));
    app.use(router.routes());
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    return { kw, app, server: app.callback(), key, record, clock };
  }

  describe('@keyward/koa apiKeyAuth', () => {
    it('allows a valid key and sets ctx.state.auth', async () => {
      const { server, key, record, kw } = await setup();
      const res = await request(server).get('/docs').set('X-API-Key', key);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: record.id, owner: 'acme' });
      await kw.close();
    });

    it('answers 401 problem+json with the core headers when no credential is sent', async () => {
      const { server, kw } = await setup();
      const res = await request(server).get('/docs');
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="keyward"');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(JSON.parse(res.text)).toMatchObject({ status: 401, code: 'CREDENTIALS_MISSING' });
      await kw.close();
    });

    it('answers 403 insufficient_scope from requireScopes', async () => {
      const { server, key, kw } = await setup();
      const res = await request(server).get('/both').set('X-API-Key', key);
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toContain('scope="docs:read docs:write users:view"');
      expect(JSON.parse(res.text).code).toBe('INSUFFICIENT_SCOPE');
      await kw.close();
    });

    it('leaves public paths and CORS preflights alone, but not a bare OPTIONS', async () => {
      const { server, kw } = await setup();
      const health = await request(server).get('/health');
      expect(health.status).toBe(200);
      expect(health.body).toEqual({ ok: true, auth: null });
      expect((await request(server).options('/docs').set('Origin', 'https://a.example').set('Access-Control-Request-Method', 'GET')).status).toBe(204);
      expect((await request(server).options('/docs')).status).toBe(401);
      await kw.close();
    });

    it('writes denials itself: an upstream error handler never sees them, nothing becomes a 500', async () => {
      const kw = createKeyward();
      const app = new Koa();
      const errors: unknown[] = [];
      app.on('error', (e) => errors.push(e));
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch (e) {
          errors.push(e);
          ctx.status = 500;
        }
      });
      app.use(apiKeyAuth(kw));
      app.use((ctx) => { ctx.body = 'secret'; });
      const res = await request(app.callback()).get('/x').set('X-API-Key', 'garbage');
      expect(res.status).toBe(401);
      expect(res.text).not.toContain('secret');
      expect(errors).toEqual([]);
      await kw.close();
    });

    it('sets the core headers on allowed responses (Deprecation and Sunset inside a rotation grace period)', async () => {
      const { server, key, record, kw } = await setup();
      await kw.keys.rotate(record.id, { gracePeriod: '1h' });
      const res = await request(server).get('/docs').set('X-API-Key', key);
      expect(res.status).toBe(200);
      expect(res.headers['deprecation']).toMatch(/^@\d+$/);
      expect(res.headers['sunset']).toBe(new Date(Date.parse('2026-06-01T13:00:00Z')).toUTCString());
      await kw.close();
    });

    it("keeps keyward's headers on error responses (a thrown error, ctx.throw with a status), as Express and Nest do", async () => {
      const clock = manualClock(Date.parse('2026-06-01T12:00:00Z'));
      const kw = createKeyward({ clock, limits: { rules: { burst: { points: 100, window: '10s' } } } });
      const { key, record } = await kw.keys.create({ owner: 'acme' });
      await kw.keys.rotate(record.id, { gracePeriod: '1h' });
      const router = new Router();
      router.get('/t404', (ctx) => ctx.throw(404));
      router.get('/boom', () => { throw new Error('boom'); });
      class Fixed extends Error {
        readonly status = 404;
        readonly expose = true;
        get headers() { return { 'X-Own': '1' }; }
      }
      router.get('/fixed', () => { throw new Fixed('gone'); });
      router.get('/own', (ctx) => ctx.throw(409, 'taken', { headers: { 'ratelimit-policy': 'mine', 'X-Own': '1' } }));
      const plain = new Koa();
      plain.silent = true;
      plain.use(apiKeyAuth(kw)).use(router.routes());
      const seen: unknown[] = [];
      const formatted = new Koa();
      formatted.use(async (ctx, next) => {
        try {
          await next();
        } catch (e) {
          const err = e as { status?: number; headers?: Record<string, string> };
          seen.push(err.headers);
          ctx.status = err.status ?? 500;
          ctx.body = { error: ctx.status };
        }
      });
      formatted.use(apiKeyAuth(kw)).use(router.routes());
      for (const [app, path, status] of [[plain, '/t404', 404], [plain, '/boom', 500], [formatted, '/t404', 404], [formatted, '/boom', 500]] as const) {
        const res = await request(app.callback()).get(path).set('X-API-Key', key);
        expect([path, res.status]).toEqual([path, status]);
        expect(res.headers['ratelimit']).toMatch(/^"burst";r=\d+;t=10$/);
        expect(res.headers['ratelimit-policy']).toBe('"burst";q=100;w=10');
        expect(res.headers['deprecation']).toMatch(/^@\d+$/);
        expect(res.headers['sunset']).toBe(new Date(Date.parse('2026-06-01T13:00:00Z')).toUTCString());
      }
      expect(seen).toEqual([expect.objectContaining({ 'RateLimit-Policy': '"burst";q=100;w=10' }), expect.objectContaining({ 'RateLimit-Policy': '"burst";q=100;w=10' })]);
      const fixed = await request(plain.callback()).get('/fixed').set('X-API-Key', key);
      expect([fixed.status, fixed.headers['x-own']]).toEqual([404, '1']); // its own error, not a TypeError from setting `headers`
      const own = await request(plain.callback()).get('/own').set('X-API-Key', key);
      expect([own.status, own.headers['ratelimit-policy'], own.headers['x-own'], own.headers['deprecation']]).toEqual([409, 'mine', '1', expect.stringMatching(/^@\d+$/)]);
      await kw.close();
    });

    it('reports status and bytes of a streamed body through done()', async () => {
      const { server, key, kw } = await setup();
      const events: KeywardEvent[] = [];
      kw.on('request.completed', (e) => { events.push(e); });
      const res = await request(server).get('/stream').set('X-API-Key', key).set('X-Request-Id', 'koa-stream');
      expect(res.text).toBe('abcdefghij');
      await new Promise((r) => setTimeout(r, 10));
      await kw.flushEvents();
      expect(events).toEqual([expect.objectContaining({ requestId: 'koa-stream', status: 200, bytes: 10, path: '/stream' })]);
      await kw.close();
    });

    it('answers a store failure with 503 and Retry-After', async () => {
      const { server, key, kw } = await setup({ cache: false });
      jest.spyOn(kw.config.store, 'findByHash').mockRejectedValue(new Error('down'));
      const res = await request(server).get('/docs').set('X-API-Key', key);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(JSON.parse(res.text).code).toBe('STORE_UNAVAILABLE');
      await kw.close();
    });

    it('can scope a whole mount through options, with a cost', async () => {
      const kw = createKeyward();
      const { key } = await kw.keys.create({ owner: 'o', scopes: ['admin:*'] });
      const { key: weak } = await kw.keys.create({ owner: 'o', scopes: ['docs:read'] });
      const app = new Koa();
      app.use(apiKeyAuth({ keyward: kw, scopes: 'admin:write', cost: 2 }));
      app.use((ctx) => { ctx.body = 'admin'; });
      expect((await request(app.callback()).get('/admin').set('X-API-Key', key)).status).toBe(200);
      expect((await request(app.callback()).get('/admin').set('X-API-Key', weak)).status).toBe(403);
      await kw.close();
    });

    it('decides a request once when an app-level mount and a route mount of the same instance both run', async () => {
      // app.use(apiKeyAuth(kw)) and router.get(path, apiKeyAuth({ keyward: kw, scopes }), …): each request was decided
      // twice (two auth.succeeded and request.completed events, its limits counted twice).
      const kw = createKeyward({ limits: { rules: { burst: { points: 10, window: '1m' } } } });
      const events: KeywardEvent[] = [];
      kw.on('auth.succeeded', (e) => { events.push(e); });
      kw.on('request.completed', (e) => { events.push(e); });
      const { key } = await kw.keys.create({ owner: 'o', scopes: ['admin:*'] });
      const { key: weak } = await kw.keys.create({ owner: 'o', scopes: ['docs:read'] });
      const app = new Koa();
      const router = new Router();
      router.get('/admin', apiKeyAuth({ keyward: kw, scopes: 'admin:write' }), (ctx) => { ctx.body = 'admin'; });
      app.use(apiKeyAuth(kw));
      app.use(router.routes());
      const res = await request(app.callback()).get('/admin').set('X-API-Key', key);
      expect([res.status, res.headers['ratelimit']?.split(';t=')[0]]).toEqual([200, '"burst";r=9']);
      const refused = await request(app.callback()).get('/admin').set('X-API-Key', weak);
      expect([refused.status, refused.body.code]).toEqual([403, 'INSUFFICIENT_SCOPE']);
      expect(refused.headers['www-authenticate']).toContain('scope="admin:write"');
      await new Promise((r) => setTimeout(r, 10));
      await kw.flushEvents();
      expect(events.map((e) => e.type)).toEqual(['auth.succeeded', 'request.completed', 'auth.succeeded', 'request.completed']);
      await kw.close();
    });

    it('fails at start-up with a TypeError naming the option, without touching the options', () => {
      const options = Object.freeze({ prefix: 'BAD PREFIX' });
      expect(() => apiKeyAuth(options)).toThrow(/"prefix"/);
      expect(() => apiKeyAuth({ keyward: createKeyward(), header: 'x' })).toThrow(/"keyward"/);
      expect(() => apiKeyAuth({ keyward: {} as never })).toThrow(/"keyward"/);
      expect(() => apiKeyAuth({ cost: -1 })).toThrow(/"cost"/);
      expect(() => apiKeyAuth({ scopes: [] })).toThrow('keyward: option "scopes": a scope requirement needs at least one scope');
      expect(() => apiKeyAuth({ scopes: 'docs:read AND' })).toThrow(/^keyward: option "scopes": /);
      expect(() => requireScopes('a AND')).toThrow(TypeError);
      const auth = apiKeyAuth({ publicPaths: ['/x'] });
      expect(typeof auth.keyward.check).toBe('function');
    });

    it('throws NOT_AUTHENTICATED to Koa when requireScopes runs without apiKeyAuth', async () => {
      const app = new Koa();
      let code: string | undefined;
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch (e) {
          code = (e as { code?: string }).code;
          ctx.status = 500;
        }
      });
      app.use(requireScopes('a'));
      await request(app.callback()).get('/x');
      expect(code).toBe('NOT_AUTHENTICATED');
    });
  });

  describe('@keyward/koa endpoint', () => {
    const echo: Endpoint = async (r) => ({ status: 200, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, body: JSON.stringify({ method: r.method, path: r.path, body: r.body === undefined ? null : r.body.toString() }) });

    it('serves a core endpoint with the raw form body', async () => {
      const app = new Koa();
      const router = new Router();
      router.post('/oauth/token', endpoint(echo));
      app.use(router.routes());
      const res = await request(app.callback()).post('/oauth/token?x=1').type('form').send('grant_type=client_credentials&scope=a+b');
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ method: 'POST', path: '/oauth/token', body: 'grant_type=client_credentials&scope=a+b' });
    });

    it('uses a body a parser already read, and refuses an oversized one with 413', async () => {
      const app = new Koa();
      app.use(async (ctx, next) => {
        if (ctx.path === '/parsed') {
          (ctx.request as { body?: unknown }).body = { grant_type: 'client_credentials', scope: 'a b' };
          ctx.req.resume();
          await new Promise((r) => ctx.req.on('end', r));
        }
        await next();
      });
      app.use(endpoint(echo));
      const parsed = await request(app.callback()).post('/parsed').type('form').send('ignored=1');
      expect(parsed.body.body).toBe('grant_type=client_credentials&scope=a+b');
      const big = await request(app.callback()).post('/big').type('form').send('a='.padEnd(70 * 1024, 'x'));
      expect(big.status).toBe(413);
      expect(() => endpoint(undefined as never)).toThrow(TypeError);
    });
  });
});
