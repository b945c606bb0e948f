'use strict';
/**
 * One app instance for the multi-process test and the revocation-delay bench: Express + keyward with keys in Redis,
 * cache invalidation over Redis pub/sub, and rate limits counted in Redis. Driven by its parent over IPC:
 *   → { cmd: 'create', owner, scopes }   ← { id, key }
 *   → { cmd: 'revoke', id }              ← { startedAt, revokedAt }   (ms: when revoke() was called and returned)
 *   → { cmd: 'close' }                   ← exits
 * Environment: REDIS_URL, KW_PREFIX, KW_CHANNEL, KW_RL_PREFIX, KW_LIMIT (points per day, by key).
 */
require('./ts-register');
const http = require('node:http');
const express = require('express');
const Redis = require('ioredis');
const { createKeyward } = require('@keyward/core');
const { apiKeyAuth } = require('@keyward/express');
const { RedisKeyStore, RedisInvalidationChannel, boundedRedisOptions, whenReady } = require('@keyward/redis');

async function main() {
  const client = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', boundedRedisOptions());
  client.on('error', () => {});
  await whenReady(client);
  const kw = createKeyward({
    store: new RedisKeyStore({ client, prefix: process.env.KW_PREFIX }),
    invalidation: new RedisInvalidationChannel({ client, channel: process.env.KW_CHANNEL }),
    cache: { ttl: '1h' },
    trackLastUsed: false,
    limits: { rules: { daily: { points: Number(process.env.KW_LIMIT || 1_000_000), window: '1d' } }, store: { redis: client, prefix: process.env.KW_RL_PREFIX }, storeFailure: 'deny' },
  });
  const app = express();
  app.get('/docs', apiKeyAuth({ keyward: kw, scopes: ['docs:read'] }), (req, res) => res.json({ id: req.auth.id }));
  const server = http.createServer(app);
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send({ ready: true, port: server.address().port }));

  process.on('message', async (msg) => {
    try {
      if (msg.cmd === 'create') {
        const { key, record } = await kw.keys.create({ owner: msg.owner || 'acme', scopes: msg.scopes || ['docs:read'] });
        process.send({ reply: msg.seq, id: record.id, key });
      } else if (msg.cmd === 'revoke') {
        const startedAt = Date.now();
        await kw.keys.revoke(msg.id);
        process.send({ reply: msg.seq, startedAt, revokedAt: Date.now() });
      } else if (msg.cmd === 'close') {
        server.closeAllConnections();
        server.close();
        await kw.close();
        client.disconnect();
        process.exit(0);
      }
    } catch (e) {
      process.send({ reply: msg.seq, error: e && e.message });
    }
  });
}

main().catch((e) => {
  process.send?.({ fatal: e && e.message });
  process.exit(1);
});
