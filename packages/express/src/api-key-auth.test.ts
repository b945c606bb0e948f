import express from 'express';
import express4 from 'express4';
import { generateKeyPairSync } from 'node:crypto';
import { connect, type AddressInfo } from 'node:net';
import request from 'supertest';
import { createKeyward, manualClock, type Endpoint, type KeywardEvent } from '@keyward/core';
import { apiKeyAuth, decisionOf, endpoint, requireScopes } from './index';

/** `@keyward/express` supports Express 4 and 5 (peer range ^4.21 || ^5): every test runs on both majors. */
const MAJORS: ReadonlyArray<readonly [string, typeof express]> = [['express 5', express], ['express 4', express4]];

describe.each(MAJORS)('@keyward/express on %s', (_major, createApp) => {
  async function setup(options: Parameters<typeof createKeyward>[0] = {}) {
    const clock = manualClock(Date.parse('2026-06-01T12:00:00Z'));
    const kw = createKeyward({ clock, publicPaths: ['/health'], ...options });
    const app = createApp();
    app.use(apiKeyAuth(kw));
    app.get('/health', (_req, res) => { res.json({ ok: true }); });
    app.get('/docs', requireScopes('docs:read'), (req, res) => { res.json({ id: req.auth?.id, owner: req.auth?.owner }); });
    app.get('/both', requireScopes('(docs:read OR docs:write) AND users:view'), (_req, res) => { res.send('both'); });
    app.options('/docs', (_req, res) => { res.status(204).end(); });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    return { kw, app, key, record, clock };
  }

  describe('@keyward/express apiKeyAuth', () => {
    it('allows a valid key and sets req.auth', async () => {
      const { app, key, record } = await setup();
      const res = await request(app).get('/docs').set('X-API-Key', key);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: record.id, owner: 'acme' });
    });

    it('keeps the decision for the request while it is handled, and forgets it once the response has finished', async () => {
      const { app, key, kw } = await setup();
      kw.on('*', () => {}); // a listener: the response is tracked
      let held: { req: express.Request; during: boolean } | undefined;
      app.get('/held', requireScopes('docs:read'), (req, res) => {
        held = { req, during: decisionOf(req)?.decision.principal === req.auth };
        res.send('ok');
      });
      expect((await request(app).get('/held').set('X-API-Key', key)).status).toBe(200);
      expect(held!.during).toBe(true);
      expect(decisionOf(held!.req)).toBeUndefined(); // nothing of the decision outlives the request
    });

    it('reads the request and sets headers through what a middleware before it put on req and res', async () => {
      // keyward reads Express requests with Reflect.get (cheaper on Express's per-request hidden classes): the same
      // [[Get]] as a plain read, so an own property or a wrapped method set by an earlier middleware is honoured.
      const kw = createKeyward({ limits: { rules: { burst: { points: 10, window: '1m' } } } });
      const { key } = await kw.keys.create({ owner: 'acme', scopes: [] });
      const app = createApp();
      const seen: string[] = [];
      app.use((req, res, next) => {
        req.originalUrl = '/rewritten?x=1';
        const setHeader = res.setHeader;
        res.setHeader = function (this: express.Response, name: string, value: string | number | readonly string[]) {
          seen.push(name);
          return setHeader.call(this, name, value);
        } as typeof res.setHeader;
        next();
      });
      app.use(apiKeyAuth(kw));
      let path: unknown;
      kw.on('auth.succeeded', (e) => { path = e.path; });
      app.get('/original', (_req, res) => { res.send('ok'); });
      const res = await request(app).get('/original').set('X-API-Key', key);
      expect(res.status).toBe(200);
      expect(seen).toEqual(expect.arrayContaining(['RateLimit-Policy', 'RateLimit']));
      await new Promise((r) => setImmediate(r));
      expect(path).toBe('/rewritten?x=1');
    });

    it('accepts the key as a Bearer credential, scheme case-insensitive', async () => {
      const { app, key } = await setup();
      expect((await request(app).get('/docs').set('Authorization', `bearer ${key}`)).status).toBe(200);
      expect((await request(app).get('/docs').set('Authorization', `BEARER ${key}`)).status).toBe(200);
    });

    it('answers 401 problem+json with a bare challenge when no credential is sent', async () => {
      const { app } = await setup();
      const res = await request(app).get('/docs');
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="keyward"');
      expect(res.body).toMatchObject({ status: 401, code: 'CREDENTIALS_MISSING' });
    });

    it('answers 403 insufficient_scope naming the scopes', async () => {
      const { app, key } = await setup();
      const res = await request(app).get('/both').set('X-API-Key', key);
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
      expect(res.headers['www-authenticate']).toContain('scope="docs:read docs:write users:view"');
      expect(res.body.code).toBe('INSUFFICIENT_SCOPE');
    });

    it('makes unknown, malformed and wrong-checksum keys indistinguishable', async () => {
      const { app, key, kw } = await setup();
      const other = createKeyward();
      const { key: unknown } = await other.keys.create({ owner: 'x' });
      const last = key.slice(-1) === 'a' ? 'b' : 'a';
      const wrongChecksum = key.slice(0, -1) + last;
      const answers = [];
      for (const k of [unknown, 'garbage', wrongChecksum, 'kw_live_short']) {
        const res = await request(app).get('/docs').set('X-API-Key', k);
        answers.push({ status: res.status, body: { ...res.body }, www: res.headers['www-authenticate'], type: res.headers['content-type'] });
      }
      for (const a of answers) expect(a).toEqual(answers[0]);
      expect(answers[0]!.status).toBe(401);
      expect(answers[0]!.www).toContain('error="invalid_token"');
      await kw.close();
    });

    it('refuses a wrong checksum without any store lookup', async () => {
      const { app, key, kw } = await setup();
      const spy = jest.spyOn(kw.config.store, 'findByHash');
      const res = await request(app).get('/docs').set('X-API-Key', key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a'));
      expect(res.status).toBe(401);
      expect(spy).not.toHaveBeenCalled();
    });

    it.each([
      ['an empty header', (r: request.Test) => r.set('X-API-Key', '')],
      ['a 4 KB value', (r: request.Test) => r.set('X-API-Key', 'k'.repeat(4096))],
      ['a 10 KB value', (r: request.Test) => r.set('X-API-Key', 'k'.repeat(10240))],
      ['an empty Bearer', (r: request.Test) => r.set('Authorization', 'Bearer ')],
      ['non-ASCII (latin-1) bytes', (r: request.Test) => r.set('X-API-Key', 'kw_live_\u00e9\u00e8')],
    ])('answers 401, never 5xx, for %s', async (_name, apply) => {
      const { app } = await setup();
      const res = await apply(request(app).get('/docs'));
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('CREDENTIALS_INVALID');
    });

    it('answers 400 invalid_request for two X-API-Key headers and for a key plus a different Bearer', async () => {
      const { app, key, kw } = await setup();
      const { key: key2 } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
      const two = await (request(app).get('/docs') as any).set('X-API-Key', [key, key2]);
      expect(two.status).toBe(400);
      expect(two.body.code).toBe('CREDENTIALS_AMBIGUOUS');
      expect(two.headers['www-authenticate']).toContain('error="invalid_request"');
      const conflict = await request(app).get('/docs').set('X-API-Key', key).set('Authorization', `Bearer ${key2}`);
      expect(conflict.status).toBe(400);
      const same = await request(app).get('/docs').set('X-API-Key', key).set('Authorization', `Bearer ${key}`);
      expect(same.status).toBe(200);
    });

    it('refuses revoked, disabled and expired keys with their codes', async () => {
      const { app, kw, clock } = await setup();
      const revoked = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
      const disabled = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
      const expiring = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'], expiresIn: '1h' });
      for (const k of [revoked, disabled, expiring]) expect((await request(app).get('/docs').set('X-API-Key', k.key)).status).toBe(200);
      await kw.keys.revoke(revoked.record.id, { reason: 'leaked' });
      await kw.keys.disable(disabled.record.id);
      clock.advance(3_600_000);
      const r = await request(app).get('/docs').set('X-API-Key', revoked.key);
      const d = await request(app).get('/docs').set('X-API-Key', disabled.key);
      const e = await request(app).get('/docs').set('X-API-Key', expiring.key);
      expect([r.status, r.body.code]).toEqual([401, 'KEY_REVOKED']);
      expect([d.status, d.body.code]).toEqual([401, 'KEY_DISABLED']);
      expect([e.status, e.body.code]).toEqual([401, 'KEY_EXPIRED']);
      await kw.keys.enable(disabled.record.id);
      expect((await request(app).get('/docs').set('X-API-Key', disabled.key)).status).toBe(200);
    });

    it('leaves public paths and CORS preflights alone', async () => {
      const { app } = await setup();
      expect((await request(app).get('/health')).status).toBe(200);
      const pre = await request(app).options('/docs').set('Origin', 'https://a.example').set('Access-Control-Request-Method', 'GET');
      expect(pre.status).toBe(204);
      expect((await request(app).options('/docs')).status).toBe(401);
    });

    it('calls done() with status and bytes and emits request.completed', async () => {
      const { app, key, kw } = await setup();
      const events: KeywardEvent[] = [];
      kw.on('request.completed', (e) => { events.push(e); });
      const res = await request(app).get('/docs').set('X-API-Key', key).set('X-Request-Id', 'req-1');
      await new Promise((r) => setTimeout(r, 10));
      await kw.flushEvents();
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ type: 'request.completed', status: 200, bytes: Buffer.byteLength(res.text), requestId: 'req-1', method: 'GET', path: '/docs', owner: 'acme' });
      expect(events[0]!.durationMs).toBeGreaterThanOrEqual(0);
    });

    it('can scope a whole mount point through options', async () => {
      const kw = createKeyward();
      const { key } = await kw.keys.create({ owner: 'o', scopes: ['admin:*'] });
      const { key: weak } = await kw.keys.create({ owner: 'o', scopes: ['docs:read'] });
      const app = createApp();
      app.use('/admin', apiKeyAuth({ keyward: kw, scopes: 'admin:write' }), (_req, res) => { res.send('admin'); });
      expect((await request(app).get('/admin/x').set('X-API-Key', key)).status).toBe(200);
      expect((await request(app).get('/admin/x').set('X-API-Key', weak)).status).toBe(403);
    });

    it('decides a request once when an app-level mount and a mount with requirements of the same instance both run', async () => {
      // The README's pattern: app.use(auth), and a mount with scopes under it. Each request was decided twice: two
      // auth.succeeded and request.completed events, and its limits counted twice.
      const kw = createKeyward({ limits: { rules: { burst: { points: 10, window: '1m' } } } });
      const events: KeywardEvent[] = [];
      kw.on('auth.succeeded', (e) => { events.push(e); });
      kw.on('request.completed', (e) => { events.push(e); });
      const { key } = await kw.keys.create({ owner: 'o', scopes: ['admin:*'] });
      const { key: weak } = await kw.keys.create({ owner: 'o', scopes: ['docs:read'] });
      const app = createApp();
      const auth = apiKeyAuth(kw);
      app.use(auth);
      app.use('/admin', apiKeyAuth({ keyward: auth.keyward, scopes: 'admin:write' }), (_req, res) => { res.send('admin'); });
      const res = await request(app).get('/admin/x').set('X-API-Key', key);
      expect([res.status, res.headers['ratelimit']?.split(';t=')[0]]).toEqual([200, '"burst";r=9']);
      const refused = await request(app).get('/admin/x').set('X-API-Key', weak);
      expect([refused.status, refused.body.code]).toEqual([403, 'INSUFFICIENT_SCOPE']);
      expect(refused.headers['www-authenticate']).toContain('scope="admin:write"');
      await new Promise((r) => setTimeout(r, 10));
      await kw.flushEvents();
      expect(events.map((e) => e.type)).toEqual(['auth.succeeded', 'request.completed', 'auth.succeeded', 'request.completed']);
      await kw.close();
    });

    it('fails at start-up with a TypeError naming the option', () => {
      expect(() => apiKeyAuth({ prefix: 'BAD PREFIX' })).toThrow(/"prefix"/);
      expect(() => apiKeyAuth({ keyward: createKeyward(), header: 'x' })).toThrow(/"keyward"/);
      expect(() => requireScopes('a AND')).toThrow(TypeError);
      expect(() => apiKeyAuth({ cache: { ttl: 'soon' } })).toThrow(/"cache.ttl"/);
      // The mount's own options are known too: `scope` is a slip for `scopes`, with or without an instance.
      expect(() => apiKeyAuth({ scope: 'docs:read' } as never)).toThrow('keyward: unknown option "scope" (did you mean "scopes"?)');
      expect(() => apiKeyAuth({ keyward: createKeyward(), scope: 'docs:read' } as never)).toThrow('keyward: unknown option "scope" (did you mean "scopes"?)');
      expect(() => apiKeyAuth({ scopes: 5 } as never)).toThrow('keyward: option "scopes": a scope requirement must be a scope, an expression or a list of them (strings)');
      expect(() => requireScopes(1 as never)).toThrow('keyward: a scope requirement must be a scope, an expression or a list of them (strings)');
    });

    it('passes a store failure to Express as 503, not a crash', async () => {
      const { app, key, kw } = await setup({ cache: false });
      jest.spyOn(kw.config.store, 'findByHash').mockRejectedValue(new Error('down'));
      const res = await request(app).get('/docs').set('X-API-Key', key);
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('STORE_UNAVAILABLE');
      expect(res.headers['retry-after']).toBeDefined();
    });

    it('passes a failure of the core (a closed instance) to the error handler, never an unhandled rejection', async () => {
      const { app, key, kw } = await setup();
      app.use((err: { code?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => { res.status(500).json({ code: err.code }); });
      await kw.close();
      const res = await request(app).get('/docs').set('X-API-Key', key);
      expect([res.status, res.body.code]).toEqual([500, 'CLOSED']);
    });

    it('leaves an answer sent while the decision was pending as it is: a denial then is no error', async () => {
      const { app, kw } = await setup({ cache: false });
      const { key, record } = await kw.keys.create({ owner: 'gone', scopes: [] });
      await kw.config.store.delete(record.id); // a well-formed key the store no longer knows: refused after the look-up
      const findByHash = kw.config.store.findByHash.bind(kw.config.store);
      jest.spyOn(kw.config.store, 'findByHash').mockImplementation(async (hash) => { await new Promise((r) => setTimeout(r, 100)); return findByHash(hash); });
      const errors: unknown[] = [];
      const timed = createApp();
      timed.use((_req, res, next) => { setTimeout(() => { res.status(503).send('timed out'); }, 20); next(); });
      timed.use(app);
      timed.use((err: unknown, _req: express.Request, _res: express.Response, next: express.NextFunction) => { errors.push(err); next(err); });
      const res = await request(timed).get('/docs').set('X-API-Key', key);
      expect([res.status, res.text]).toEqual([503, 'timed out']);
      await new Promise((r) => setTimeout(r, 150));
      expect(errors).toEqual([]);
    });

    it('lets a request through, its headers unset, when an answer went out while the decision was pending', async () => {
      const { app, kw, key } = await setup({ cache: false, limits: { rules: { burst: { points: 100, window: '10s' } } } }); // RateLimit headers on every allowed request
      const findByHash = kw.config.store.findByHash.bind(kw.config.store);
      jest.spyOn(kw.config.store, 'findByHash').mockImplementation(async (hash) => { await new Promise((r) => setTimeout(r, 100)); return findByHash(hash); });
      const errors: unknown[] = [];
      let handled = false;
      const timed = createApp();
      timed.use((_req, res, next) => { setTimeout(() => { res.status(503).send('timed out'); }, 20); next(); });
      timed.use(app);
      app.get('/late', (req, res) => { handled = req.auth !== undefined && res.headersSent; });
      timed.use((err: unknown, _req: express.Request, _res: express.Response, next: express.NextFunction) => { errors.push(err); next(err); });
      const res = await request(timed).get('/late').set('X-API-Key', key);
      expect([res.status, res.text, res.headers['ratelimit']]).toEqual([503, 'timed out', undefined]);
      await new Promise((r) => setTimeout(r, 150));
      expect([errors, handled]).toEqual([[], true]);
    });

    it('endpoint(): an answer sent while the endpoint ran stands, and is no error', async () => {
      const slow: Endpoint = async () => { await new Promise((r) => setTimeout(r, 100)); return { status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'late' }; };
      const errors: unknown[] = [];
      const app = createApp();
      app.use((_req, res, next) => { setTimeout(() => { res.status(503).send('timed out'); }, 20); next(); });
      app.post('/slow', endpoint(slow));
      app.use((err: unknown, _req: express.Request, _res: express.Response, next: express.NextFunction) => { errors.push(err); next(err); });
      const res = await request(app).post('/slow').type('form').send('a=1');
      expect([res.status, res.text]).toEqual([503, 'timed out']);
      await new Promise((r) => setTimeout(r, 150));
      expect(errors).toEqual([]);
    });

    it('passes a requireScopes without apiKeyAuth to the error handler', async () => {
      const app = createApp();
      app.get('/x', requireScopes('a'), (_req, res) => { res.send('no'); });
      app.use((err: { code?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => { res.status(500).json({ code: err.code }); });
      const res = await request(app).get('/x');
      expect(res.body.code).toBe('NOT_AUTHENTICATED');
    });

    it('a request whose client closed the connection while an async middleware ran is refused, not let past a country deny-list as an unknown address', async () => {
      const kw = createKeyward({ trustProxy: 'loopback', countryLookup: (a) => (a === '8.8.8.8' ? 'US' : undefined), restrictions: { countries: { deny: ['US'] } } });
      const denied: unknown[] = [];
      kw.on('access.denied', (e) => void denied.push([e.reason, e.clientAddress]));
      const { key } = await kw.keys.create({ owner: 'acme' });
      const app = createApp();
      let ran = 0;
      let seen: () => void = () => {};
      app.use((_req, _res, next) => void setTimeout(next, 30)); // a session store, say
      app.use(apiKeyAuth(kw));
      app.use((_req, _res, next) => { seen(); next(); });
      app.post('/transfer', (_req, res) => { ran++; res.json({ ok: true }); });
      const server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      try {
        const send = (close: boolean) => new Promise<string>((resolve) => {
          const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () => {
            socket.write(`POST /transfer HTTP/1.1\r\nHost: h\r\nX-API-Key: ${key}\r\nX-Forwarded-For: 8.8.8.8\r\nContent-Length: 0\r\n\r\n`);
            if (close) setTimeout(() => socket.destroy(), 5);
          });
          let answer = '';
          socket.on('data', (d) => { answer += String(d); socket.end(); });
          socket.on('error', () => {});
          socket.on('close', () => resolve(answer.split('\r\n')[0]!));
        });
        expect(await send(false)).toBe('HTTP/1.1 403 Forbidden');
        await send(true);
        await new Promise<void>((r) => { seen = r; setTimeout(r, 200); }); // keyward has decided (or let it through) by then
        expect(ran).toBe(0);
        expect(denied).toEqual([['COUNTRY_FORBIDDEN', '8.8.8.8'], ['IP_FORBIDDEN', undefined]]);
      } finally {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
        await kw.close();
      }
    });
  });

  describe('endpoint() behind a body parser', () => {
    /** An app serving the client-credentials token endpoint after `parser`, and a route the issued token opens. */
    async function tokenApp(parser: express.RequestHandler) {
      const kw = createKeyward({
        tokens: { signing: { issuer: 'https://api.example', audience: 'docs-api', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k1' }], ttl: '10m' } },
      });
      const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
      const app = createApp();
      app.use(parser);
      app.post('/oauth/token', endpoint(kw.tokens.endpoint()));
      app.get('/docs', apiKeyAuth(kw), (req, res) => { res.json({ id: req.auth?.id, type: req.auth?.type }); });
      return { app, kw, key, id: record.id };
    }

    it('serves the token endpoint after express.urlencoded(): the parsed form is the exchange', async () => {
      const { app, kw, key, id } = await tokenApp(createApp.urlencoded({ extended: false }));
      const res = await request(app).post('/oauth/token').type('form').auth(id, key).send('grant_type=client_credentials&scope=docs:read');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 600, scope: 'docs:read' });
      const use = await request(app).get('/docs').set('Authorization', `Bearer ${res.body.access_token}`);
      expect(use.body).toEqual({ id, type: 'token' });
      await kw.close();
    });

    it('serves the token endpoint after express.json(): a form exchange gets its token, a JSON body the same 400 as without a parser', async () => {
      const { app, kw, key, id } = await tokenApp(createApp.json());
      const res = await request(app).post('/oauth/token').type('form').auth(id, key).send('grant_type=client_credentials');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 600, scope: 'docs:read' });
      expect((await request(app).get('/docs').set('Authorization', `Bearer ${res.body.access_token}`)).body).toEqual({ id, type: 'token' });
      // RFC 6749 §4.4: the exchange is application/x-www-form-urlencoded; a JSON body parsed by express.json() is
      // refused as it is when no parser ran (never a crash or a 5xx).
      const json = await request(app).post('/oauth/token').auth(id, key).set('Content-Type', 'application/json').send('{"grant_type":"client_credentials"}');
      expect([json.status, json.body.error]).toEqual([400, 'invalid_request']);
      await kw.close();
    });

    it('reads an empty Authorization header as none: client_secret_post with it gets its token, Basic with body credentials is still refused', async () => {
      const { app, kw, key, id } = await tokenApp(createApp.urlencoded({ extended: false }));
      const post = `grant_type=client_credentials&client_id=${id}&client_secret=${key}`;
      const res = await request(app).post('/oauth/token').type('form').set('Authorization', '').send(post);
      expect([res.status, res.body.scope]).toEqual([200, 'docs:read']);
      const none = await request(app).post('/oauth/token').type('form').set('Authorization', '').send('grant_type=client_credentials');
      expect([none.status, none.body.error, none.body.error_description]).toEqual([401, 'invalid_client', 'Client authentication is required.']);
      const both = await request(app).post('/oauth/token').type('form').auth(id, key).send(post);
      expect([both.status, both.body.error]).toEqual([400, 'invalid_request']);
      await kw.close();
    });
  });
});
