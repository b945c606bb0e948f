'use strict';
/**
 * The example pipeline on Redis (issue 7): keys in a RedisKeyStore, cache invalidation over pub/sub, and a rate limit
 * counted in Redis (rate-limiter-flexible), with the bounded ioredis options.
 * Environment: REDIS_URL; KW_BENCH_PREFIX (key-store prefix; default a fresh one, deleted at exit);
 * KW_BENCH_KEY (a key already in that store; default: one is created); KW_BENCH_CACHE=off (every request reads Redis);
 * KW_BENCH_LIMITS=off (no rate limit).
 */
const Redis = require('ioredis');
const { createApp } = require('../../examples/express/app');
const { RedisKeyStore, RedisInvalidationChannel, boundedRedisOptions, whenReady } = require('@keyward/redis');
const { serve } = require('../lib/serve');

(async () => {
  const client = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', boundedRedisOptions());
  client.on('error', () => {});
  await whenReady(client);
  const prefix = process.env.KW_BENCH_PREFIX || `kwbench_${process.pid}`;
  const options = {
    publicPaths: ['/health'],
    store: new RedisKeyStore({ client, prefix }),
    invalidation: new RedisInvalidationChannel({ client, channel: `${prefix}:invalidate` }),
    trackLastUsed: false,
    ...(process.env.KW_BENCH_CACHE === 'off' ? { cache: false } : {}),
    ...(process.env.KW_BENCH_LIMITS === 'off' ? {} : { limits: { rules: { burst: { points: 1e9, window: '1m' } }, store: { redis: client, prefix: `${prefix}:rl` }, storeFailure: 'deny' } }),
  };
  const { app, keyward } = createApp({ options });
  const key = process.env.KW_BENCH_KEY || (await keyward.keys.create({ owner: 'bench', scopes: ['docs:read'] })).key;
  const server = serve(app, { path: '/v1/docs', headers: { 'x-api-key': key } });
  process.removeAllListeners('SIGTERM');
  process.on('SIGTERM', () => server.close(async () => {
    await keyward.close();
    if (!process.env.KW_BENCH_PREFIX) {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await client.unlink(...keys);
      } while (cursor !== '0');
    }
    client.disconnect();
    process.exit(0);
  }));
})();
