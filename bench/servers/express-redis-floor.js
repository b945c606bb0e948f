'use strict';
/**
 * The floor for the Redis scenario: bare Express (the example's routes) plus the one thing a Redis-backed rate limit
 * cannot avoid, one counter increment in Redis per request, made the way keyward makes it (rate-limiter-flexible's
 * RateLimiterRedis through ioredis, the same client options). No authentication. Environment: REDIS_URL.
 */
const express = require('express');
const Redis = require('ioredis');
const { RateLimiterRedis } = require('rate-limiter-flexible');
const { boundedRedisOptions, whenReady } = require('@keyward/redis');
const { serve } = require('../lib/serve');
const { STAND_IN_CALLER } = require('../lib/caller');

(async () => {
  const client = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', boundedRedisOptions());
  client.on('error', () => {});
  await whenReady(client);
  const prefix = `kwbench_floor_${process.pid}`;
  const limiter = new RateLimiterRedis({ storeClient: client, keyPrefix: prefix, points: 1, duration: 60, rejectIfRedisNotReady: true });
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => res.json({ ok: true }));
  app.use((_req, _res, next) => { limiter.penalty('bench', 1, { customDuration: 60 }).then(() => next(), next); });
  app.get('/v1/docs', (_req, res) => res.json({ docs: [{ id: 1, title: 'Hello' }], caller: STAND_IN_CALLER }));
  app.post('/v1/docs', (_req, res) => res.status(201).json({ created: true }));
  app.get('/v1/users', (_req, res) => res.json({ users: [] }));
  const server = serve(app, { path: '/v1/docs' });
  process.removeAllListeners('SIGTERM');
  process.on('SIGTERM', () => server.close(async () => {
    await client.del(`${prefix}:bench`).catch(() => {});
    client.disconnect();
    process.exit(0);
  }));
})();
