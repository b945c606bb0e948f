/**
 * Stores under test: each factory makes a fresh, isolated store (its own Redis prefix or PostgreSQL schema) and a
 * cleanup that removes everything it wrote and closes what it opened.
 */
import { createHash, randomBytes } from 'node:crypto';
import Redis from 'ioredis';
// The lowest ioredis the peer range (^5.4.0) admits, installed beside the current one: both run every store scenario.
import Redis54 from 'ioredis5_4';
import { Pool } from 'pg';
// The lowest pg the peer range (^8.11.0) admits, installed beside the current one: both run every store scenario.
import { Pool as Pool811 } from 'pg8_11';
import { MemoryKeyStore, createEncryption, isKeywardError, type Encryption, type KeyStore, type RevocationStore } from '@keyward/core';
import { RedisKeyStore, RedisRevocationStore, boundedRedisOptions } from '@keyward/redis';
import { PostgresKeyStore, PostgresRevocationStore, migrate } from '@keyward/postgres';

/** The `KeywardError` code a promise rejects with (or the error as text), `undefined` when it resolves. */
export async function errorCodeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return isKeywardError(e) ? e.code : String(e);
  }
}

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
export const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** A unique, lower-case name part for this run. */
export function uniqueName(label: string): string {
  return `${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** A Redis client with the bounded options, connected. */
export async function redisClient(url = REDIS_URL, RedisClass: typeof Redis = Redis): Promise<Redis> {
  const client = new RedisClass(url, { ...boundedRedisOptions(), lazyConnect: true });
  await client.connect();
  return client;
}

/** Deletes every key matching `pattern` (SCAN, never KEYS). */
export async function deleteMatching(client: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await client.unlink(...keys);
  } while (cursor !== '0');
}

/** A PostgreSQL schema for one test file, migrated, dropped by `drop()`. */
export async function pgSchema(label: string, PoolClass: typeof Pool | typeof Pool811 = Pool): Promise<{ pool: Pool | Pool811; schema: string; drop(): Promise<void> }> {
  const pool = new PoolClass({ connectionString: DATABASE_URL, max: 8 });
  pool.on('error', () => {}); // as the README asks of every pool: an idle connection closed by the server is replaced
  const schema = uniqueName(`kw_${label}`);
  await migrate(pool, { schema });
  return {
    pool,
    schema,
    async drop() {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

/** Fixed master keys for tests, derived from their ids (the first is current). */
export function testEncryption(ids: readonly string[] = ['k1']): Encryption {
  return createEncryption({ keys: ids.map((id) => ({ id, key: createHash('sha256').update(`test master key ${id}`).digest() })) });
}

/** A store under test. */
export interface StoreFixture<S> {
  readonly store: S;
  cleanup(): Promise<void>;
}

/** One backend of the key-store conformance suite. */
export interface KeyStoreBackend {
  readonly name: string;
  /** True when the store encrypts at rest (recoverable keys allowed). */
  readonly encrypted: boolean;
  make(): Promise<StoreFixture<KeyStore>>;
}

/** A Redis store under test on a client of `RedisClass` (the current ioredis, or the peer range's lowest). */
async function onRedis<S>(label: string, RedisClass: typeof Redis, build: (client: Redis, prefix: string) => S, pattern: (prefix: string) => string): Promise<StoreFixture<S>> {
  const client = await redisClient(REDIS_URL, RedisClass);
  const prefix = uniqueName(label);
  return { store: build(client, prefix), cleanup: async () => { await deleteMatching(client, pattern(prefix)); client.disconnect(); } };
}

/** A PostgreSQL store under test in its own schema, on a pool of `PoolClass` (the current pg, or the peer range's lowest). */
async function onPostgres<S>(label: string, PoolClass: typeof Pool | typeof Pool811, build: (pool: Pool | Pool811, schema: string) => S): Promise<StoreFixture<S>> {
  const db = await pgSchema(label, PoolClass);
  return { store: build(db.pool, db.schema), cleanup: () => db.drop() };
}

/** The encryption option of a key store under test: at rest when `encrypted`, none otherwise. */
const encryptionOf = (encrypted: boolean): { encryption?: Encryption } => (encrypted ? { encryption: testEncryption() } : {});

function redisKeyStore(name: string, encrypted: boolean, RedisClass: typeof Redis = Redis): KeyStoreBackend {
  return { name, encrypted, make: () => onRedis('kwtest_store', RedisClass, (client, prefix) => new RedisKeyStore({ client, prefix, ...encryptionOf(encrypted) }), (prefix) => `{${prefix}}*`) };
}

function postgresKeyStore(name: string, encrypted: boolean, PoolClass: typeof Pool | typeof Pool811 = Pool): KeyStoreBackend {
  return { name, encrypted, make: () => onPostgres('store', PoolClass, (pool, schema) => new PostgresKeyStore({ pool, schema, ...encryptionOf(encrypted) })) };
}

export const KEY_STORE_BACKENDS: readonly KeyStoreBackend[] = [
  { name: 'memory', encrypted: false, make: async () => ({ store: new MemoryKeyStore(), cleanup: async () => {} }) },
  redisKeyStore('redis', false),
  redisKeyStore('redis (encrypted)', true),
  redisKeyStore('redis on ioredis 5.4', false, Redis54),
  postgresKeyStore('postgres', false),
  postgresKeyStore('postgres (encrypted)', true),
  postgresKeyStore('postgres on pg 8.11', false, Pool811),
];

/** One backend of the revocation-store suite. */
export interface RevocationBackend {
  readonly name: string;
  make(): Promise<StoreFixture<RevocationStore>>;
}

function redisRevocations(name: string, RedisClass: typeof Redis = Redis): RevocationBackend {
  return { name, make: () => onRedis('kwtest_revoked', RedisClass, (client, prefix) => new RedisRevocationStore({ client, prefix }), (prefix) => `${prefix}:*`) };
}

function postgresRevocations(name: string, PoolClass: typeof Pool | typeof Pool811 = Pool): RevocationBackend {
  return { name, make: () => onPostgres('revoked', PoolClass, (pool, schema) => new PostgresRevocationStore({ pool, schema })) };
}

export const REVOCATION_BACKENDS: RevocationBackend[] = [
  redisRevocations('redis'),
  redisRevocations('redis on ioredis 5.4', Redis54),
  postgresRevocations('postgres'),
  postgresRevocations('postgres on pg 8.11', Pool811),
];

/** The `limits.store` option for an ioredis client: the client as it is, no cast (a TypeScript user writes the same). */
export function redisLimits(client: Redis, prefix: string): { redis: Redis; prefix: string } {
  return { redis: client, prefix };
}
