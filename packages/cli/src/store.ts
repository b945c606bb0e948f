import type { InvalidationChannel, KeyStore } from '@keyward/core';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { CliError } from './io';

/** Global options that choose the key store. */
export interface StoreFlags {
  /** Redis URL (default `REDIS_URL`). */
  redis?: string;
  /** PostgreSQL URL (default `DATABASE_URL`). */
  database?: string;
  /** Which store when both URLs are known: `redis` or `postgres` (default `KEYWARD_STORE`, else postgres). */
  store?: string;
  /** Redis key prefix of the store (default `KEYWARD_REDIS_PREFIX`, else `keyward`). */
  redisPrefix?: string;
  /** Redis invalidation channel (default `KEYWARD_REDIS_CHANNEL`, else `keyward:invalidate`). */
  channel?: string;
  /** PostgreSQL schema (default `KEYWARD_PG_SCHEMA`, else `public`). */
  schema?: string;
}

/** An open store and what must be closed afterwards. */
export interface OpenStore {
  readonly store: KeyStore;
  /** Publishes key changes so running instances drop their caches (Redis only). */
  readonly invalidation?: InvalidationChannel;
  close(): Promise<void>;
}

/** `redis://host:port/db` without user or password, for messages. */
export function safeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return '(unparsable URL)';
  }
}

function checkUrl(url: string, protocols: readonly string[], flag: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CliError(`${flag} must be a URL (${protocols.join(' or ')})`);
  }
  if (!protocols.includes(u.protocol)) throw new CliError(`${flag} must be a ${protocols.join(' or ')} URL`);
  return url;
}

/** Connects to Redis once, without retrying: the CLI fails fast with a clear line. */
export async function connectRedis(url: string): Promise<Redis> {
  const { Redis: RedisCtor } = require('ioredis') as typeof import('ioredis');
  const client = new RedisCtor(checkUrl(url, ['redis:', 'rediss:'], '--redis'), { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000, commandTimeout: 10_000, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new CliError(`cannot connect to Redis at ${safeTarget(url)}: ${error instanceof Error ? error.message : 'unknown error'}`);
  }
  return client;
}

/** Opens a PostgreSQL pool and checks the connection. */
export async function connectPostgres(url: string): Promise<Pool> {
  const { Pool: PoolCtor } = require('pg') as typeof import('pg');
  const pool = new PoolCtor({ connectionString: checkUrl(url, ['postgres:', 'postgresql:'], '--database'), max: 2, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw new CliError(`cannot connect to PostgreSQL at ${safeTarget(url)}: ${error instanceof Error ? error.message : 'unknown error'}`);
  }
  return pool;
}

/** The PostgreSQL schema to use. */
export function schemaOf(flags: StoreFlags, env: NodeJS.ProcessEnv): string | undefined {
  return flags.schema ?? (env['KEYWARD_PG_SCHEMA'] || undefined);
}

/**
 * Opens the key store the flags and the environment name: `--database`/`DATABASE_URL` → PostgreSQL,
 * `--redis`/`REDIS_URL` → Redis. With both, the store is PostgreSQL (or what `--store` says) and Redis carries the
 * cache invalidation, so running instances hear about revocations at once.
 */
export async function openStore(flags: StoreFlags, env: NodeJS.ProcessEnv): Promise<OpenStore> {
  const redisUrl = flags.redis ?? (env['REDIS_URL'] || undefined);
  const databaseUrl = flags.database ?? (env['DATABASE_URL'] || undefined);
  const choice = flags.store ?? (env['KEYWARD_STORE'] || undefined);
  if (choice !== undefined && choice !== 'redis' && choice !== 'postgres') throw new CliError('--store must be "redis" or "postgres"');
  if (!redisUrl && !databaseUrl) throw new CliError('no key store: pass --redis URL or --database URL (or set REDIS_URL or DATABASE_URL)');
  const kind = choice ?? (databaseUrl ? 'postgres' : 'redis');
  if (kind === 'postgres' && !databaseUrl) throw new CliError('--store postgres needs --database URL or DATABASE_URL');
  if (kind === 'redis' && !redisUrl) throw new CliError('--store redis needs --redis URL or REDIS_URL');

  const core = require('@keyward/core') as typeof import('@keyward/core');
  const encryption = core.encryptionFromEnv(env);
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    let redis: Redis | undefined;
    if (redisUrl) {
      redis = await connectRedis(redisUrl);
      const r = redis;
      closers.push(async () => void (await r.quit()));
    }
    const redisPkg = redis ? (require('@keyward/redis') as typeof import('@keyward/redis')) : undefined;
    const invalidation = redis && redisPkg ? publishOnly(new redisPkg.RedisInvalidationChannel({ client: redis, ...(flags.channel ?? env['KEYWARD_REDIS_CHANNEL'] ? { channel: flags.channel ?? env['KEYWARD_REDIS_CHANNEL'] } : {}) })) : undefined;
    let store: KeyStore;
    if (kind === 'postgres') {
      const pool = await connectPostgres(databaseUrl!);
      closers.push(() => pool.end());
      const { PostgresKeyStore } = require('@keyward/postgres') as typeof import('@keyward/postgres');
      const schema = schemaOf(flags, env);
      store = new PostgresKeyStore({ pool, ...(schema ? { schema } : {}), ...(encryption ? { encryption } : {}) });
    } else {
      const prefix = flags.redisPrefix ?? (env['KEYWARD_REDIS_PREFIX'] || undefined);
      store = new redisPkg!.RedisKeyStore({ client: redis!, ...(prefix ? { prefix } : {}), ...(encryption ? { encryption } : {}) });
    }
    return { store, ...(invalidation ? { invalidation } : {}), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The CLI only publishes changes; it never needs to hear them (and so opens no subscriber connection). */
function publishOnly(channel: InvalidationChannel): InvalidationChannel {
  return { publish: (change) => channel.publish(change), subscribe: async () => () => {} };
}
