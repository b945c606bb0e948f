/**
 * API-key scenarios, identical for every adapter: same status, headers and body.
 */
import request from 'supertest';
import { connect } from 'node:net';
import { createKeyward, manualClock, type Keyward, type KeywardEvent } from '@keyward/core';
import { ADAPTERS, answerOf, DEFAULT_ROUTES, expectMissingCredential, type RunningApp } from './harness';
import { onStores } from './stores';

describe.each(ADAPTERS)('conformance: API keys on $name', (adapter) => {
  let kw: Keyward;
  let app: RunningApp;
  let key: string;
  let keyId: string;
  const clock = manualClock(Date.parse('2026-03-01T10:00:00Z'));
  const events: KeywardEvent[] = [];

  beforeAll(async () => {
    kw = createKeyward(onStores({ clock, publicPaths: ['/health', /\.css/] }));
    kw.on('*', (e) => { events.push(e); });
    app = await adapter.start({ keyward: kw, routes: DEFAULT_ROUTES });
    const created = await kw.keys.create({ owner: 'acme', scopes: ['docs:read', 'users:view'] });
    key = created.key;
    keyId = created.record.id;
  });
  afterAll(async () => {
    await app.close();
    await kw.close();
  });

  const get = (path: string) => request(app.url).get(path);
  const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };
  /** A denial's answer: problem+json, `no-store`, the challenge (when one is due) and the problem body. */
  const denial = (status: number, code: string, title: string, detail: string, challenge?: string) => ({
    status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...(challenge ? { 'www-authenticate': challenge } : {}) },
    body: { type: `urn:keyward:problem:${code.toLowerCase().replace(/_/g, '-')}`, title, status, detail, code },
  });
  const invalidToken = (title: string) => `Bearer realm="keyward", error="invalid_token", error_description="${title}"`;
  const ambiguous = (detail: string) => denial(400, 'CREDENTIALS_AMBIGUOUS', 'Ambiguous credentials', detail, 'Bearer realm="keyward", error="invalid_request"');

  it('valid key: 200 with the principal', async () => {
    const res = await get('/docs').set('X-API-Key', key);
    expect(answerOf(res)).toEqual({ status: 200, headers: JSON_TYPE, body: { ok: true, principal: { id: keyId, owner: 'acme', type: 'key', scopes: ['docs:read', 'users:view'] } } });
  });

  it('missing credential: 401 problem+json with a bare challenge', async () => {
    expectMissingCredential(await get('/docs'));
  });

  it('the challenge names the schemes accepted: with bearer: false, ApiKey and never Bearer', async () => {
    const apiKeyOnly = createKeyward({ bearer: false, schemes: ['ApiKey'] });
    const other = await adapter.start({ keyward: apiKeyOnly, routes: DEFAULT_ROUTES });
    try {
      const res = await request(other.url).get('/docs');
      expect([res.status, res.headers['www-authenticate']]).toEqual([401, 'ApiKey realm="keyward"']);
    } finally {
      await other.close();
      await apiKeyOnly.close();
    }
  });

  it('malformed, wrong-checksum and unknown keys: the same 401', async () => {
    const other = createKeyward();
    const unknown = (await other.keys.create({ owner: 'x' })).key;
    const flipped = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    const answers = await Promise.all(['not-a-key', flipped, unknown].map(async (k) => {
      return answerOf(await get('/docs').set('X-API-Key', k));
    }));
    expect(answers[0]).toEqual(denial(401, 'CREDENTIALS_INVALID', 'Invalid credentials', 'The credential is not valid.', invalidToken('Invalid credentials')));
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    await other.close();
  });

  it('revoked, disabled and expired keys: 401 with their codes', async () => {
    const r = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const d = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const e = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'], expiresIn: '10m' });
    await kw.keys.revoke(r.record.id, { reason: 'test' });
    await kw.keys.disable(d.record.id);
    clock.advance(10 * 60_000);
    for (const [k, code, title, detail] of [
      [r.key, 'KEY_REVOKED', 'Key revoked', 'The key has been revoked.'],
      [d.key, 'KEY_DISABLED', 'Key disabled', 'The key is disabled.'],
      [e.key, 'KEY_EXPIRED', 'Key expired', 'The key has expired.'],
    ] as const) {
      expect(answerOf(await get('/docs').set('X-API-Key', k))).toEqual(denial(401, code, title, detail, invalidToken(title)));
    }
  });

  it('wrong scope: 403 insufficient_scope', async () => {
    const res = await request(app.url).post('/docs').set('X-API-Key', key);
    expect(answerOf(res)).toEqual(denial(403, 'INSUFFICIENT_SCOPE', 'Insufficient scope', 'This request needs: docs:write.', 'Bearer realm="keyward", error="insufficient_scope", scope="docs:write"'));
  });

  it('expression scopes: satisfied and not', async () => {
    expect(answerOf(await get('/both').set('X-API-Key', key))).toEqual({ status: 200, headers: JSON_TYPE, body: { ok: true, principal: { id: keyId, owner: 'acme', type: 'key', scopes: ['docs:read', 'users:view'] } } });
    const weak = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const res = await get('/both').set('X-API-Key', weak.key);
    expect(answerOf(res)).toEqual(denial(403, 'INSUFFICIENT_SCOPE', 'Insufficient scope', 'This request needs: (docs:read OR docs:write) AND users:view.', 'Bearer realm="keyward", error="insufficient_scope", scope="docs:read docs:write users:view"'));
  });

  it('public route: no credential needed', async () => {
    expect(answerOf(await get('/health'))).toEqual({ status: 200, headers: JSON_TYPE, body: { ok: true, principal: null } });
    // a credential sent to a public path is not looked at: not refused, not a principal
    expect(answerOf(await get('/health').set('X-API-Key', 'kw_live_bogus'))).toEqual({ status: 200, headers: JSON_TYPE, body: { ok: true, principal: null } });
  });

  it('CORS preflight: let through; a bare OPTIONS is not', async () => {
    const pre = await request(app.url).options('/docs').set('Origin', 'https://app.example').set('Access-Control-Request-Method', 'GET');
    expect(answerOf(pre)).toEqual({ status: 204, headers: {}, body: '' });
    expectMissingCredential(await request(app.url).options('/docs'));
  });

  it('duplicate headers and conflicting credentials: 400 invalid_request', async () => {
    const other = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const dup = await (get('/docs') as any).set('X-API-Key', [key, other.key]);
    expect(answerOf(dup)).toEqual(ambiguous('The x-api-key header was sent more than once.'));
    const same = await (get('/docs') as any).set('X-API-Key', [key, key]);
    expect(answerOf(same)).toEqual(ambiguous('The x-api-key header was sent more than once.'));
    const conflict = await get('/docs').set('X-API-Key', key).set('Authorization', `Bearer ${other.key}`);
    expect(answerOf(conflict)).toEqual(ambiguous('More than one credential was sent.'));
  });

  it('two Authorization headers (two keys, or the same key twice): 400 invalid_request', async () => {
    // Node's HTTP/1 parser keeps only the first Authorization in req.headers; the second must still be seen.
    const other = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    for (const [a, b] of [[key, other.key], [key, key]]) {
      const res = await (get('/docs') as any).set('Authorization', [`Bearer ${a}`, `Bearer ${b}`]);
      expect(answerOf(res)).toEqual(ambiguous('The Authorization header was sent more than once.'));
    }
  });

  it('a request line claiming HTTP/2.0 with a field named constructor: the public route answers, the key works', async () => {
    const { port } = new URL(app.url);
    const raw = (path: string, extra: string) => new Promise<number>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(`GET ${path} HTTP/2.0\r\nHost: x\r\nConnection: close\r\nconstructor: x\r\n__proto__: y\r\n${extra}\r\n`));
      let data = '';
      socket.on('data', (c) => { data += c.toString('latin1'); });
      socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
      socket.on('error', reject);
    });
    expect(await raw('/health', '')).toBe(200);
    expect(await raw('/docs', `X-API-Key: ${key}\r\n`)).toBe(200);
  });

  it('a raw "#" or an absolute-form target never makes a path public: /open#x.css is /open to the router, whatever /\\.css/ says of the whole', async () => {
    const { port } = new URL(app.url);
    const raw = (path: string) => new Promise<number>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
      let data = '';
      socket.on('data', (c) => { data += c.toString('latin1'); });
      socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
      socket.on('error', reject);
    });
    expect(await raw('/open#x.css')).toBe(401);
    expect(await raw('/open#/health')).toBe(401);
    expect(await raw('/health')).toBe(200);
    // An absolute-form target: the router reads /open (or finds no route), never a public path.
    expect([401, 404]).toContain(await raw('http://a.css/open'));
  });

  it.each([
    ['a control character', Buffer.from('X-API-Key: kw_live_abc\x01def\r\n', 'latin1')],
    ['UTF-8 bytes', Buffer.concat([Buffer.from('X-API-Key: kw_live_'), Buffer.from('ключ', 'utf8'), Buffer.from('\r\n')])],
    ['a NUL byte', Buffer.from('X-API-Key: kw_live_abc\x00\r\n', 'latin1')],
    ['a 4 KB value', Buffer.from(`X-API-Key: ${'a'.repeat(4096)}\r\n`)],
  ])('raw request with %s in the key: a 4xx, never a 5xx', async (_name, headerLine) => {
    const { port } = new URL(app.url);
    const status = await new Promise<number>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(Buffer.concat([Buffer.from('GET /docs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n'), headerLine, Buffer.from('\r\n')]));
      });
      let data = '';
      socket.on('data', (c) => { data += c.toString('latin1'); });
      socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
      socket.on('error', reject);
    });
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
  });

  it("audit events and done(): each request's events in full, status and bytes reported, no secret anywhere", async () => {
    events.length = 0;
    const id = (n: string) => `conf-${adapter.name}-${n}`;
    const res = await get('/open?size=1234').set('X-API-Key', key).set('X-Request-Id', id('ok')).set('User-Agent', 'sdk/1');
    expect(res.status).toBe(200);
    expect((await request(app.url).head('/open?size=1234').set('X-API-Key', key).set('X-Request-Id', id('head')).set('User-Agent', 'sdk/1')).status).toBe(200);
    expect((await get('/docs').set('X-API-Key', 'kw_live_bogus').set('X-Request-Id', id('bogus')).set('User-Agent', 'sdk/1')).status).toBe(401);
    expect((await get('/docs').set('X-Request-Id', id('missing')).set('User-Agent', 'sdk/1')).status).toBe(401);
    expect((await request(app.url).post('/docs').set('X-API-Key', key).set('X-Request-Id', id('scope')).set('User-Agent', 'sdk/1')).status).toBe(403);
    await new Promise((r) => setTimeout(r, 20));
    await kw.flushEvents();
    const of = (n: string) => events.filter((e) => e.requestId === id(n)).map(({ time, durationMs, ...e }) => ({ ...e, time: typeof time, ...(durationMs !== undefined ? { durationMs: typeof durationMs } : {}) }));
    const common = { schema: 'keyward.event/v1', time: 'string', clientAddress: '127.0.0.1', userAgent: 'sdk/1' };
    const principal = { keyId, hint: `kw_live_…${key.slice(-4)}`, owner: 'acme', principalType: 'key', subject: 'acme' };
    const succeeded = (n: string, method: string, path: string) => ({ ...common, type: 'auth.succeeded', requestId: id(n), method, path, ...principal });
    const completed = (n: string, method: string, path: string, status: number, bytes: number) => ({ ...common, type: 'request.completed', requestId: id(n), method, path, ...principal, status, bytes, durationMs: 'number' });
    expect(of('ok')).toEqual([succeeded('ok', 'GET', '/open?size=1234'), completed('ok', 'GET', '/open?size=1234', 200, 1234)]);
    expect(of('head')).toEqual([succeeded('head', 'HEAD', '/open?size=1234'), completed('head', 'HEAD', '/open?size=1234', 200, 0)]);
    expect(of('bogus')).toEqual([{ ...common, type: 'auth.failed', requestId: id('bogus'), method: 'GET', path: '/docs', status: 401, reason: 'CREDENTIALS_INVALID' }]);
    expect(of('missing')).toEqual([{ ...common, type: 'auth.failed', requestId: id('missing'), method: 'GET', path: '/docs', status: 401, reason: 'CREDENTIALS_MISSING' }]);
    expect(of('scope')).toEqual([{ ...common, type: 'access.denied', requestId: id('scope'), method: 'POST', path: '/docs', ...principal, status: 403, reason: 'INSUFFICIENT_SCOPE' }]);
    const text = JSON.stringify(events);
    expect(text).not.toContain(key);
    expect(text).not.toContain('kw_live_bogus');
  });

  it('keeps a credential a client sent in its request id or user agent out of the events', async () => {
    events.length = 0;
    const opaque = 'opaque-credential-value-1234';
    const res = await get('/open').set('X-API-Key', key).set('X-Request-Id', key).set('User-Agent', `acme-client/1.0 (key ${key})`);
    expect(res.status).toBe(200);
    const other = await get('/docs').set('X-API-Key', opaque).set('User-Agent', `acme-client/1.0 token=${opaque}`);
    expect(other.status).toBe(401);
    await new Promise((r) => setTimeout(r, 20));
    await kw.flushEvents();
    const succeeded = events.find((e) => e.type === 'auth.succeeded');
    expect(succeeded?.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/); // a new id, not the key
    expect(succeeded?.userAgent).toBe('acme-client/1.0 (key [REDACTED])');
    expect(events.find((e) => e.type === 'auth.failed')?.userAgent).toBe('acme-client/1.0 token=[REDACTED]');
    const text = JSON.stringify(events);
    expect(text).not.toContain(key);
    expect(text).not.toContain(opaque);
  });
});
