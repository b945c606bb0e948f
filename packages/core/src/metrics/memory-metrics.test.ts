import { createKeyward, manualClock, type Keyward } from '../index';
import { DistinctCounter } from './distinct';
import { hash53 } from './hash';
import { SpaceSaving } from './top';
import { MemoryMetrics } from './memory-metrics';

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
  });

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
