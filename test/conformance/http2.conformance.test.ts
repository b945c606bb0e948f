/**
 * The adapters on HTTP/2 (h2c, Node's `node:http2` compatibility API): Koa on `http2.createServer(app.callback())`
 * and Nest on Fastify's `http2: true`. The same answers as on HTTP/1, plus what only HTTP/2 does: repeated header
 * fields and cookie crumbs (RFC 9113 §8.2.3) in `rawHeaders`, pseudo-headers, and a response that is an
 * `Http2ServerResponse`, whose completion (status, bytes) must still reach events and byte quotas.
 * Then both again on HTTP/2 with TLS and `allowHTTP1`, where one server answers HTTP/2 and HTTP/1.1 clients.
 * Express does not run on Node's HTTP/2 API, so it is not here.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders, type SecureClientSessionOptions } from 'node:http2';
import { createKeyward, manualClock, type Keyward, type KeywardEvent, type KeywardOptions } from '@keyward/core';
import { DEFAULT_ROUTES, expectMissingCredential, type AdapterUnderTest, type RunningApp } from './harness';
import { koaHttp2Adapter, koaHttp2TlsAdapter } from './adapters/koa';
import { nestFastifyHttp2Adapter, nestFastifyHttp2TlsAdapter } from './adapters/nest-fastify';
import { onStores } from './stores';

/** The adapters that run on Node's HTTP/2 server. */
const HTTP2_ADAPTERS: readonly AdapterUnderTest[] = [koaHttp2Adapter, nestFastifyHttp2Adapter];

/** A self-signed certificate for 127.0.0.1 (P-256, one day), made by the openssl command line for this run only. */
function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-tls-'));
  try {
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    } catch (error) {
      throw new Error(`the HTTP/2-over-TLS scenarios make their certificate with the openssl command, which failed: ${(error as Error).message}`);
    }
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const TLS = selfSigned();

/** The adapters on HTTP/2 with TLS and `allowHTTP1`. */
const TLS_ADAPTERS: readonly AdapterUnderTest[] = [koaHttp2TlsAdapter(TLS), nestFastifyHttp2TlsAdapter(TLS)];

/** One HTTP/1.1 request over TLS (the server falls back to HTTP/1.1 for a client that does not offer h2). */
function sendHttp1(url: string, path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}${path}`, { headers, ca: TLS.cert, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => {
        let body: unknown;
        try { body = JSON.parse(text); } catch { body = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly body: unknown;
}

/**
 * One HTTP/2 request on `session`: `headers` may repeat a field (an array is sent as one field per value), `body` is
 * sent as the request's data.
 */
function send(session: ClientHttp2Session, path: string, headers: OutgoingHttpHeaders = {}, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': method, ':path': path, ...headers });
    let head: IncomingHttpHeaders = {};
    let text = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => { head = h; });
    stream.on('data', (c: string) => { text += c; });
    stream.on('error', reject);
    stream.on('end', () => {
      let body: unknown;
      try { body = JSON.parse(text); } catch { body = undefined; }
      resolve({ status: Number(head[':status']), headers: head, text, body });
    });
    stream.end(body);
  });
}

const settle = () => new Promise((r) => setTimeout(r, 20));

/**
 * One app under test: a keyward instance (the conformance stores, `/health` public, `options` added), the app on
 * `adapter`, an HTTP/2 client session to it (`client`: its TLS options), a key with `docs:read` and `users:view`, and
 * every event the instance published.
 */
class Http2App {
  readonly clock = manualClock(Date.parse('2026-03-01T10:00:00Z'));
  readonly events: KeywardEvent[] = [];
  kw!: Keyward;
  app!: RunningApp;
  session!: ClientHttp2Session;
  key = '';
  keyId = '';

  constructor(private readonly adapter: AdapterUnderTest, private readonly client: SecureClientSessionOptions = {}) {}

  async start(options: KeywardOptions = {}): Promise<void> {
    this.kw = createKeyward(onStores({ clock: this.clock, publicPaths: ['/health'], ...options }));
    this.kw.on('*', (e) => { this.events.push(e); });
    const endpoints = options.tokens ? [{ method: 'POST' as const, path: '/oauth/token', handler: this.kw.tokens.endpoint() }] : [];
    this.app = await this.adapter.start({ keyward: this.kw, routes: DEFAULT_ROUTES, endpoints });
    this.session = connect(this.app.url, this.client);
    const created = await this.kw.keys.create({ owner: 'acme', scopes: ['docs:read', 'users:view'] });
    this.key = created.key;
    this.keyId = created.record.id;
  }

  async stop(): Promise<void> {
    this.session.close();
    await this.app.close();
    await this.kw.close();
  }
}

describe.each(HTTP2_ADAPTERS)('conformance: $name', (adapter) => {
  const t = new Http2App(adapter);

  describe('API keys', () => {
    beforeAll(() => t.start());
    afterAll(() => t.stop());

    it('valid key: 200 with the principal', async () => {
      const res = await send(t.session, '/docs', { 'x-api-key': t.key });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true, principal: { id: t.keyId, owner: 'acme', type: 'key', scopes: ['docs:read', 'users:view'] } });
    });

    it('missing credential: the same 401 problem+json and challenge as on HTTP/1', async () => {
      expectMissingCredential(await send(t.session, '/docs'));
    });

    it('cookie crumbs and other repeated fields do not hide the credential', async () => {
      const res = await send(t.session, '/docs', { 'x-api-key': t.key, cookie: ['a=1', 'b=2'], accept: ['application/json', 'text/plain'] });
      expect(res.status).toBe(200);
    });

    it('fields named __proto__ or constructor are fields like any other: the public route answers, the key works', async () => {
      const hostile = { ['__proto__']: 'x', constructor: ['a', 'b'] };
      expect((await send(t.session, '/health', hostile)).status).toBe(200);
      expect((await send(t.session, '/docs', { ...hostile, 'x-api-key': t.key })).status).toBe(200);
    });

    it('a credential field sent twice: 400 CREDENTIALS_AMBIGUOUS, as on HTTP/1 (Node would join the values)', async () => {
      const other = await t.kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
      const res = await send(t.session, '/docs', { 'x-api-key': [t.key, other.key] });
      expect(res.status).toBe(400);
      expect((res.body as { code: string }).code).toBe('CREDENTIALS_AMBIGUOUS');
    });

    it('wrong scope: 403 insufficient_scope', async () => {
      const res = await send(t.session, '/docs', { 'x-api-key': t.key }, 'POST');
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="keyward", error="insufficient_scope", scope="docs:write"');
      expect((res.body as { code: string }).code).toBe('INSUFFICIENT_SCOPE');
    });

    it('public route and CORS preflight: let through', async () => {
      expect((await send(t.session, '/health')).body).toEqual({ ok: true, principal: null });
      const pre = await send(t.session, '/docs', { origin: 'https://app.example', 'access-control-request-method': 'GET' }, 'OPTIONS');
      expect(pre.status).toBe(204);
    });

    it('done(): request.completed reports the status and the exact body bytes of an HTTP/2 response', async () => {
      t.events.length = 0;
      const res = await send(t.session, '/open?size=600', { 'x-api-key': t.key, 'x-request-id': `h2-${adapter.name.replace(/\W/g, '-')}` });
      expect(res.text).toHaveLength(600);
      await settle();
      const completed = t.events.filter((e) => e.type === 'request.completed');
      expect(completed).toHaveLength(1);
      expect(completed[0]).toMatchObject({ status: 200, bytes: 600, keyId: t.keyId, method: 'GET', path: '/open?size=600' });
      expect(JSON.stringify(t.events)).not.toContain(t.key);
    });

    it('a stream the client resets mid-response is still reported, once', async () => {
      t.events.length = 0;
      await new Promise<void>((resolve) => {
        const stream = t.session.request({ ':path': '/open?size=5000000', 'x-api-key': t.key });
        stream.once('data', () => { stream.close(0x8); resolve(); }); // NGHTTP2_CANCEL
        stream.on('error', () => {});
      });
      for (let i = 0; i < 50 && !t.events.some((e) => e.type === 'request.completed'); i++) await settle();
      const completed = t.events.filter((e) => e.type === 'request.completed');
      expect(completed).toHaveLength(1);
      // What was handed to Node before the reset: Koa ends with the whole body, Fastify streams it in 64 KB pieces.
      expect(completed[0]).toMatchObject({ status: 200, keyId: t.keyId });
      expect(completed[0]!.bytes).toBeGreaterThanOrEqual(65_536);
      expect(completed[0]!.bytes).toBeLessThanOrEqual(5_000_000);
    });
  });

  describe('byte quota', () => {
    beforeAll(() => t.start({ limits: { quotas: { egress: { bytes: 1000, period: 'day' } } } }));
    afterAll(() => t.stop());

    it('counted from the finished HTTP/2 response: 600 + 600 bytes exhaust 1000', async () => {
      const a = await send(t.session, '/open?size=600', { 'x-api-key': t.key });
      expect([a.status, a.headers['ratelimit-policy'], a.headers['ratelimit']]).toEqual([200, '"egress";q=1000;qu="content-bytes";w=86400', '"egress";r=1000;t=50400']);
      await settle();
      const b = await send(t.session, '/open?size=600', { 'x-api-key': t.key });
      expect([b.status, b.headers['ratelimit']]).toEqual([200, '"egress";r=400;t=50400']);
      await settle();
      const c = await send(t.session, '/open', { 'x-api-key': t.key });
      expect([c.status, (c.body as { code: string }).code, c.headers['retry-after']]).toEqual([429, 'QUOTA_EXCEEDED', '50400']);
    });
  });

  describe('token exchange', () => {
    const privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    beforeAll(() => t.start({ tokens: { signing: { issuer: 'https://api.example', audience: 'https://api.example', keys: [{ privateKey, kid: 'k1' }], ttl: '10m' } } }));
    afterAll(() => t.stop());

    it('the token endpoint reads the form body from the HTTP/2 stream, and the token it issues is accepted', async () => {
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: t.keyId, client_secret: t.key, scope: 'docs:read' }).toString();
      const res = await send(t.session, '/oauth/token', { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', form);
      expect(res.status).toBe(200);
      const { access_token, token_type, scope } = res.body as { access_token: string; token_type: string; scope: string };
      expect([token_type, scope]).toEqual(['Bearer', 'docs:read']);
      const docs = await send(t.session, '/docs', { authorization: `Bearer ${access_token}` });
      expect([docs.status, (docs.body as { principal: { type: string } }).principal.type]).toEqual([200, 'token']);
      const wrong = await send(t.session, '/oauth/token', { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', 'grant_type=client_credentials&client_id=x&client_secret=nope');
      expect([wrong.status, (wrong.body as { error: string }).error]).toEqual([401, 'invalid_client']);
    });
  });
});

describe.each(TLS_ADAPTERS)('conformance: $name', (adapter) => {
  const t = new Http2App(adapter, { ca: TLS.cert });
  beforeAll(() => t.start({ limits: { quotas: { egress: { bytes: 1300, period: 'day' } } } }));
  afterAll(() => t.stop());

  it('one server, both protocols: the same principal, completion and byte quota for HTTP/2 and HTTP/1.1', async () => {
    const h2 = await send(t.session, '/docs', { 'x-api-key': t.key });
    const h1 = await sendHttp1(t.app.url, '/docs', { 'x-api-key': t.key });
    expect([h2.status, h1.status]).toEqual([200, 200]);
    expect(h1.body).toEqual(h2.body);
    expect(h2.body).toMatchObject({ principal: { id: t.keyId } });
    await settle();
    t.events.length = 0;
    const sizes: Array<[string, number]> = [['h2', 500], ['h1', 400], ['h2', 300]];
    for (const [protocol, size] of sizes) {
      const res = protocol === 'h2' ? await send(t.session, `/open?size=${size}`, { 'x-api-key': t.key }) : await sendHttp1(t.app.url, `/open?size=${size}`, { 'x-api-key': t.key });
      expect([protocol, res.status, res.text.length]).toEqual([protocol, 200, size]);
      await settle();
    }
    expect(t.events.filter((e) => e.type === 'request.completed').map((e) => e.bytes)).toEqual([500, 400, 300]);
    // The two /docs answers (~110 bytes each) and the three sized ones add up past 1,300 bytes: both protocols refused.
    const over = await sendHttp1(t.app.url, '/open', { 'x-api-key': t.key });
    expect([over.status, (over.body as { code: string }).code]).toEqual([429, 'QUOTA_EXCEEDED']);
    const overH2 = await send(t.session, '/open', { 'x-api-key': t.key });
    expect([overH2.status, (overH2.body as { code: string }).code]).toEqual([429, 'QUOTA_EXCEEDED']);
  });
});
