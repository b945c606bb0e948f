import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { createKeyward, manualClock, MemoryKeyStore, type Keyward } from '@keyward/core';
import { createRedisMetrics, type RedisMetrics } from './index';

const PREFIX = `kwtest:monitoring:${process.pid}:${Date.now()}:`;
const T0 = Date.parse('2026-03-01T10:00:00Z');

describe('Redis metrics aggregation (real Redis)', () => {
  let redis: Redis;
  const clock = manualClock(T0);
  const store = new MemoryKeyStore();
  let a: Keyward, b: Keyward;
  let ma: RedisMetrics, mb: RedisMetrics;

  beforeAll(async () => {
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    // two instances sharing one key store and one Redis prefix
    a = createKeyward({ clock, store, metrics: true });
    b = createKeyward({ clock, store });
    ma = createRedisMetrics({ client: redis, prefix: PREFIX, keyward: a, clock, flushInterval: '1h' });
    mb = createRedisMetrics({ client: redis, prefix: PREFIX, keyward: b, clock, flushInterval: '1h' });
  });
  afterAll(async () => {
    await ma.close();
    await mb.close();
    await a.close();
    await b.close();
    const keys = await redis.keys(`${PREFIX}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  async function call(kw: Keyward, key: string, ip: string, status = 200, bytes = 100) {
    const d = await kw.check({ method: 'GET', path: '/docs', headers: { 'x-api-key': key, 'user-agent': 'sdk/1' }, remoteAddress: ip });
    if (d.ok) d.done({ status, bytes });
  }

  it('adds up what several instances saw, in the same shape as the in-memory metrics', async () => {
    const { key, record } = await a.keys.create({ owner: 'acme', plan: 'pro' });
    const other = await a.keys.create({ owner: 'beta' });
    await call(a, key, '10.0.0.1');
    await call(a, key, '10.0.0.1', 500, 10);
    await call(b, key, '10.0.0.2');
    await call(b, key, '10.0.0.3', 404, 0);
    await call(b, other.key, '10.0.0.9');
    await a.flushEvents();
    await b.flushEvents();
    await Promise.all([ma.flush(), mb.flush()]);
    const m = (await ma.forKey(record.id))!;
    expect(m).toMatchObject({ keyId: record.id, owner: 'acme', plan: 'pro', firstSeen: new Date(T0).toISOString() });
    const h = m.windows.hour;
    expect({ requests: h.requests, completed: h.completed, status: h.status, errors: h.errors, auth: h.auth, bytes: h.bytes, addresses: h.addresses, userAgents: h.userAgents, endpoints: h.endpoints }).toEqual({
      requests: 4,
      completed: 4,
      status: { '1xx': 0, '2xx': 2, '3xx': 0, '4xx': 1, '5xx': 1 },
      errors: { '4xx': 1, '5xx': 1, rate: 0.5 },
      auth: { succeeded: 4, failed: 0 },
      bytes: 210,
      addresses: { distinct: 3, top: [{ value: '10.0.0.1', count: 2 }, { value: '10.0.0.2', count: 1 }, { value: '10.0.0.3', count: 1 }] },
      userAgents: { distinct: 1, top: [{ value: 'sdk/1', count: 4 }] },
      endpoints: { distinct: 1, top: [{ value: 'GET /docs', count: 4 }] },
    });
    expect(h.latency.count).toBe(4);
    // one instance alone saw half of it
    const local = a.metrics!.forKey(record.id)!.windows.hour;
    expect(local.requests).toBe(2);
    expect(local.latency.buckets.map((x) => x.le)).toEqual(h.latency.buckets.map((x) => x.le));
    expect(await mb.top({ by: 'requests', window: 'hour' })).toEqual([{ keyId: record.id, owner: 'acme', value: 4 }, { keyId: other.record.id, owner: 'beta', value: 1 }]);
    expect(await mb.top({ by: 'errors', window: 'minute' })).toEqual([{ keyId: record.id, owner: 'acme', value: 2 }]);
    expect(await ma.forKey('key_unknown')).toBeUndefined();
  });

  it('adds a whole response-time sum to one holding a fraction (HINCRBY would fail on it and lose the flush\'s sum)', async () => {
    const errors: unknown[] = [];
    const m = createRedisMetrics({ client: redis, prefix: `${PREFIX}lat:`, clock, flushInterval: '1h', onError: (e) => errors.push(e) });
    const completed = (durationMs: number) => m.record({ schema: 'keyward.event/v1', type: 'request.completed', time: new Date(clock()).toISOString(), keyId: 'key_lat', status: 200, bytes: 1, durationMs });
    completed(1.5);
    await m.flush();
    completed(0.5);
    completed(1.5); // this flush adds 2: a whole number
    await m.close();
    expect(errors).toEqual([]);
    expect((await m.forKey('key_lat'))!.windows.minute.latency).toMatchObject({ count: 3, sumMs: 3.5 });
  });

  it('finds a steady heavy hitter whose one request a flush ties with one-off values in a full top-N set (space-saving, as in memory)', async () => {
    const errors: unknown[] = [];
    const make = (name: string) => createRedisMetrics({ client: redis, prefix: `${PREFIX}top${name}:`, clock, flushInterval: '1h', topCapacity: 5, maxRankedKeys: 5, onError: (e) => errors.push(e) });
    const completed = (m: RedisMetrics, keyId: string, clientAddress: string) => m.record({ schema: 'keyward.event/v1', type: 'request.completed', time: new Date(clock()).toISOString(), keyId, clientAddress, status: 200, bytes: 1 });
    // A full set of once-only values, then 20 flushes of one steady value and two new once-only ones: the steady value
    // is 20 of 65 (more than 1 in topCapacity), so it must be found; added at 1 and trimmed with its equals, it never was.
    const ranking = make('k');
    const addresses = make('a');
    for (let i = 0; i < 5; i++) completed(ranking, `key_z_first_${i}`, '192.0.2.1');
    for (let i = 0; i < 5; i++) completed(addresses, 'key_b', `198.51.100.${i}`);
    await Promise.all([ranking.flush(), addresses.flush()]);
    for (let flush = 0; flush < 20; flush++) {
      completed(ranking, 'key_a_steady', '192.0.2.1');
      completed(addresses, 'key_b', '10.0.0.1');
      for (let i = 0; i < 2; i++) {
        completed(ranking, `key_z_${flush}_${i}`, '192.0.2.1');
        completed(addresses, 'key_b', `203.0.113.${flush * 2 + i}`);
      }
      await Promise.all([ranking.flush(), addresses.flush()]);
    }
    await Promise.all([ranking.close(), addresses.close()]);
    expect(errors).toEqual([]);
    const top = (await addresses.forKey('key_b'))!.windows.hour.addresses.top;
    expect(top[0]).toEqual({ value: '10.0.0.1', count: expect.any(Number) });
    expect(top[0]!.count).toBeGreaterThanOrEqual(20); // space-saving over-estimates, never under
    const ranked = await ranking.top({ by: 'requests', window: 'hour', limit: 1 });
    expect(ranked).toEqual([{ keyId: 'key_a_steady', value: expect.any(Number) }]);
    expect(ranked[0]!.value).toBeGreaterThanOrEqual(20);
    // bounded: the sets never hold more than their capacity
    expect(await redis.zcard(`${PREFIX}topa:a:hour:${Math.floor(clock() / 900_000)}:key_b`)).toBe(5);
    expect(await redis.zcard(`${PREFIX}topk:k:hour:${Math.floor(clock() / 300_000)}:requests`)).toBe(5);
  });

  it('a Redis that does not know the space-saving script yet (new, restarted) gets it, and its sets still expire', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-metrics-'));
    const path = join(dir, 'redis.sock');
    const server = spawn('redis-server', ['--port', '0', '--unixsocket', path, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    const fresh = new Redis({ path, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 20 });
    fresh.on('error', () => {});
    try {
      const end = Date.now() + 5000;
      const ready = () => fresh.status === 'ready';
      while (!ready() && Date.now() < end) {
        await fresh.connect().catch(() => {}); // the server may still be starting
        if (!ready()) await new Promise((r) => setTimeout(r, 50));
      }
      const errors: unknown[] = [];
      const m = createRedisMetrics({ client: fresh, prefix: 'm:', clock, flushInterval: '1h', onError: (e) => errors.push(e) });
      m.record({ schema: 'keyward.event/v1', type: 'request.completed', time: new Date(clock()).toISOString(), keyId: 'key_fresh', clientAddress: '10.0.0.1', status: 200, bytes: 1 });
      await m.close();
      expect(errors).toEqual([]);
      expect((await m.forKey('key_fresh'))!.windows.hour.addresses.top).toEqual([{ value: '10.0.0.1', count: 1 }]);
      const sets = [...(await fresh.keys('m:a:*')), ...(await fresh.keys('m:k:*'))];
      expect(sets.length).toBeGreaterThan(0);
      for (const key of sets) expect(await fresh.pttl(key)).toBeGreaterThan(0);
    } finally {
      fresh.disconnect();
      server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps one write in flight while Redis does not answer: later observations are bounded, dropped and reported', async () => {
    const down = new Redis({ port: 1, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    down.on('error', () => {});
    const errors: string[] = [];
    const m = createRedisMetrics({ client: down, prefix: `${PREFIX}down:`, clock, flushInterval: '1h', maxBuffer: 100, onError: (e) => errors.push((e as Error).message) });
    const completed = (i: number) => m.record({ schema: 'keyward.event/v1', type: 'request.completed', time: new Date(clock()).toISOString(), keyId: 'key_down', status: 200, bytes: 1, durationMs: 1, clientAddress: `10.0.${i >> 8}.${i & 255}` });
    for (let i = 0; i < 10_000; i++) completed(i);
    // one pipeline (100 observations) queued in the client, not one per 100 observations
    const queued = (down as unknown as { offlineQueue: { length: number } }).offlineQueue.length;
    expect(queued).toBeLessThan(2_000);
    await m.close();
    expect(errors).toContain('9800 observations dropped: the buffer was full while a write to Redis was pending'); // 100 written, 100 buffered behind them
    down.disconnect();
  });

  it('an onError that throws cannot make a write reject (from the timer, an unhandled rejection ends the process)', async () => {
    const down = new Redis({ port: 1, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    down.on('error', () => {});
    let told = 0;
    const m = createRedisMetrics({ client: down, prefix: `${PREFIX}throws:`, clock, flushInterval: '1h', onError: () => { told++; throw new Error('the logger is down too'); } });
    m.record({ schema: 'keyward.event/v1', type: 'request.completed', time: new Date(clock()).toISOString(), keyId: 'key_t', status: 200, bytes: 1, durationMs: 1 });
    await expect(m.flush()).resolves.toBeUndefined();
    expect(told).toBe(1);
    await m.close();
    down.disconnect();
    expect(() => createRedisMetrics({ client: down, onError: 'log' as never })).toThrow('keyward: option "onError" must be a function');
  });

  it('rolls windows with the clock and lets every key expire', async () => {
    const { key, record } = await a.keys.create({ owner: 'gamma' });
    await call(a, key, '10.0.0.1');
    await a.flushEvents();
    await ma.flush();
    clock.advance(2 * 3_600_000);
    const m = (await ma.forKey(record.id))!;
    expect([m.windows.minute.requests, m.windows.hour.requests, m.windows.day.requests]).toEqual([0, 0, 1]);
    const keys = await redis.keys(`${PREFIX}*`);
    const ttls = await Promise.all(keys.map((k) => redis.pttl(k)));
    expect(ttls.every((t) => t > 0)).toBe(true);
  });
});
