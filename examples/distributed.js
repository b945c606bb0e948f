'use strict';
/**
 * Shared by the examples: keyward options for running on many instances, from the environment.
 * - REDIS_URL set: keys in Redis (RedisKeyStore), cache invalidation over Redis pub/sub, audit events to the
 *   `keyward:audit` stream.
 * - DATABASE_URL set: keys in PostgreSQL (PostgresKeyStore, migrated at start); with REDIS_URL too, Redis still
 *   carries invalidation and the audit stream.
 * - KEYWARD_ENCRYPTION_KEYS(_FILE) set: encryption at rest of key metadata in either store.
 * Neither set: `{}` (the in-memory store).
 */

/** @returns {Promise<{ options: object, attach(kw: object): void, close(): Promise<void>, describe: string }>} */
async function distributedOptions(env = process.env) {
  const options = {};
  const closers = [];
  let attach = () => {};
  const parts = [];
  const { encryptionFromEnv } = require('@keyward/core');
  const encryption = encryptionFromEnv(env);
  if (env.REDIS_URL) {
    const Redis = require('ioredis');
    const { RedisKeyStore, RedisInvalidationChannel, attachAuditStream, boundedRedisOptions, whenReady } = require('@keyward/redis');
    const client = new Redis(env.REDIS_URL, boundedRedisOptions());
    client.on('error', (e) => console.error(`keyward example: Redis: ${e.message}`));
    await whenReady(client);
    options.store = new RedisKeyStore({ client, ...(encryption ? { encryption } : {}) });
    options.invalidation = new RedisInvalidationChannel({ client });
    let audit;
    attach = (kw) => { audit = attachAuditStream(kw, { client, stream: 'keyward:audit', maxLen: 100_000 }); };
    closers.push(async () => { if (audit) await audit.close(); client.disconnect(); });
    parts.push('Redis');
  }
  if (env.DATABASE_URL) {
    const { Pool } = require('pg');
    const { PostgresKeyStore, migrate } = require('@keyward/postgres');
    const pool = new Pool({ connectionString: env.DATABASE_URL });
    pool.on('error', (error) => console.error(`pg pool: ${error.message}`)); // a PostgreSQL restart must not end the process
    await migrate(pool);
    options.store = new PostgresKeyStore({ pool, ...(encryption ? { encryption } : {}) });
    closers.push(() => pool.end());
    parts.push('PostgreSQL');
  }
  return {
    options,
    attach: (kw) => attach(kw),
    describe: parts.length ? `keys in ${options.store.constructor.name === 'PostgresKeyStore' ? 'PostgreSQL' : 'Redis'}${env.REDIS_URL ? ', invalidation and audit on Redis' : ''}` : 'in-memory store',
    async close() {
      for (const c of closers.reverse()) await c();
    },
  };
}

module.exports = { distributedOptions };
