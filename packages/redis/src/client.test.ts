import Redis from 'ioredis';
import { boundedRedisOptions, whenReady } from './client';

describe('boundedRedisOptions', () => {
  it('turns the offline queue off, bounds commands and reconnects, and auto-pipelines', () => {
    const o = boundedRedisOptions();
    expect(o).toMatchObject({ enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 500, connectTimeout: 1000, enableAutoPipelining: true });
    expect([1, 2, 10].map((n) => o.retryStrategy!(n))).toEqual([50, 100, 200]);
  });

  it('takes its overrides', () => {
    const o = boundedRedisOptions({ commandTimeoutMs: 2000, reconnectMaxDelayMs: 1000, autoPipelining: false });
    expect(o).toMatchObject({ commandTimeout: 2000, connectTimeout: 2000, enableAutoPipelining: false });
    expect(o.retryStrategy!(100)).toBe(1000);
  });

  it.each([
    [{ commandTimeoutMs: 0 }, 'commandTimeoutMs'],
    [{ commandTimeoutMs: 1.5 }, 'commandTimeoutMs'],
    [{ reconnectMaxDelayMs: -1 }, 'reconnectMaxDelayMs'],
    [{ autoPipelining: 'yes' as unknown as boolean }, 'autoPipelining'],
  ])('refuses %p, naming the option', (overrides, option) => {
    expect(() => boundedRedisOptions(overrides)).toThrow(new RegExp(`"${option}"`));
  });

  it('refuses a field it does not know, naming it, instead of leaving the default in force', () => {
    expect(() => boundedRedisOptions({ commandTimeout: 100 } as never)).toThrow('keyward: boundedRedisOptions() has an unknown field "commandTimeout" (did you mean "commandTimeoutMs"?');
    expect(() => boundedRedisOptions(null as never)).toThrow(TypeError);
  });

  it('batches the commands of one event-loop turn into one pipeline on a real Redis', async () => {
    const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { ...boundedRedisOptions(), lazyConnect: true });
    client.on('error', () => {});
    await client.connect();
    try {
      const key = `kw:test:autopipeline:${process.pid}`;
      const replies = Promise.all(Array.from({ length: 20 }, () => client.incr(key)));
      expect(client.autoPipelineQueueSize).toBe(20); // queued, sent together at the next turn
      expect((await replies).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      await client.del(key);
    } finally {
      client.disconnect();
    }
  });
});

describe('whenReady', () => {
  const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

  it('connects a lazyConnect client instead of waiting out the timeout for a connection nobody makes', async () => {
    const client = new Redis(URL, { ...boundedRedisOptions(), lazyConnect: true });
    client.on('error', () => {});
    try {
      const started = Date.now();
      await whenReady(client, 2000);
      expect(client.status).toBe('ready');
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      client.disconnect();
    }
  });

  it('refuses a timeout that is not a number of milliseconds, naming it, before waiting', () => {
    const client = new Redis(URL, { ...boundedRedisOptions(), lazyConnect: true });
    for (const bad of ['5s', Number.NaN, 0, -1]) expect(() => whenReady(client, bad as number)).toThrow('keyward: whenReady() "timeoutMs" must be a number of milliseconds, at least 1');
    expect(client.status).toBe('wait'); // not connected by a call that was refused
  });

  it('refuses a closed client at once, with a code; times out with one on a Redis that is not there', async () => {
    const client = new Redis(URL, { ...boundedRedisOptions(), lazyConnect: true });
    client.on('error', () => {});
    await client.connect();
    const ended = new Promise((r) => client.once('end', r));
    client.disconnect();
    await ended;
    const started = Date.now();
    await expect(whenReady(client, 2000)).rejects.toMatchObject({ name: 'KeywardError', code: 'STORE_FAILURE', message: expect.stringContaining('the Redis client is closed') });
    expect(Date.now() - started).toBeLessThan(1000); // at once, not after the 2 s it was given (a busy machine takes a few ms)
    const nowhere = new Redis('redis://127.0.0.1:1', { ...boundedRedisOptions(), lazyConnect: true });
    nowhere.on('error', () => {});
    try {
      await expect(whenReady(nowhere, 200)).rejects.toMatchObject({ code: 'STORE_FAILURE', message: 'keyward: Redis was not ready within 200 ms' });
    } finally {
      nowhere.disconnect();
    }
  });
});
