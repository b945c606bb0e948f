import { Counter, Registry, collectDefaultMetrics, register as globalRegistry } from 'prom-client';
import { createKeyward, manualClock, type Keyward } from '@keyward/core';
import { createPrometheusExporter, defaultRouteNormaliser } from './index';

/** Parses Prometheus text exposition into `name{labels}` → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable line: ${line}`);
    out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

async function call(kw: Keyward, key: string | undefined, path: string, done = { status: 200, bytes: 50 }, scopes?: string[]) {
  const d = await kw.check({ method: 'GET', path, headers: key ? { 'x-api-key': key } : {}, remoteAddress: '10.0.0.1' }, scopes ? { scopes } : {});
  if (d.ok) d.done(done);
}

describe('prometheus exporter', () => {
  let kw: Keyward;
  afterEach(() => kw.close());

  it('counts requests by outcome, status, route and plan in its own registry', async () => {
    kw = createKeyward({ clock: manualClock(Date.parse('2026-03-01T10:00:00Z')) });
    const exporter = createPrometheusExporter({ keyward: kw });
    expect(exporter.registry).not.toBe(globalRegistry);
    const { key } = await kw.keys.create({ owner: 'acme', plan: 'pro', scopes: ['docs:read'] });
    await call(kw, key, '/v1/users/42');
    await call(kw, key, '/v1/users/43', { status: 500, bytes: 10 });
    await call(kw, undefined, '/v1/users/44');
    await call(kw, key, '/docs', { status: 200, bytes: 0 }, ['docs:write']);
    await kw.flushEvents();
    const res = await exporter.endpoint()({ method: 'GET', path: '/metrics', headers: {} });
    expect(res.status).toBe(200);
    expect(res.headers['Content-Type']).toContain('text/plain');
    const m = parse(String(res.body));
    expect(m.get('keyward_requests_total{outcome="allowed",status="200",route="/v1/users/:id",plan="pro"}')).toBe(1);
    expect(m.get('keyward_requests_total{outcome="allowed",status="500",route="/v1/users/:id",plan="pro"}')).toBe(1);
    expect(m.get('keyward_requests_total{outcome="CREDENTIALS_MISSING",status="401",route="/v1/users/:id",plan="none"}')).toBe(1);
    expect(m.get('keyward_requests_total{outcome="INSUFFICIENT_SCOPE",status="403",route="/docs",plan="pro"}')).toBe(1);
    expect(m.get('keyward_request_duration_seconds_count{status="200",route="/v1/users/:id",plan="pro"}')).toBe(1);
    expect(m.get('keyward_response_bytes_total{route="/v1/users/:id",plan="pro"}')).toBe(60);
    expect(m.get('keyward_events_total{type="key.created"}')).toBe(1);
    expect([...m.keys()].some((k) => k.includes('key_id'))).toBe(false);
    exporter.close();
  });

  it('adds key_id labels only when asked, bounds routes, protects the scrape with a token', async () => {
    kw = createKeyward();
    const registry = new Registry();
    const exporter = createPrometheusExporter({ keyward: kw, registry, perKeyLabels: true, maxRoutes: 2, prefix: 'api_', token: 'scrape-token-0123456789' });
    const { key, record } = await kw.keys.create({ owner: 'acme' });
    for (const p of ['/a', '/b', '/c', '/d']) await call(kw, key, p);
    await kw.flushEvents();
    const ep = exporter.endpoint();
    expect((await ep({ method: 'GET', path: '/metrics', headers: {} })).status).toBe(401);
    expect((await ep({ method: 'GET', path: '/metrics', headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await ep({ method: 'GET', path: '/metrics', headers: { authorization: 'scrape-token-0123456789' } })).status).toBe(401);
    expect((await ep({ method: 'GET', path: '/metrics', headers: { authorization: 'Basic scrape-token-0123456789' } })).status).toBe(401);
    expect((await ep({ method: 'GET', path: '/metrics', headers: { authorization: 'Bearerscrape-token-0123456789' } })).status).toBe(401);
    // the scheme is case-insensitive (RFC 9110 §11.1): a scraper writing `bearer` is let in
    for (const scheme of ['bearer', 'BEARER', 'Bearer ']) {
      expect((await ep({ method: 'GET', path: '/metrics', headers: { authorization: `${scheme} scrape-token-0123456789` } })).status).toBe(200);
    }
    expect((await ep({ method: 'POST', path: '/metrics', headers: {} })).status).toBe(405);
    const res = await ep({ method: 'GET', path: '/metrics', headers: { authorization: 'Bearer scrape-token-0123456789' } });
    const m = parse(String(res.body));
    expect(m.get(`api_requests_total{outcome="allowed",status="200",route="/a",plan="none",key_id="${record.id}"}`)).toBe(1);
    expect(m.get(`api_requests_total{outcome="allowed",status="200",route="other",plan="none",key_id="${record.id}"}`)).toBe(2);
    expect(await registry.metrics()).toBe(res.body);
    exporter.close();
  });

  it('anonymous requests to made-up paths cannot take the route labels: only requests naming a key add one', async () => {
    kw = createKeyward();
    const exporter = createPrometheusExporter({ keyward: kw, maxRoutes: 3 });
    const { key } = await kw.keys.create({ owner: 'acme' });
    await call(kw, key, '/v1/docs');
    for (let i = 0; i < 50; i++) await call(kw, undefined, `/junk-${i}`); // no credential
    for (let i = 0; i < 50; i++) await call(kw, `kw_live_${'x'.repeat(30)}${i}`, `/probe-${i}`); // an unknown key
    await call(kw, undefined, '/v1/docs'); // a route already known keeps its label
    await call(kw, key, '/v1/orders');
    await kw.flushEvents();
    const m = parse(await exporter.metrics());
    expect(m.get('keyward_requests_total{outcome="allowed",status="200",route="/v1/orders",plan="none"}')).toBe(1);
    expect(m.get('keyward_requests_total{outcome="CREDENTIALS_MISSING",status="401",route="/v1/docs",plan="none"}')).toBe(1);
    expect(m.get('keyward_requests_total{outcome="CREDENTIALS_MISSING",status="401",route="other",plan="none"}')).toBe(50);
    expect([...m.keys()].filter((k) => /junk|probe/.test(k))).toEqual([]);
    exporter.close();
  });

  it('normalises ids in paths and rejects bad options', () => {
    expect(defaultRouteNormaliser('/v1/users/42/keys?x=1')).toBe('/v1/users/:id/keys');
    expect(defaultRouteNormaliser('/o/123e4567-e89b-12d3-a456-426614174000')).toBe('/o/:id');
    expect(defaultRouteNormaliser('/k/kw_live_abc123def456ghi789')).toBe('/k/:id');
    expect(defaultRouteNormaliser('/a/b/c/d/e/f/g/h')).toBe('/a/b/c/d/e/f/…');
    kw = createKeyward();
    expect(() => createPrometheusExporter({ keyward: kw, prefix: 'bad-prefix' })).toThrow(/"prefix"/);
    expect(() => createPrometheusExporter({ keyward: kw, token: 'short' })).toThrow(/"token"/);
    // The README's `token: process.env.METRICS_TOKEN` with the variable unset: refused, not an open /metrics.
    expect(() => createPrometheusExporter({ keyward: kw, token: process.env['KEYWARD_TEST_UNSET_METRICS_TOKEN'] })).toThrow('keyward: option "token" is undefined (an unset environment variable?)');
    expect(() => createPrometheusExporter({ keyward: kw, buckets: [1, 0.5] })).toThrow(/"buckets"/);
  });

  it('a revoked or restricted key (a leaked one) refused on made-up paths cannot take the route labels either: only a credential accepted within its restrictions adds one', async () => {
    kw = createKeyward();
    const exporter = createPrometheusExporter({ keyward: kw, maxRoutes: 3 });
    const revoked = await kw.keys.create({ owner: 'acme' });
    await kw.keys.revoke(revoked.record.id, { reason: 'leaked' });
    const restricted = await kw.keys.create({ owner: 'acme', restrictions: { ip: { allow: ['192.0.2.0/24'] } } });
    const { key } = await kw.keys.create({ owner: 'acme' });
    for (let i = 0; i < 5; i++) await call(kw, revoked.key, `/junk-${i}`);
    for (let i = 0; i < 5; i++) await call(kw, restricted.key, `/probe-${i}`);
    await call(kw, key, '/v1/orders');
    await call(kw, revoked.key, '/v1/orders'); // a known route keeps its label
    await kw.flushEvents();
    const m = parse(await exporter.metrics());
    expect(m.get('keyward_requests_total{outcome="allowed",status="200",route="/v1/orders",plan="none"}')).toBe(1);
    expect(m.get('keyward_requests_total{outcome="KEY_REVOKED",status="401",route="/v1/orders",plan="none"}')).toBe(1);
    expect(m.get('keyward_requests_total{outcome="KEY_REVOKED",status="401",route="other",plan="none"}')).toBe(5);
    expect(m.get('keyward_requests_total{outcome="IP_FORBIDDEN",status="403",route="other",plan="none"}')).toBe(5);
    expect([...m.keys()].filter((k) => /junk|probe/.test(k))).toEqual([]);
    exporter.close();
  });

  it('per-key labels name a token as per-key metrics count it: by its subject (token:<sub>), never its jti nor a key whose id is its sub; at most maxKeys labels, then other', async () => {
    kw = createKeyward({ metrics: true, tokens: { signing: { issuer: 'https://api.example', audience: 'api', keys: [{ secret: 'h'.repeat(32), kid: 'hs' }] } } });
    expect(() => createPrometheusExporter({ keyward: kw, perKeyLabels: true, maxKeys: 0 })).toThrow(new TypeError('keyward: option "maxKeys" must be a positive integer'));
    const exporter = createPrometheusExporter({ keyward: kw, perKeyLabels: true, maxKeys: 4 });
    const { key, record } = await kw.keys.create({ owner: 'acme' });
    await call(kw, key, '/a');
    const bearer = async (subject: string) => {
      const { token } = await kw.tokens.issue({ subject });
      const d = await kw.check({ method: 'GET', path: '/a', headers: { authorization: `Bearer ${token}` }, remoteAddress: '10.0.0.1' });
      if (d.ok) d.done({ status: 200, bytes: 1 });
    };
    for (let i = 0; i < 20; i++) await bearer('user-7'); // a client's tokens, one after another: each has a jti of its own
    await bearer(record.id); // someone else's token whose sub is the key's id
    for (let i = 0; i < 5; i++) await bearer(`user-${i}`); // more subjects than labels
    await call(kw, key, '/a');
    await kw.flushEvents();
    const m = parse(await exporter.metrics());
    const keyIds = new Set([...m.keys()].filter((k) => k.startsWith('keyward_requests_total{')).map((k) => /key_id="([^"]*)"/.exec(k)![1]));
    expect(keyIds).toEqual(new Set([record.id, 'token:user-7', `token:${record.id}`, 'token:user-0', 'other']));
    const allowed = (label: string) => m.get(`keyward_requests_total{outcome="allowed",status="200",route="/a",plan="none",key_id="${label}"}`);
    expect([allowed(record.id), allowed('token:user-7'), allowed(`token:${record.id}`), allowed('token:user-0'), allowed('other')]).toEqual([2, 20, 1, 1, 4]);
    // The same names as kw.metrics.forKey()
    expect([kw.metrics!.forKey(record.id)?.windows.day.requests, kw.metrics!.forKey('token:user-7')?.windows.day.requests, kw.metrics!.forKey(`token:${record.id}`)?.windows.day.requests]).toEqual([2, 20, 1]);
    exporter.close();
  });

  it('perKeyLabels and defaultMetrics are booleans: "false" from an environment variable does not turn process metrics on', () => {
    kw = createKeyward();
    for (const flag of ['perKeyLabels', 'defaultMetrics']) {
      for (const value of ['false', 'true', 1, 0, null]) {
        const registry = new Registry();
        expect(() => createPrometheusExporter({ keyward: kw, registry, [flag]: value })).toThrow(new TypeError(`keyward: option "${flag}" must be a boolean`));
        expect(registry.getMetricsAsArray()).toHaveLength(0);
      }
    }
    createPrometheusExporter({ keyward: kw, perKeyLabels: false, defaultMetrics: false }).close();
  });

  it('a registry shared with other metrics: a name clash is a TypeError naming the metric and "prefix", and leaves nothing registered', async () => {
    kw = createKeyward();
    const registry = new Registry();
    new Counter({ name: 'keyward_anomalies_total', help: "the app's own", registers: [registry] });
    expect(() => createPrometheusExporter({ keyward: kw, registry })).toThrow(new TypeError('keyward: the "registry" given to createPrometheusExporter() already has a metric named "keyward_anomalies_total" (another exporter\'s, or your own): give this exporter another "prefix"'));
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual(['keyward_anomalies_total']);

    // two keyward instances, one registry: the second exporter needs its own prefix, and both then count apart
    const first = createPrometheusExporter({ keyward: kw, registry, prefix: 'a_' });
    expect(() => createPrometheusExporter({ keyward: kw, registry, prefix: 'a_' })).toThrow(/already has a metric named "a_requests_total".*another "prefix"/);
    const other = createKeyward();
    const second = createPrometheusExporter({ keyward: other, registry, prefix: 'b_' });
    await call(kw, undefined, '/x');
    await kw.flushEvents();
    const m = parse(await registry.metrics());
    expect(m.get('a_requests_total{outcome="CREDENTIALS_MISSING",status="401",route="other",plan="none"}')).toBe(1);
    expect([...m.keys()].some((k) => k.startsWith('b_requests_total{'))).toBe(false);

    // process metrics already collected under the prefix: refused naming "defaultMetrics", nothing of it left behind
    const withProcess = new Registry();
    collectDefaultMetrics({ register: withProcess, prefix: 'c_' });
    const names = withProcess.getMetricsAsArray().map((x) => x.name).sort();
    expect(() => createPrometheusExporter({ keyward: kw, registry: withProcess, prefix: 'c_', defaultMetrics: true })).toThrow(/^keyward: option "defaultMetrics" of createPrometheusExporter\(\): the "registry" has process metrics with the prefix "c_" already/);
    expect(withProcess.getMetricsAsArray().map((x) => x.name).sort()).toEqual(names);

    expect(() => createPrometheusExporter({ keyward: kw, registry: {} as never })).toThrow(new TypeError('keyward: option "registry" must be a prom-client Registry'));
    first.close();
    second.close();
    await other.close();
  });

  it('close() takes its metrics out of a shared registry: no frozen counts are served, and a new exporter can take the names', async () => {
    kw = createKeyward();
    const registry = new Registry();
    new Counter({ name: 'app_orders_total', help: "the app's own", registers: [registry] });
    const first = createPrometheusExporter({ keyward: kw, registry, defaultMetrics: true });
    await call(kw, undefined, '/x');
    await kw.flushEvents();
    first.close();
    first.close();
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual(['app_orders_total']);
    const second = createPrometheusExporter({ keyward: kw, registry, defaultMetrics: true }); // e.g. after a reload
    await call(kw, undefined, '/x');
    await kw.flushEvents();
    expect(parse(await registry.metrics()).get('keyward_requests_total{outcome="CREDENTIALS_MISSING",status="401",route="other",plan="none"}')).toBe(1);
    second.close();
  });

  it('a byte count that is not one, from an app calling done() itself, is not counted and does not break the scrapes after it', async () => {
    kw = createKeyward();
    const exporter = createPrometheusExporter({ keyward: kw });
    const { key } = await kw.keys.create({ owner: 'acme' });
    for (const bytes of ['120', -5, Infinity, Number.NaN, 30]) await call(kw, key, '/a', { status: 200, bytes: bytes as number });
    await kw.flushEvents();
    const res = await exporter.endpoint()({ method: 'GET', path: '/metrics', headers: {} });
    expect(res.status).toBe(200);
    const m = parse(String(res.body));
    expect(m.get('keyward_response_bytes_total{route="/a",plan="none"}')).toBe(30);
    expect(m.get('keyward_requests_total{outcome="allowed",status="200",route="/a",plan="none"}')).toBe(5);
    exporter.close();
  });

  it('buckets: only increasing, positive, finite numbers; an Infinity was exported as a second +Inf bucket', async () => {
    kw = createKeyward();
    const message = 'keyward: option "buckets" must be an array of increasing, positive, finite numbers (seconds; the +Inf bucket is added by itself)';
    // eslint-disable-next-line no-sparse-arrays
    for (const buckets of [[0.1, Infinity], [0.1, Number.NaN], ['0.1', '1'], [0.1, , 1], 5, 'abc', [], [0, 1], [-1, 1]]) {
      const registry = new Registry();
      expect(() => createPrometheusExporter({ keyward: kw, registry, buckets: buckets as never })).toThrow(new TypeError(message));
      expect(registry.getMetricsAsArray()).toHaveLength(0);
    }
    const exporter = createPrometheusExporter({ keyward: kw, buckets: [0.1, 1] });
    const { key } = await kw.keys.create({ owner: 'acme' });
    await call(kw, key, '/a');
    await kw.flushEvents();
    const buckets = (await exporter.metrics()).split('\n').filter((l) => l.startsWith('keyward_request_duration_seconds_bucket'));
    expect(buckets.map((l) => /le="([^"]*)"/.exec(l)![1])).toEqual(['0.1', '1', '+Inf']);
    exporter.close();
  });
});
