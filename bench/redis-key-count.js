'use strict';
/**
 * Issue 7: throughput with 1,000 vs 1,000,000 keys in Redis (goal ratio ≥ 0.95). Seeds two key stores in Redis with
 * pipelined writes (through RedisKeyStore.create, so the layout is the real one), then benchmarks the same Express
 * server against each, alternating rounds, with the look-up cache off so every request reads its key from Redis.
 * Deletes both stores at the end. Prints the table; asserts nothing.
 *
 *   node bench/redis-key-count.js [--small 1000] [--large 1000000] [--duration 8] [--rounds 3] [--connections 50]
 */
const { createHash } = require('node:crypto');
const Redis = require('ioredis');
const { createKeyward } = require('@keyward/core');
const { RedisKeyStore, boundedRedisOptions, whenReady } = require('@keyward/redis');
const { runScenario } = require('./lib/runner');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};

async function seed(client, prefix, count) {
  const store = new RedisKeyStore({ client, prefix });
  const kw = createKeyward({ store });
  const { key } = await kw.keys.create({ owner: 'bench', scopes: ['docs:read'] });
  const now = Date.now();
  const started = Date.now();
  const batch = 2000;
  for (let i = 1; i < count; i += batch) {
    const writes = [];
    for (let j = i; j < Math.min(count, i + batch); j++) {
      const hash = createHash('sha256').update(`${prefix}:${j}`).digest('hex');
      writes.push(store.create({
        id: `key_${String(j).padStart(16, '0')}`, hash, hashVersion: 'sha256-v1', hint: 'kw_live_…seed', prefix: 'kw', env: 'live',
        owner: `owner_${j % 10_000}`, scopes: ['docs:read'], status: 'active', createdAt: now, updatedAt: now, metadata: {},
      }));
    }
    await Promise.all(writes);
  }
  await kw.close();
  process.stderr.write(`seeded ${count} keys under {${prefix}} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return key;
}

async function drop(client, prefix) {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}}*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length) await client.unlink(...keys);
  } while (cursor !== '0');
}

(async () => {
  const small = arg('small', 1000);
  const large = arg('large', 1_000_000);
  const client = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { ...boundedRedisOptions({ commandTimeoutMs: 10_000 }), enableOfflineQueue: true });
  await whenReady(client);
  const a = `kwbench_small_${process.pid}`;
  const b = `kwbench_large_${process.pid}`;
  try {
    const keyA = await seed(client, a, small);
    const keyB = await seed(client, b, large);
    const rows = await runScenario({
      name: 'redis-key-count',
      goal: 0.95,
      baseline: { name: `${small} keys in Redis`, script: 'servers/express-redis.js', env: { KW_BENCH_PREFIX: a, KW_BENCH_KEY: keyA, KW_BENCH_CACHE: 'off', KW_BENCH_LIMITS: 'off' } },
      subjects: [{ name: `${large} keys in Redis`, script: 'servers/express-redis.js', env: { KW_BENCH_PREFIX: b, KW_BENCH_KEY: keyB, KW_BENCH_CACHE: 'off', KW_BENCH_LIMITS: 'off' } }],
    }, { duration: arg('duration', 8), rounds: arg('rounds', 3), connections: arg('connections', 50) });
    console.log('| target | req/s | p50 ms | p99 ms | non-2xx | ratio | goal |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.target} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.ratio} | ${r.goal ?? ''} |`);
  } finally {
    await drop(client, a);
    await drop(client, b);
    client.disconnect();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
