/**
 * The core endpoints as each adapter serves them, compared side by side: the OAuth token endpoint, the JWKS and the
 * Prometheus `/metrics`, mounted for every method (`app.all`, `router.all`, `RequestMethod.ALL`) as the READMEs say,
 * give the same status, headers and body on Express, Koa and Nest (on Express and on Fastify) for every method, a
 * query or a trailing slash on the path, content types with parameters or in capitals, and chunked bodies.
 */
import request from 'supertest';
import { generateKeyPairSync } from 'node:crypto';
import { createKeyward, manualClock, type Keyward } from '@keyward/core';
import { createPrometheusExporter, type PrometheusExporter } from '@keyward/monitoring';
import { ADAPTERS, DEFAULT_ROUTES, type RunningApp } from './harness';
import { onStores } from './stores';

const HEADERS = ['allow', 'content-type', 'content-length', 'cache-control', 'pragma', 'www-authenticate'];
const METRICS_TOKEN = 'conformance-metrics-token-0123456789';
const FORM = 'application/x-www-form-urlencoded';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

describe('conformance: core endpoints are served identically on every adapter', () => {
  let kw: Keyward;
  let exporter: PrometheusExporter;
  let apps: RunningApp[];
  let basic: string;

  beforeAll(async () => {
    kw = createKeyward(onStores({
      clock: manualClock(Date.parse('2026-05-01T09:00:00Z')),
      tokens: { signing: { issuer: 'https://api.example', audience: 'docs-api', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k1' }], ttl: '10m' } },
    }));
    exporter = createPrometheusExporter({ keyward: kw, token: METRICS_TOKEN, prefix: 'kw_endpoints_' });
    const endpoints = [
      { method: 'ALL' as const, path: '/oauth/token', handler: kw.tokens.endpoint() },
      { method: 'ALL' as const, path: '/.well-known/jwks.json', handler: kw.tokens.jwksEndpoint() },
      { method: 'ALL' as const, path: '/metrics', handler: exporter.endpoint() },
    ];
    apps = await Promise.all(ADAPTERS.map((a) => a.start({ keyward: kw, routes: DEFAULT_ROUTES, endpoints })));
    const created = await kw.keys.create({ owner: 'acme', scopes: ['docs:read', 'users:view'] });
    basic = `Basic ${Buffer.from(`${created.record.id}:${created.key}`).toString('base64')}`;
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    exporter.close();
    await kw.close();
  });

  /** Sends the same request to every adapter; expects the same answer from each (`normalise` removes what must differ) and returns it. */
  async function identical(send: (url: string) => request.Test, normalise: (body: string) => string = (b) => b): Promise<Answer> {
    const answers = await Promise.all(apps.map(async (app, i) => {
      const res = await send(app.url);
      const body = normalise(res.text ?? '');
      const headers = Object.fromEntries(HEADERS.filter((h) => res.headers[h] !== undefined).map((h) => [h, h === 'content-length' && body !== (res.text ?? '') ? 'n' : String(res.headers[h])]));
      return { adapter: ADAPTERS[i]!.name, answer: { status: res.status, headers, body } };
    }));
    for (const a of answers.slice(1)) expect({ adapter: a.adapter, ...a.answer }).toEqual({ adapter: a.adapter, ...answers[0]!.answer });
    return answers[0]!.answer;
  }

  /** A token response with its token (which differs on every exchange) replaced. */
  const withoutToken = (body: string) => body.replace(/"access_token":"[^"]+"/, '"access_token":"…"');
  const exchange = (u: string, path = '/oauth/token', type = FORM) => request(u).post(path).set('Authorization', basic).set('Content-Type', type);
  const granted = { status: 200, headers: { 'content-type': 'application/json', 'content-length': 'n', 'cache-control': 'no-store', pragma: 'no-cache' }, body: '{"access_token":"…","token_type":"Bearer","expires_in":600,"scope":"docs:read users:view"}' };

  it('token endpoint: a token with no-store and no-cache (RFC 6749 §5.1), whatever the content type parameters, case, query, trailing slash or chunking', async () => {
    for (const send of [
      (u: string) => exchange(u).send('grant_type=client_credentials'),
      (u: string) => exchange(u, '/oauth/token', `${FORM}; charset=utf-8`).send('grant_type=client_credentials'),
      (u: string) => exchange(u, '/oauth/token', FORM.toUpperCase()).send('grant_type=client_credentials'),
      (u: string) => exchange(u, '/oauth/token?x=1').send('grant_type=client_credentials'),
      (u: string) => exchange(u, '/oauth/token/').send('grant_type=client_credentials'),
      // A UTF-8 byte order mark first (.NET's StreamWriter writes one), which body parsers drop.
      (u: string) => exchange(u).send('\uFEFFgrant_type=client_credentials'),
      (u: string) => {
        const r = exchange(u); // written in pieces without Content-Length: chunked
        void r.write('grant_type=client_');
        void r.write('credentials');
        return r;
      },
    ]) expect(await identical(send, withoutToken)).toEqual(granted);
  });

  it('token endpoint: a JSON body, an empty body or none is invalid_request, with no-store', async () => {
    const notForm = { status: 400, headers: { 'content-type': 'application/json', 'content-length': '101', 'cache-control': 'no-store', pragma: 'no-cache' }, body: '{"error":"invalid_request","error_description":"The body must be application/x-www-form-urlencoded."}' };
    expect(await identical((u) => exchange(u, '/oauth/token', 'application/json').send('{"grant_type":"client_credentials"}'))).toEqual(notForm);
    expect(await identical((u) => request(u).post('/oauth/token').set('Authorization', basic))).toEqual(notForm);
    expect(await identical((u) => exchange(u).send(''))).toEqual({ ...notForm, headers: { ...notForm.headers, 'content-length': '86' }, body: '{"error":"invalid_request","error_description":"The grant_type parameter is missing."}' });
  });

  it('token endpoint: any other method (a CORS preflight and HEAD among them) is 405 with Allow: POST', async () => {
    const body = '{"error":"invalid_request","error_description":"The token endpoint accepts POST only."}';
    const refused = { status: 405, headers: { allow: 'POST', 'content-type': 'application/json', 'content-length': String(body.length), 'cache-control': 'no-store', pragma: 'no-cache' }, body };
    for (const method of ['get', 'put', 'delete', 'patch'] as const) expect(await identical((u) => request(u)[method]('/oauth/token'))).toEqual(refused);
    expect(await identical((u) => request(u).options('/oauth/token').set('Origin', 'https://app.example').set('Access-Control-Request-Method', 'POST'))).toEqual(refused);
    expect(await identical((u) => request(u).head('/oauth/token'))).toEqual({ ...refused, body: '' });
  });

  it('JWKS: GET and HEAD with its media type and max-age, a query or a trailing slash alike; other methods 405 with Allow: GET, HEAD', async () => {
    const body = JSON.stringify(kw.tokens.jwks());
    const served = { status: 200, headers: { 'content-type': 'application/jwk-set+json', 'content-length': String(body.length), 'cache-control': 'public, max-age=300' }, body };
    for (const path of ['/.well-known/jwks.json', '/.well-known/jwks.json?x=1', '/.well-known/jwks.json/']) expect(await identical((u) => request(u).get(path))).toEqual(served);
    // A Content-Encoding on a request without a body says nothing about a body to decode.
    for (const coding of ['gzip', 'compress']) expect(await identical((u) => request(u).get('/.well-known/jwks.json').set('Content-Encoding', coding))).toEqual(served);
    expect(await identical((u) => request(u).head('/.well-known/jwks.json'))).toEqual({ ...served, body: '' });
    const notAllowed = '{"type":"about:blank","title":"Method Not Allowed","status":405}';
    for (const method of ['post', 'options', 'delete'] as const) {
      expect(await identical((u) => request(u)[method]('/.well-known/jwks.json'))).toEqual({ status: 405, headers: { allow: 'GET, HEAD', 'content-type': 'application/problem+json', 'content-length': String(notAllowed.length) }, body: notAllowed });
    }
  });

  it('/metrics: 401 with a Bearer challenge without its token, the exposition with it (GET and HEAD), other methods 405', async () => {
    const unauthorized = { status: 401, headers: { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'text/plain; charset=utf-8', 'content-length': '13', 'cache-control': 'no-store' }, body: 'Unauthorized\n' };
    expect(await identical((u) => request(u).get('/metrics'))).toEqual(unauthorized);
    expect(await identical((u) => request(u).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}x`))).toEqual(unauthorized);
    expect(await identical((u) => request(u).head('/metrics'))).toEqual({ ...unauthorized, body: '' });
    const exposition = (body: string) => (body.startsWith('# HELP kw_endpoints_') ? 'exposition' : body);
    const scraped = { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': 'n', 'cache-control': 'no-store' }, body: 'exposition' };
    expect(await identical((u) => request(u).get('/metrics?x=1').set('Authorization', `bearer ${METRICS_TOKEN}`), exposition)).toEqual(scraped);
    const head = await identical((u) => request(u).head('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`));
    expect([head.status, head.headers['content-type'], head.headers['cache-control'], head.body]).toEqual([200, scraped.headers['content-type'], 'no-store', '']);
    expect(await identical((u) => request(u).post('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`))).toEqual({ status: 405, headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8', 'content-length': '19' }, body: 'Method Not Allowed\n' });
  });
});
