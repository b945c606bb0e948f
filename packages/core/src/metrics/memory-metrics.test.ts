import { generateKeyPairSync } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createKeyward, EVENT_SCHEMA, manualClock, type DenialCode, type Keyward, type KeywardEvent } from '../index';
import { DistinctCounter, EXACT_DISTINCT_MAX } from './distinct';
import { hash53 } from './hash';
import { SpaceSaving } from './top';
import { MemoryMetrics } from './memory-metrics';
import { LATENCY_BUCKETS_MS } from './histogram';
import { WINDOW_LAYOUT } from './key-stats';
import { parseMetricsOptions } from './options';

const T0 = Date.parse('2026-03-01T10:00:00Z');

async function call(kw: Keyward, key: string | undefined, opts: { path?: string; method?: string; ip?: string; ua?: string; status?: number; bytes?: number; scopes?: string[] } = {}) {
  const d = await kw.check(
    { method: opts.method ?? 'GET', path: opts.path ?? '/docs', headers: { ...(key ? { 'x-api-key': key } : {}), ...(opts.ua ? { 'user-agent': opts.ua } : {}) }, remoteAddress: opts.ip ?? '10.0.0.1' },
    opts.scopes ? { scopes: opts.scopes } : {},
  );
  if (d.ok) d.done({ status: opts.status ?? 200, bytes: opts.bytes ?? 100 });
  return d;
}

describe('in-memory per-key metrics', () => {
  let kw: Keyward;
  const clock = manualClock(T0);
  afterEach(() => kw?.close());

  it('is off unless configured', () => {
    kw = createKeyward();
    expect(kw.metrics).toBeUndefined();
  });

  it('counts a scripted sequence exactly', async () => {
    kw = createKeyward({ clock, metrics: true });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'], plan: 'pro' });
    await call(kw, key, { ip: '10.0.0.1', ua: 'curl/8', bytes: 100 });
    await call(kw, key, { ip: '10.0.0.1', ua: 'curl/8', bytes: 200 });
    await call(kw, key, { ip: '10.0.0.2', ua: 'python/3', path: '/other', bytes: 300, status: 500 });
    await call(kw, key, { ip: '10.0.0.2', ua: 'python/3', status: 404, bytes: 0 });
    await call(kw, key, { ip: '10.0.0.3', method: 'POST', scopes: ['docs:write'] }); // 403
    await call(kw, undefined); // no key: not counted for any key
    await kw.flushEvents();
    const m = kw.metrics!.forKey(record.id)!;
    expect(m).toMatchObject({ keyId: record.id, owner: 'acme', plan: 'pro' });
    const h = m.windows.hour;
    expect({ ...h, latency: undefined, from: undefined, to: undefined }).toEqual({
      window: 'hour',
      from: undefined,
      to: undefined,
      latency: undefined,
      requests: 5,
      completed: 4,
      refused: 1,
      status: { '1xx': 0, '2xx': 2, '3xx': 0, '4xx': 2, '5xx': 1 },
      errors: { '4xx': 2, '5xx': 1, rate: 0.6 },
      auth: { succeeded: 4, failed: 0 },
      refusals: { INSUFFICIENT_SCOPE: 1 },
      bytes: 600,
      addresses: { distinct: 3, top: [{ value: '10.0.0.1', count: 2 }, { value: '10.0.0.2', count: 2 }, { value: '10.0.0.3', count: 1 }] },
      userAgents: { distinct: 2, top: [{ value: 'curl/8', count: 2 }, { value: 'python/3', count: 2 }] },
      endpoints: { distinct: 3, top: [{ value: 'GET /docs', count: 3 }, { value: 'GET /other', count: 1 }, { value: 'POST /docs', count: 1 }] },
    });
    expect(h.latency.count).toBe(4);
    expect(h.latency.buckets.reduce((a, b) => a + b.count, 0)).toBe(4);
    expect(h.latency.buckets.at(-1)!.le).toBe('+Inf');
    expect(m.windows.minute.requests).toBe(5);
    expect(m.windows.day.requests).toBe(5);
    expect(JSON.stringify(m)).not.toContain(key);
  });

  it('a byte count that is not a number of bytes (NaN, negative, infinite, a string) counts as none, instead of poisoning the windows', async () => {
    kw = createKeyward({ clock, metrics: true, anomalies: { warmup: 0, warmupRequests: 0, minBytes: 1_000, detect: ['BYTES_SPIKE'] } });
    const events: KeywardEvent[] = [];
    kw.on('anomaly.detected', (e) => { events.push(e); });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    // A framework-free caller of done() reading an absent Content-Length: Number(undefined) is NaN.
    for (const bytes of [NaN, -500, Infinity, '300' as unknown as number, 100]) await call(kw, key, { bytes });
    await kw.flushEvents();
    const hour = kw.metrics!.forKey(record.id)!.windows.hour;
    expect([hour.completed, hour.bytes]).toEqual([5, 100]);
    expect(kw.metrics!.top({ by: 'bytes' })).toEqual([{ keyId: record.id, owner: 'acme', value: 100 }]);
    // The key's bytes baseline stayed a number: a download far above it is still a BYTES_SPIKE.
    clock.advance(60_000);
    await call(kw, key, { bytes: 5_000 });
    await kw.flushEvents();
    expect(events.map((e) => [e.reason, e.data!['evidence']])).toEqual([['BYTES_SPIKE', { bytesThisMinute: 5_000, baselineBytesPerMinute: 100, threshold: 1_000 }]]);
  });

  it('counts a token that is not a key\'s under its subject: a user\'s fresh tokens are one row, and never push the keys out', async () => {
    const signing = { issuer: 'https://api.example', audience: 'docs-api', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k1' }], ttl: '1h' };
    kw = createKeyward({ clock, tokens: { signing }, metrics: { maxKeys: 3 } });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    await call(kw, key);
    for (let i = 0; i < 5; i++) {
      const { token } = await kw.tokens.issue({ subject: 'user-7', scopes: ['docs:read'] }); // a new jti each time
      const d = await kw.check({ method: 'GET', path: '/docs', headers: { authorization: `Bearer ${token}` }, remoteAddress: '10.0.0.2' });
      if (d.ok) d.done({ status: 200, bytes: 10 });
    }
    await kw.flushEvents();
    // Counted by jti, the five tokens were five keys: the API key's windows were dropped at the third.
    expect(kw.metrics!.forKey(record.id)?.windows.day.requests).toBe(1);
    expect(kw.metrics!.forKey('token:user-7')?.windows.day).toMatchObject({ requests: 5, bytes: 50 });
    expect(kw.metrics!.stats()).toMatchObject({ keysTracked: 2, keysEvicted: 0 });
  });

  it("never counts a token whose sub is a key's id as that key, and counts a token exchanged for a key as the key", async () => {
    const signing = { issuer: 'https://api.example', audience: 'docs-api', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k1' }], ttl: '1h' };
    kw = createKeyward({ clock, tokens: { signing }, metrics: true });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    await call(kw, key);
    const bearer = async (token: string) => {
      const d = await kw.check({ method: 'GET', path: '/docs', headers: { authorization: `Bearer ${token}` }, remoteAddress: '10.0.0.2' });
      if (d.ok) d.done({ status: 200, bytes: 10 });
    };
    await bearer((await kw.tokens.issue({ subject: record.id, scopes: ['docs:read'] })).token); // someone else's token, with the key's id as sub
    const res = await kw.tokens.endpoint()({ method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${record.id}:${key}`).toString('base64')}` }, remoteAddress: '10.0.0.1', body: 'grant_type=client_credentials' });
    await bearer(JSON.parse(String(res.body)).access_token as string); // the key's own token
    await kw.flushEvents();
    expect(kw.metrics!.forKey(record.id)?.windows.day).toMatchObject({ requests: 2, bytes: 110 });
    expect(kw.metrics!.forKey(`token:${record.id}`)?.windows.day).toMatchObject({ requests: 1, bytes: 10 });
  });

  it('windows roll with the clock', async () => {
    const c = manualClock(T0);
    kw = createKeyward({ clock: c, metrics: true });
    const { key, record } = await kw.keys.create({ owner: 'acme' });
    await call(kw, key);
    await kw.flushEvents();
    c.advance(61_000);
    await call(kw, key);
    await kw.flushEvents();
    let m = kw.metrics!.forKey(record.id)!;
    expect([m.windows.minute.requests, m.windows.hour.requests, m.windows.day.requests]).toEqual([1, 2, 2]);
    c.advance(3_600_000);
    m = kw.metrics!.forKey(record.id)!;
    expect([m.windows.minute.requests, m.windows.hour.requests, m.windows.day.requests]).toEqual([0, 0, 2]);
    expect(m.windows.minute.addresses).toEqual({ distinct: 0, top: [] });
    c.advance(86_400_000);
    expect(kw.metrics!.forKey(record.id)!.windows.day.requests).toBe(0);
  });

  it('keeps counting after the clock steps back, and still drops events older than the window', async () => {
    const m = new MemoryMetrics({ maxKeys: 10, topCapacity: 5 }, () => now);
    const at = (t: number) => m.record({ schema: 'keyward.event/v1', type: 'request.completed', time: new Date(t).toISOString(), keyId: 'k', status: 200, bytes: 1, durationMs: 1, clientAddress: '10.0.0.1' });
    let now = T0;
    for (let i = 0; i < 5; i++) at(now);
    now = T0 - 3_600_000; // the clock is set back an hour
    for (let i = 0; i < 7; i++) at(now);
    let w = m.forKey('k')!.windows;
    expect([w.minute.requests, w.hour.requests, w.minute.addresses.distinct]).toEqual([7, 7, 1]);
    now += 30 * 60_000;
    for (let i = 0; i < 3; i++) at(now);
    w = m.forKey('k')!.windows;
    expect([w.minute.requests, w.hour.requests]).toEqual([3, 10]);
    at(now - 3_600_000); // a late event, older than the minute and hour windows: not counted there
    w = m.forKey('k')!.windows;
    expect([w.minute.requests, w.hour.requests, w.day.requests]).toEqual([3, 10, 11]);
  });

  it('ranks keys with top()', async () => {
    kw = createKeyward({ clock, metrics: true });
    const a = await kw.keys.create({ owner: 'a' });
    const b = await kw.keys.create({ owner: 'b' });
    for (let i = 0; i < 3; i++) await call(kw, a.key, { bytes: 10 });
    await call(kw, b.key, { bytes: 1000, status: 500 });
    await kw.flushEvents();
    expect(kw.metrics!.top()).toEqual([{ keyId: a.record.id, owner: 'a', value: 3 }, { keyId: b.record.id, owner: 'b', value: 1 }]);
    expect(kw.metrics!.top({ by: 'bytes', window: 'minute', limit: 1 })).toEqual([{ keyId: b.record.id, owner: 'b', value: 1000 }]);
    expect(kw.metrics!.top({ by: 'errors' })).toEqual([{ keyId: b.record.id, owner: 'b', value: 1 }]);
    expect(() => kw.metrics!.top({ by: 'nope' as never })).toThrow(TypeError);
    expect(() => kw.metrics!.top({ limit: 0 })).toThrow(/"limit"/);
    expect(() => kw.metrics!.top({ windows: 'day' } as never)).toThrow('keyward: metrics.top() has an unknown field "windows" (did you mean "window"? known: by, window, limit)');
  });

  it('counts auth failures that name a key', async () => {
    kw = createKeyward({ clock, metrics: true });
    const { key, record } = await kw.keys.create({ owner: 'acme' });
    await kw.keys.revoke(record.id);
    await call(kw, key);
    await kw.flushEvents();
    const h = kw.metrics!.forKey(record.id)!.windows.hour;
    expect(h.auth).toEqual({ succeeded: 0, failed: 1 });
    expect(h.refusals).toEqual({ KEY_REVOKED: 1 });
    expect(h.status['4xx']).toBe(1);
  });

  it('bounds the keys tracked', () => {
    const m = new MemoryMetrics({ maxKeys: 3, topCapacity: 5 }, () => T0);
    for (let i = 0; i < 10; i++) m.record({ schema: 'keyward.event/v1', type: 'request.completed', time: new Date(T0).toISOString(), keyId: `k${i}`, status: 200, bytes: 1, durationMs: 1 });
    expect(m.stats()).toEqual({ keysTracked: 3, keysEvicted: 7, maxKeys: 3 });
    expect(m.forKey('k0')).toBeUndefined();
    expect(m.forKey('k9')!.windows.minute.requests).toBe(1);
    m.clear(); // forgets everything, the count of keys dropped too
    expect(m.stats()).toEqual({ keysTracked: 0, keysEvicted: 0, maxKeys: 3 });
  });

  it('measured: a key that fills every slot of every window holds about 130 KB', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const KEYS = 50;
    const config = parseMetricsOptions(true); // the defaults: topCapacity 10, maxKeys 1000
    const end = T0 + 86_400_000;
    const m = new MemoryMetrics({ ...config, maxKeys: KEYS }, () => end);
    const windows = ['minute', 'hour', 'day'] as const;
    const back = (slotMs: number, n: number) => Array.from({ length: n }, (_, i) => end - i * slotMs);
    // A time in every counter slot (24 × 1 h, 12 × 5 min, 12 × 5 s before `end`) and in every sketch slot (4 quarters of
    // each window), oldest first. At every time, counters are filled; at the sketch times, the top-N lists and
    // distinct counters too.
    const counterTimes = windows.flatMap((w) => back(WINDOW_LAYOUT[w].counterSlotMs, WINDOW_LAYOUT[w].counterSlots));
    const sketchTimes = new Set(windows.flatMap((w) => back(WINDOW_LAYOUT[w].sketchSlotMs, WINDOW_LAYOUT[w].sketchSlots)));
    const times = [...new Set([...counterTimes, ...sketchTimes])].sort((a, b) => a - b);
    // Every denial code: the `refusals` record of each counter slot at its largest.
    const REASONS: DenialCode[] = ['CREDENTIALS_MISSING', 'CREDENTIALS_INVALID', 'CREDENTIALS_AMBIGUOUS', 'KEY_EXPIRED', 'KEY_REVOKED', 'KEY_DISABLED', 'TOKEN_INVALID', 'TOKEN_EXPIRED', 'INSUFFICIENT_SCOPE', 'IP_FORBIDDEN', 'REFERRER_FORBIDDEN', 'USER_AGENT_FORBIDDEN', 'OUTSIDE_TIME_WINDOW', 'COUNTRY_FORBIDDEN', 'ROUTE_FORBIDDEN', 'RATE_LIMITED', 'QUOTA_EXCEEDED', 'AUTH_BLOCKED', 'OVERLOADED', 'STORE_UNAVAILABLE'];
    const DURATIONS = [...LATENCY_BUCKETS_MS, 60_000]; // one response in every latency bucket, +Inf included
    const DISTINCT = EXACT_DISTINCT_MAX + 9; // values per sketch time: each distinct counter past exact, into HyperLogLog
    const perTime = (t: number) => REASONS.length + DURATIONS.length + (sketchTimes.has(t) ? DISTINCT : 0);
    const hex = (n: number) => n.toString(16).padStart(4, '0');
    /** A flat string, as header values and paths read from a request are (not a rope of the pieces built here). */
    const flat = (text: string) => Buffer.from(text, 'latin1').toString('latin1');
    const fill = (k: number) => {
      times.forEach((t, ti) => {
        const base = { schema: EVENT_SCHEMA, time: new Date(t).toISOString(), requestId: 'r', keyId: `key_${k}`, owner: `owner-${k}`, plan: 'pro' } as const;
        REASONS.forEach((reason, i) => m.record({ ...base, type: i % 2 ? 'access.denied' : 'auth.failed', status: 403, reason }));
        DURATIONS.forEach((durationMs, i) => m.record({ ...base, type: 'request.completed', status: [200, 301, 404, 500, 101][i % 5]!, bytes: 1000, durationMs }));
        m.record({ ...base, type: 'auth.succeeded' });
        if (!sketchTimes.has(t)) return;
        // values unique to the key, the time and the request, at their longest (an IPv6 address; user agent and
        // endpoint cut at 128 characters), so nothing is shared between slots or keys
        for (let i = 0; i < DISTINCT; i++) {
          const clientAddress = flat(`2001:0db8:${hex(k)}:${hex(ti)}:${hex(i)}:0000:0000:0001`);
          const userAgent = flat(`agent/${k}.${ti}.${i} `.padEnd(128, 'x'));
          const path = flat(`/v1/items/${k}/${ti}/${i}/`.padEnd(124, 'p'));
          m.record({ ...base, type: 'request.completed', clientAddress, userAgent, method: 'GET', path, status: 200, bytes: 1000, durationMs: 1 } satisfies KeywardEvent);
        }
      });
    };
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let k = 0; k < KEYS; k++) fill(k);
    gc();
    gc();
    const perKey = (process.memoryUsage().heapUsed - before) / KEYS;
    // every slot of a key is full: each window spans its whole length, top lists at capacity, counts past exact
    const w = m.forKey('key_7')!.windows;
    for (const window of windows) {
      const l = WINDOW_LAYOUT[window];
      const inWindow = times.filter((t) => Math.floor(t / l.counterSlotMs) > Math.floor(end / l.counterSlotMs) - l.counterSlots);
      expect(w[window].requests).toBe(inWindow.reduce((n, t) => n + perTime(t), 0));
      expect(Object.keys(w[window].refusals)).toHaveLength(REASONS.length);
      expect(w[window].latency.buckets.every((b) => b.count > 0)).toBe(true);
      for (const d of [w[window].addresses, w[window].userAgents, w[window].endpoints]) {
        expect(d.top).toHaveLength(config.topCapacity);
        expect(d.distinct).toBeGreaterThan(4 * DISTINCT * 0.8); // ≥ 4 sketch slots of DISTINCT values, HyperLogLog ±
      }
    }
    expect(w.minute.endpoints.top[0]!.value).toHaveLength(128);
    expect(m.stats()).toMatchObject({ keysTracked: KEYS, keysEvicted: 0 });
    // 126–138 KB measured on Node 20: the README's "about 130 KB for a key that fills every slot" (≈ 130 MB at 1000 keys)
    expect(perKey).toBeLessThan(160 * 1024);
  }, 60_000);

  it('validates its options', () => {
    expect(() => createKeyward({ metrics: { maxKeys: 0 } })).toThrow('keyward: option "metrics.maxKeys" must be an integer from 1 to 1000000');
    expect(() => createKeyward({ metrics: { topCapacity: 1.5 } })).toThrow(/metrics\.topCapacity/);
  });
});

describe('sketches', () => {
  it('distinct counts are exact when small and close when large', () => {
    const small = new DistinctCounter();
    for (let i = 0; i < 30; i++) small.add(hash53(`10.0.0.${i % 20}`));
    expect(small.count()).toBe(20);
    const big = new DistinctCounter();
    for (let i = 0; i < 20_000; i++) big.add(hash53(`addr-${i}`));
    expect(Math.abs(big.count() - 20_000) / 20_000).toBeLessThan(0.2);
    const other = new DistinctCounter();
    for (let i = 10_000; i < 30_000; i++) other.add(hash53(`addr-${i}`));
    expect(Math.abs(DistinctCounter.union([big, other]) - 30_000) / 30_000).toBeLessThan(0.2);
  });

  it('space-saving keeps the heavy hitters in bounded space', () => {
    const s = new SpaceSaving(5);
    for (let i = 0; i < 10_000; i++) s.add(i % 10 < 3 ? 'heavy' : `light-${i}`);
    expect([...s.entries()]).toHaveLength(5);
    expect(SpaceSaving.merge([s], 1)[0]!.value).toBe('heavy');
  });
});
