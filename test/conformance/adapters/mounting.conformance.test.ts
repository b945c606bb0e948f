/**
 * How every adapter mounts things, compared side by side: the same requests against Express, Koa and Nest (on Express
 * and on Fastify) give byte-identical status, keyward headers and body. Covers what scenario files rely on: core
 * endpoints with form, JSON and query inputs, headers from allowed decisions, `Retry-After` on denials, and `done()`
 * byte counts.
 */
import request from 'supertest';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { createKeyward, manualClock, MAX_ENDPOINT_BODY, type Endpoint, type Keyward, type KeywardEvent } from '@keyward/core';
import { ADAPTERS, DEFAULT_ROUTES, type RunningApp } from '../harness';
import { onStores } from '../stores';

const HEADERS = ['content-type', 'www-authenticate', 'cache-control', 'retry-after', 'deprecation', 'sunset', 'x-echo'];

const echo: Endpoint = async (r) => ({
  status: r.method === 'POST' && !r.body?.length ? 400 : 200,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'X-Echo': r.method },
  body: JSON.stringify({ method: r.method, path: r.path, query: r.query ?? '', type: r.headers['content-type'] ?? null, body: r.body === undefined ? null : r.body.toString() }),
});

describe('conformance: mounting is identical on every adapter', () => {
  let kw: Keyward;
  let apps: RunningApp[];
  let key: string;
  let rotated: string;
  const clock = manualClock(Date.parse('2026-03-01T10:00:00Z'));
  const events: KeywardEvent[] = [];

  beforeAll(async () => {
    kw = createKeyward(onStores({ clock, publicPaths: ['/health'], cache: false }));
    kw.on('request.completed', (e) => { events.push(e); });
    const endpoints = [{ method: 'POST' as const, path: '/oauth/token', handler: echo }, { method: 'GET' as const, path: '/.well-known/jwks.json', handler: echo }];
    apps = await Promise.all(ADAPTERS.map((a) => a.start({ keyward: kw, routes: DEFAULT_ROUTES, endpoints })));
    key = (await kw.keys.create({ owner: 'acme', scopes: ['docs:read', 'users:view'] })).key;
    const old = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    await kw.keys.rotate(old.record.id, { gracePeriod: '1h' });
    rotated = old.key;
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await kw.close();
  });

  /** Sends the same request to every adapter and returns what each answered, named by adapter. */
  async function each(send: (url: string) => request.Test) {
    const answers = await Promise.all(apps.map(async (app, i) => {
      const res = await send(app.url);
      const headers = Object.fromEntries(HEADERS.filter((h) => res.headers[h] !== undefined).map((h) => [h, res.headers[h]]));
      return [ADAPTERS[i]!.name, { status: res.status, headers, body: res.text }] as const;
    }));
    return Object.fromEntries(answers);
  }

  function expectIdentical(answers: Record<string, unknown>) {
    const [first, ...rest] = Object.values(answers);
    for (const a of rest) expect(a).toEqual(first);
    return first as { status: number; headers: Record<string, string>; body: string };
  }

  it('serves a core endpoint with a form body, a JSON body and a query', async () => {
    const form = expectIdentical(await each((u) => request(u).post('/oauth/token?x=1').type('form').send('grant_type=client_credentials&scope=docs%3Aread+users%3Aview')));
    expect(form.status).toBe(200);
    expect(JSON.parse(form.body)).toEqual({ method: 'POST', path: '/oauth/token', query: 'x=1', type: 'application/x-www-form-urlencoded', body: 'grant_type=client_credentials&scope=docs%3Aread+users%3Aview' });
    expect(form.headers['x-echo']).toBe('POST');
    const json = expectIdentical(await each((u) => request(u).post('/oauth/token').send({ grant_type: 'client_credentials' })));
    expect(JSON.parse(JSON.parse(json.body).body)).toEqual({ grant_type: 'client_credentials' });
    expect(expectIdentical(await each((u) => request(u).post('/oauth/token'))).status).toBe(400);
    expect(expectIdentical(await each((u) => request(u).get('/.well-known/jwks.json'))).status).toBe(200);
  });

  it('refuses a body over 64 KB with 413, whether the framework parsed it first (Nest on Express) or not', async () => {
    const form = (size: number) => `grant_type=client_credentials&x=`.padEnd(size, 'a');
    /** The body sent in pieces, without Content-Length (chunked), as a streaming client sends it. */
    const chunked = (u: string, body: string) => {
      const r = request(u).post('/oauth/token').type('form');
      for (let i = 0; i < body.length; i += 16 * 1024) void r.write(body.slice(i, i + 16 * 1024));
      return r;
    };
    for (const send of [
      (u: string) => request(u).post('/oauth/token').type('form').send(form(MAX_ENDPOINT_BODY + 1)),
      (u: string) => chunked(u, form(MAX_ENDPOINT_BODY + 1)),
      (u: string) => request(u).post('/oauth/token').send({ grant_type: 'client_credentials', x: 'a'.repeat(MAX_ENDPOINT_BODY) }),
    ]) {
      const a = expectIdentical(await each(send));
      expect([a.status, a.headers['content-type'], JSON.parse(a.body)]).toEqual([413, 'application/problem+json', { type: 'about:blank', title: 'Payload Too Large', status: 413 }]);
    }
    // The bound itself is allowed, sent either way.
    for (const send of [(u: string) => request(u).post('/oauth/token').type('form').send(form(MAX_ENDPOINT_BODY)), (u: string) => chunked(u, form(MAX_ENDPOINT_BODY))]) {
      const a = expectIdentical(await each(send));
      expect([a.status, JSON.parse(a.body).body.length]).toEqual([200, MAX_ENDPOINT_BODY]);
    }
  });

  it("decodes a gzip, deflate or br body as a framework's body parser does (Nest on Express), within the same bound", async () => {
    const form = 'grant_type=client_credentials&scope=docs%3Aread';
    /** The bytes as they are, with their length (superagent would serialise a Buffer sent as a form). */
    const encoded = (u: string, coding: string, bytes: Buffer) => {
      const r = request(u).post('/oauth/token').type('form').set('Content-Encoding', coding).set('Content-Length', String(bytes.length));
      void r.write(bytes);
      return r;
    };
    const encoders = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync, GZip: gzipSync };
    for (const [coding, encode] of Object.entries(encoders)) {
      const a = expectIdentical(await each((u) => encoded(u, coding, encode(form))));
      expect([a.status, JSON.parse(a.body).body]).toEqual([200, form]);
    }
    // A small body that inflates past the bound is refused as a large one is.
    const bomb = expectIdentical(await each((u) => encoded(u, 'gzip', gzipSync(Buffer.alloc(MAX_ENDPOINT_BODY + 1, 'a')))));
    expect([bomb.status, bomb.headers['content-type']]).toEqual([413, 'application/problem+json']);
    // Past Nest's parser's own limit (100 KB), a coding no one decodes (415), bytes that are not what the coding says
    // (400): the same status, the body parser's own answer on Nest.
    const statuses = async (send: (u: string) => request.Test) => Object.values(await each(send)).map((a) => (a as { status: number }).status);
    expect(await statuses((u) => encoded(u, 'gzip', gzipSync(Buffer.alloc(1024 * 1024, 'a'))))).toEqual(apps.map(() => 413));
    expect(await statuses((u) => encoded(u, 'compress', Buffer.from(form)))).toEqual(apps.map(() => 415));
    expect(await statuses((u) => encoded(u, 'gzip', Buffer.from(form)))).toEqual(apps.map(() => 400));
  });

  it('answers denials identically, with their headers', async () => {
    for (const send of [
      (u: string) => request(u).get('/docs'),
      (u: string) => request(u).get('/docs').set('X-API-Key', 'kw_live_nope'),
      (u: string) => request(u).post('/docs').set('X-API-Key', key),
      (u: string) => request(u).get('/both').set('Authorization', 'Bearer a').set('X-API-Key', key),
    ]) {
      const a = expectIdentical(await each(send));
      expect(a.status).toBeGreaterThanOrEqual(400);
      expect(a.headers['content-type']).toBe('application/problem+json');
    }
  });

  it('sets headers of allowed decisions (Deprecation, Sunset) and the same body', async () => {
    const a = expectIdentical(await each((u) => request(u).get('/docs').set('X-API-Key', rotated)));
    expect(a.status).toBe(200);
    expect(a.headers['deprecation']).toMatch(/^@\d+$/);
    expect(a.headers['sunset']).toBe('Sun, 01 Mar 2026 11:00:00 GMT');
  });

  it('sends Retry-After with a 503 when the store fails', async () => {
    const spy = jest.spyOn(kw.config.store, 'findByHash').mockRejectedValue(new Error('down'));
    try {
      const a = expectIdentical(await each((u) => request(u).get('/docs').set('X-API-Key', key)));
      expect(a.status).toBe(503);
      expect(a.headers['retry-after']).toBeDefined();
    } finally {
      spy.mockRestore();
    }
  });

  it('reports the same status and bytes through done(), HEAD included', async () => {
    events.length = 0;
    for (const [i, app] of apps.entries()) {
      await request(app.url).get('/heavy?size=4321').set('X-API-Key', key).set('X-Request-Id', `mount-get-${i}`);
      await request(app.url).head('/heavy?size=4321').set('X-API-Key', key).set('X-Request-Id', `mount-head-${i}`);
    }
    await new Promise((r) => setTimeout(r, 20));
    await kw.flushEvents();
    const of = (id: string) => events.filter((e) => e.requestId === id).map((e) => ({ status: e.status, bytes: e.bytes }));
    for (const i of apps.keys()) {
      expect(of(`mount-get-${i}`)).toEqual([{ status: 200, bytes: 4321 }]);
      expect(of(`mount-head-${i}`)).toEqual([{ status: 200, bytes: 0 }]);
    }
  });
});
