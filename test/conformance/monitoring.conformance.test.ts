/**
 * Monitoring scenarios, identical for every adapter: per-key metrics after a scripted sequence, a parseable
 * `/metrics` scrape, a scripted "stolen key" (new address and country, burst, large downloads) raising the
 * expected anomalies and, with auto-suspend, a 401 on the next request, and a key sent in the URL (an unlisted query
 * parameter, a path segment) reaching no event, log line or metric.
 */
import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { createKeyward, manualClock, type AnomalyFeature, type Keyward, type KeywardEvent } from '@keyward/core';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createPrometheusExporter, jsonLinesSink, pinoSink, type PrometheusExporter } from '@keyward/monitoring';
import { ADAPTERS, answerOf, DEFAULT_ROUTES, type RunningApp } from './harness';
import { onStores } from './stores';

const T0 = Date.parse('2026-03-01T10:00:00Z');
/** The "attacker" connects from another loopback address, which the test's country lookup places elsewhere. */
const THIEF = '127.0.0.2';
const countryLookup = (address: string) => (address === THIEF ? 'RU' : 'FR');

/** Parses Prometheus text exposition into `name{labels}` → value; throws on a malformed line. */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (!/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) throw new Error(`bad comment line: ${line}`);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

/** A GET from a chosen local address (so the server sees another client). */
function getFrom(localAddress: string, url: string, key: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { localAddress, headers: { 'x-api-key': key, 'user-agent': 'thief/1' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(ADAPTERS)('conformance: monitoring on $name', (adapter) => {
  let kw: Keyward;
  let app: RunningApp;
  let exporter: PrometheusExporter;
  const clock = manualClock(T0);
  const events: KeywardEvent[] = [];

  beforeAll(async () => {
    kw = createKeyward(onStores({
      clock,
      countryLookup,
      metrics: true,
      anomalies: { warmup: '10m', warmupRequests: 20, minRate: 10, rateFactor: 5, minBytes: 100_000, suspend: ['BYTES_SPIKE'] },
    }));
    kw.on('*', (e) => { events.push(e); });
    exporter = createPrometheusExporter({ keyward: kw });
    app = await adapter.start({ keyward: kw, routes: DEFAULT_ROUTES, endpoints: [{ method: 'GET', path: '/metrics', handler: exporter.endpoint() }] });
  });
  afterAll(async () => {
    exporter.close();
    await app.close();
    await kw.close();
  });

  /** Waits (without a deadline assertion) until every response's completion has been reported. */
  const reported = async (keyId: string, requests: number) => {
    for (let i = 0; i < 500 && (kw.metrics!.forKey(keyId)?.windows.day.requests ?? 0) < requests; i++) {
      await kw.flushEvents();
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const settle = async () => {
    await new Promise((r) => setImmediate(r));
    await kw.flushEvents();
    await (kw.features.get('anomalies') as AnomalyFeature).detector.settled();
  };

  it('per-key metrics after a scripted sequence match exactly; /metrics parses and agrees', async () => {
    const { key, record } = await kw.keys.create({ owner: 'acme', plan: 'pro', scopes: ['docs:read', 'users:view'] });
    const sent: Array<{ status: number; bytes: number }> = [];
    const go = async (r: request.Test) => {
      const res = await r.set('X-API-Key', key).set('User-Agent', 'sdk/1');
      sent.push({ status: res.status, bytes: Buffer.byteLength(res.text) });
      return res;
    };
    await go(request(app.url).get('/docs'));
    await go(request(app.url).get('/docs'));
    await go(request(app.url).get('/both'));
    await go(request(app.url).get('/open?size=1000'));
    expect((await go(request(app.url).post('/docs'))).status).toBe(403);
    await reported(record.id, 5);
    await settle();
    const okBytes = sent.filter((s) => s.status === 200).reduce((a, s) => a + s.bytes, 0);
    const m = kw.metrics!.forKey(record.id)!;
    expect(m).toMatchObject({ keyId: record.id, owner: 'acme', plan: 'pro', firstSeen: new Date(T0).toISOString(), lastSeen: new Date(T0).toISOString() });
    for (const window of ['minute', 'hour', 'day'] as const) {
      const w = m.windows[window];
      expect({ ...w, from: undefined, to: undefined, latency: undefined }).toEqual({
        window,
        from: undefined,
        to: undefined,
        latency: undefined,
        requests: 5,
        completed: 4,
        refused: 1,
        status: { '1xx': 0, '2xx': 4, '3xx': 0, '4xx': 1, '5xx': 0 },
        errors: { '4xx': 1, '5xx': 0, rate: 0.2 },
        auth: { succeeded: 4, failed: 0 },
        refusals: { INSUFFICIENT_SCOPE: 1 },
        bytes: okBytes,
        addresses: { distinct: 1, top: [{ value: '127.0.0.1', count: 5 }] },
        userAgents: { distinct: 1, top: [{ value: 'sdk/1', count: 5 }] },
        endpoints: { distinct: 4, top: [{ value: 'GET /docs', count: 2 }, { value: 'GET /both', count: 1 }, { value: 'GET /open', count: 1 }, { value: 'POST /docs', count: 1 }] },
      });
      expect(w.latency.count).toBe(4);
      expect(w.latency.buckets.reduce((a, b) => a + b.count, 0)).toBe(4);
    }
    expect(okBytes).toBeGreaterThan(1000);
    expect(kw.metrics!.top({ by: 'requests', window: 'minute', limit: 1 })).toEqual([{ keyId: record.id, owner: 'acme', value: 5 }]);

    const scrape = await request(app.url).get('/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parseExposition(scrape.text);
    expect(samples.get('keyward_requests_total{outcome="allowed",status="200",route="/docs",plan="pro"}')).toBe(2);
    expect(samples.get('keyward_requests_total{outcome="allowed",status="200",route="/both",plan="pro"}')).toBe(1);
    expect(samples.get('keyward_requests_total{outcome="allowed",status="200",route="/open",plan="pro"}')).toBe(1);
    expect(samples.get('keyward_requests_total{outcome="INSUFFICIENT_SCOPE",status="403",route="/docs",plan="pro"}')).toBe(1);
    expect(samples.get('keyward_request_duration_seconds_count{status="200",route="/docs",plan="pro"}')).toBe(2);
    expect(samples.get('keyward_request_duration_seconds_bucket{le="+Inf",status="200",route="/docs",plan="pro"}')).toBe(2);
    expect(samples.get('keyward_response_bytes_total{route="/open",plan="pro"}')).toBe(1000);
    expect(scrape.text).not.toContain(key);
  });

  it('a stolen key: new address and country, a burst, large downloads → anomalies, suspension, then 401', async () => {
    const { key, record } = await kw.keys.create({ owner: 'victim', scopes: ['docs:read'] });
    // warm-up: 11 minutes of light use from the usual address
    for (let minute = 0; minute <= 10; minute++) {
      clock.advance(60_000);
      for (let i = 0; i < 2; i++) expect((await request(app.url).get('/docs').set('X-API-Key', key)).status).toBe(200);
      await reported(record.id, 2 * (minute + 1));
    }
    await settle();
    expect(events.filter((e) => e.type === 'anomaly.detected' && e.keyId === record.id)).toEqual([]);
    clock.advance(60_000);
    // the thief: another address in another country, a burst, then large downloads
    for (let i = 0; i < 10; i++) expect((await getFrom(THIEF, `${app.url}/docs`, key)).status).toBe(200);
    expect((await getFrom(THIEF, `${app.url}/open?size=60000`, key)).status).toBe(200);
    await getFrom(THIEF, `${app.url}/open?size=60000`, key);
    await reported(record.id, 22 + 12);
    await settle();

    const anomalies = events.filter((e) => e.type === 'anomaly.detected' && e.keyId === record.id);
    expect(anomalies.map((e) => e.reason)).toEqual(['NEW_ADDRESS', 'NEW_COUNTRY', 'RATE_SPIKE', 'BYTES_SPIKE']);
    expect(anomalies[0]).toMatchObject({ owner: 'victim', clientAddress: THIEF, country: 'RU', data: { kind: 'NEW_ADDRESS', evidence: { address: THIEF, knownAddresses: 1 } } });
    expect(anomalies[1]).toMatchObject({ data: { kind: 'NEW_COUNTRY', evidence: { country: 'RU', knownCountries: ['FR'] } } });
    expect(anomalies[2]).toMatchObject({ data: { kind: 'RATE_SPIKE', suspend: false, evidence: { requestsThisMinute: 10, baselinePerMinute: 2, threshold: 10 } } });
    expect(anomalies[3]).toMatchObject({ data: { kind: 'BYTES_SPIKE', suspend: true, evidence: { threshold: 100_000 } } });
    expect(events.find((e) => e.type === 'key.suspended' && e.keyId === record.id)).toMatchObject({ owner: 'victim', reason: 'BYTES_SPIKE' });
    expect(JSON.stringify(events)).not.toContain(key);

    const next = await request(app.url).get('/docs').set('X-API-Key', key);
    expect(answerOf(next)).toEqual({
      status: 401,
      headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', 'www-authenticate': 'Bearer realm="keyward", error="invalid_token", error_description="Key disabled"' },
      body: { type: 'urn:keyward:problem:key-disabled', title: 'Key disabled', status: 401, detail: 'The key is disabled.', code: 'KEY_DISABLED' },
    });

    const samples = parseExposition((await request(app.url).get('/metrics')).text);
    for (const kind of ['NEW_ADDRESS', 'NEW_COUNTRY', 'RATE_SPIKE', 'BYTES_SPIKE']) expect(samples.get(`keyward_anomalies_total{kind="${kind}"}`)).toBe(1);
    expect(samples.get('keyward_events_total{type="key.suspended"}')).toBe(1);
    const thief = kw.metrics!.forKey(record.id)!.windows.minute;
    expect(thief.addresses.top[0]).toEqual({ value: THIEF, count: 12 });
    expect(thief.userAgents.top[0]).toEqual({ value: 'thief/1', count: 12 });
  });
});

describe.each(ADAPTERS)('conformance: no credential in events, logs or metrics on $name', (adapter) => {
  let kw: Keyward;
  let app: RunningApp;
  let exporter: PrometheusExporter;
  const events: KeywardEvent[] = [];
  const lines: string[] = [];
  const into = (target: string[]) => new Writable({ write(chunk, _enc, cb) { target.push(...String(chunk).split('\n').filter(Boolean)); cb(); } });

  beforeAll(async () => {
    kw = createKeyward(onStores({ metrics: true }));
    kw.on('*', (e) => { events.push(e); });
    jsonLinesSink({ keyward: kw, stream: into(lines) });
    pinoSink({ keyward: kw, logger: pino({ level: 'debug' }, into(lines)) });
    exporter = createPrometheusExporter({ keyward: kw });
    app = await adapter.start({ keyward: kw, routes: [...DEFAULT_ROUTES, { method: 'GET', path: '/v1/:id/docs', scopes: ['docs:read'] }], endpoints: [{ method: 'GET', path: '/metrics', handler: exporter.endpoint() }] });
  });
  afterAll(async () => {
    exporter.close();
    await app.close();
    await kw.close();
  });

  it('a key in an unlisted query parameter and in the path: no event, log line or metric holds it or its body', async () => {
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const body = key.slice(key.lastIndexOf('_') + 1);
    const sent = [
      [await request(app.url).get(`/docs?x-api-key=${key}&page=2`).set('X-API-Key', key), 200],
      [await request(app.url).get(`/docs?apiToken=${key}`).set('X-API-Key', key), 200],
      [await request(app.url).get(`/v1/${key}/docs`).set('X-API-Key', key), 200],
      [await request(app.url).get(`/v1/${key}/docs?x-api-key=${key}`), 401], // query credentials are off: missing
      [await request(app.url).post(`/docs?apiToken=${key}`).set('X-API-Key', key), 403],
    ] as const;
    expect(sent.map(([res]) => res.status)).toEqual(sent.map(([, status]) => status));
    for (let i = 0; i < 500 && (kw.metrics!.forKey(record.id)?.windows.day.requests ?? 0) < 4; i++) {
      await kw.flushEvents();
      await new Promise((r) => setTimeout(r, 2));
    }
    await kw.flushEvents();

    const mine = events.filter((e) => e.path !== undefined && e.time >= new Date(record.createdAt).toISOString());
    expect(mine.map((e) => e.type).sort()).toEqual(['access.denied', 'auth.failed', ...Array(3).fill(['auth.succeeded', 'request.completed']).flat()].sort());
    expect(mine.find((e) => e.type === 'request.completed' && e.path!.startsWith('/v1/'))!.path).toBe('/v1/[REDACTED]/docs');
    expect(mine.find((e) => e.type === 'request.completed' && e.path!.includes('x-api-key'))!.path).toBe('/docs?x-api-key=[REDACTED]&page=2');
    expect(lines.length).toBeGreaterThanOrEqual(2 * mine.length);
    const metrics = kw.metrics!.forKey(record.id)!;
    expect(metrics.windows.day.endpoints.top.map((t) => t.value).sort()).toEqual(['GET /docs', 'GET /v1/[REDACTED]/docs', 'POST /docs']);
    const scrape = (await request(app.url).get('/metrics')).text;
    expect(scrape).toContain('route="/v1/:credential/docs"');
    for (const [what, text] of [['events', JSON.stringify(events)], ['log lines', lines.join('\n')], ['metrics', JSON.stringify(metrics) + JSON.stringify(kw.metrics!.top({ by: 'requests', window: 'day' }))], ['/metrics', scrape]]) {
      for (const secret of [key, body]) expect([what, text.includes(secret)]).toEqual([what, false]);
    }
  });
});
