import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { manualClock } from '../util/clock';
import { memoryLimiterStore, redisLimiterStore, storeFromOption, isLimiterStore, syncCountersOf } from './store';
import { guardStore, LocalTotal, SKIP, UNAVAILABLE } from './guarded-store';

describe('memoryLimiterStore', () => {
  it('adds, refunds and expires by the injected clock', async () => {
    const clock = manualClock(1_000_000);
    const s = memoryLimiterStore({ clock });
    expect(await s.increment('a', 2, 1000)).toBe(2);
    expect(await s.increment('a', 3, 1000)).toBe(5);
    expect(await s.increment('a', -1, 1000)).toBe(4);
    expect(await s.get('a')).toBe(4);
    clock.advance(999);
    expect(await s.get('a')).toBe(4);
    clock.advance(1);
    expect(await s.get('a')).toBe(0);
    expect(await s.increment('a', 1, 1000)).toBe(1);
  });

  it('stays bounded: never more than maxEntries; counters in use survive, idle ones are evicted', async () => {
    const s = memoryLimiterStore({ maxEntries: 1000, clock: manualClock(0) });
    await s.increment('keep', 1, 60_000);
    let largest = 0;
    for (let i = 0; i < 20_000; i++) {
      await s.increment(`addr-${i}`, 1, 60_000);
      if (i % 100 === 0) await s.increment('keep', 1, 60_000);
      largest = Math.max(largest, s.size);
    }
    expect(largest).toBeLessThanOrEqual(1000);
    expect(s.size).toBeGreaterThanOrEqual(500);
    expect(await s.get('keep')).toBe(201);
    expect(await s.get('addr-0')).toBe(0);
    expect(await s.get('addr-19999')).toBe(1);
  });

  it('exposes its counters synchronously to keyward, sharing them with the promise methods', async () => {
    const s = memoryLimiterStore({ clock: manualClock(0) });
    const sync = syncCountersOf(s)!;
    expect(sync.increment('a', 2, 1000)).toBe(2);
    expect(await s.increment('a', 1, 1000)).toBe(3);
    expect(sync.get('a')).toBe(3);
    expect(sync.get('absent')).toBe(0);
    expect(s.increment('a', 0, 1000)).toBeInstanceOf(Promise); // the public contract is unchanged
    expect(syncCountersOf({ increment: async () => 1, get: async () => 1 })).toBeUndefined();
  });

  it('rejects a bad bound, and an unknown field', () => {
    expect(() => memoryLimiterStore({ maxEntries: 0 })).toThrow('keyward: option "maxEntries" must be a positive integer');
    expect(() => memoryLimiterStore({ maxEntry: 10 } as never)).toThrow('keyward: memoryLimiterStore() has an unknown field "maxEntry" (did you mean "maxEntries"? known: maxEntries, clock)');
  });
});

describe('storeFromOption', () => {
  it('accepts a store, builds a memory store, refuses anything else naming the option', () => {
    const mem = memoryLimiterStore();
    expect(storeFromOption(mem, 'limits.store', () => memoryLimiterStore())).toBe(mem);
    expect(isLimiterStore(storeFromOption(undefined, 'limits.store', () => memoryLimiterStore()))).toBe(true);
    expect(() => storeFromOption({}, 'limits.store', () => mem)).toThrow('keyward: option "limits.store" must be a LimiterStore or { redis: ioredisClient }');
    expect(() => storeFromOption({ redis: {} }, 'limits.store', () => mem)).toThrow('keyward: option "limits.store.redis" must be an ioredis client');
    expect(() => storeFromOption({ redis: {}, prefx: 'rl' }, 'limits.store', () => mem)).toThrow('keyward: option "limits.store" has an unknown field "prefx" (did you mean "prefix"? known: redis, prefix)');
  });
});

describe('redisLimiterStore (real Redis)', () => {
  const prefix = `keyward-test:limits-store:${randomUUID()}`;
  let client: Redis;
  beforeAll(async () => {
    client = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
    await client.ping();
  });
  afterAll(async () => {
    const keys = await client.keys(`${prefix}:*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  });

  it('counts atomically with a TTL, refunds, and reads', async () => {
    const s = redisLimiterStore({ client, prefix });
    const totals = await Promise.all(Array.from({ length: 50 }, () => s.increment('k1', 1, 10_000)));
    expect([...totals].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await s.increment('k1', -5, 10_000)).toBe(45);
    expect(await s.get('k1')).toBe(45);
    expect(await s.get('absent')).toBe(0);
    const ttl = await client.pttl(`${prefix}:k1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10_000);
  });

  it('refuses an unknown field before touching the client', () => {
    expect(() => redisLimiterStore({ client, prefx: prefix } as never)).toThrow('keyward: redisLimiterStore() has an unknown field "prefx" (did you mean "prefix"? known: client, prefix)');
  });

  it('refuses at once while the client is not ready (no offline queueing)', async () => {
    const offline = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, enableOfflineQueue: true });
    const s = redisLimiterStore({ client: offline, prefix });
    await expect(s.increment('k2', 1, 1000)).rejects.toThrow('Redis connection is not ready');
    offline.disconnect();
  });
});

describe('guardStore', () => {
  const failing = { increment: () => Promise.reject(new Error('down')), get: () => Promise.reject(new Error('down')) };
  const throwing = { increment: () => { throw new Error('sync'); }, get: () => { throw new Error('sync'); } };
  const hanging = { increment: () => new Promise<number>(() => {}), get: () => new Promise<number>(() => {}) };

  it.each([['rejects', failing], ['throws', throwing], ['hangs', hanging]] as const)('applies the policy when the store %s', async (_n, store) => {
    const reasons: string[] = [];
    const local = memoryLimiterStore();
    const mk = (policy: 'deny' | 'allow' | 'local') => guardStore({ store: store as never, policy, timeoutMs: 20, local, onFailure: (r) => reasons.push(r) });
    expect(await mk('deny').increment('k', 1, 1000)).toBe(UNAVAILABLE);
    expect(await mk('allow').increment('k', 1, 1000)).toBe(SKIP);
    // The fallback's totals are marked as its own, so a refund goes back to it, not to the store.
    expect(await mk('local').increment('k', 1, 1000)).toEqual(new LocalTotal(1));
    expect(await mk('local').get('k')).toEqual(new LocalTotal(1));
    await mk('local').refund('k', -1, 1000, true);
    expect(await local.get('k')).toBe(0);
    expect(reasons[0]).toBe(store === hanging ? 'STORE_TIMEOUT' : 'STORE_ERROR');
  });

  it('a refund to the store that fails is dropped, never counted against the fallback', async () => {
    const local = memoryLimiterStore();
    await local.increment('k', 2, 1000);
    const g = guardStore({ store: failing as never, policy: 'local', timeoutMs: 20, local, onFailure: () => {} });
    await g.refund('k', -1, 1000, false);
    expect(await local.get('k')).toBe(2);
  });

  it('passes answers through', async () => {
    const store = memoryLimiterStore();
    const g = guardStore({ store, policy: 'deny', timeoutMs: 1000, local: store, onFailure: () => {} });
    expect(await g.increment('x', 3, 1000)).toBe(3);
  });
});
