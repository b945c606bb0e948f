import express from 'express';
import request from 'supertest';
import { createKeyward, manualClock, type KeywardEvent } from '@keyward/core';
import { apiKeyAuth, requireScopes } from './index';

async function setup(options: Parameters<typeof createKeyward>[0] = {}) {
  const clock = manualClock(Date.parse('2026-06-01T12:00:00Z'));
  const kw = createKeyward({ clock, publicPaths: ['/health'], ...options });
  const app = express();
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
    const app = express();
    app.use('/admin', apiKeyAuth({ keyward: kw, scopes: 'admin:write' }), (_req, res) => { res.send('admin'); });
    expect((await request(app).get('/admin/x').set('X-API-Key', key)).status).toBe(200);
    expect((await request(app).get('/admin/x').set('X-API-Key', weak)).status).toBe(403);
  });

  it('fails at start-up with a TypeError naming the option', () => {
    expect(() => apiKeyAuth({ prefix: 'BAD PREFIX' })).toThrow(/"prefix"/);
    expect(() => apiKeyAuth({ keyward: createKeyward(), header: 'x' })).toThrow(/"keyward"/);
    expect(() => requireScopes('a AND')).toThrow(TypeError);
    expect(() => apiKeyAuth({ cache: { ttl: 'soon' } })).toThrow(/"cache.ttl"/);
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

  it('passes a requireScopes without apiKeyAuth to the error handler', async () => {
    const app = express();
    app.get('/x', requireScopes('a'), (_req, res) => { res.send('no'); });
    app.use((err: { code?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => { res.status(500).json({ code: err.code }); });
    const res = await request(app).get('/x');
    expect(res.body.code).toBe('NOT_AUTHENTICATED');
  });
});
