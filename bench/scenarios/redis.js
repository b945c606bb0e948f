'use strict';
/**
 * Issue 7: the API-key pipeline on Redis (keys in Redis behind the look-up cache, invalidation over pub/sub, a rate
 * limit counted in Redis on every request) against bare Express 5, in the same run. Needs Redis at REDIS_URL
 * (default redis://127.0.0.1:6379). The floor is bare Express plus the Redis increment any Redis-backed limit makes;
 * the last subject reads the key from Redis on every request (no cache), a reference without a goal: the goal is the
 * pipeline as it runs by default, with the look-up cache.
 */
module.exports = {
  name: 'express-redis',
  goal: 0.75,
  baseline: { name: 'bare express', script: 'servers/express-bare.js' },
  subjects: [
    { name: 'floor: one Redis counter increment per request, no auth', script: 'servers/express-redis-floor.js', goal: undefined },
    { name: 'keyward express on Redis (cached key, Redis rate limit)', script: 'servers/express-redis.js' },
    // A reference, like the floor: the goal is the pipeline as configured by default (the look-up cache on).
    { name: 'keyward express on Redis (no cache: key read + rate limit in Redis per request)', script: 'servers/express-redis.js', env: { KW_BENCH_CACHE: 'off' }, goal: undefined },
  ],
};
