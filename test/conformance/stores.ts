/**
 * Which stores the adapter conformance scenarios run on. By default, keyward's in-memory stores. In the Jest project
 * "conformance on Redis" (`KEYWARD_CONFORMANCE_STORES=redis`, set by `on-redis.setup.ts`), every scenario file runs
 * again with keys in a {@link RedisKeyStore}, cache invalidation over Redis pub/sub, token revocations in a
 * {@link RedisRevocationStore}, and rate-limit, quota and failed-auth counters in Redis — a real Redis, each
 * instance under its own prefix, all of it deleted after the file. Scenarios build their instances with
 * `createKeyward(onStores({ … }))`; a store a scenario chose itself is kept.
 */
import type Redis from 'ioredis';
import type { KeywardOptions } from '@keyward/core';
import { RedisInvalidationChannel, RedisKeyStore, RedisRevocationStore } from '@keyward/redis';
import { deleteMatching, redisClient, uniqueName } from '../stores/support';

/** True in the "conformance on Redis" project. */
export const ON_REDIS = process.env.KEYWARD_CONFORMANCE_STORES === 'redis';

let client: Redis | undefined;
const prefixes: string[] = [];

/**
 * Opens this file's Redis connection. Called from the setup file's `beforeAll`, because `onStores` runs inside the
 * scenarios' own (synchronous) set-up code.
 */
export async function openConformanceStores(): Promise<void> {
  if (ON_REDIS && !client) client = await redisClient();
}

/**
 * Deletes everything this file's instances wrote and closes the connection (after the scenarios closed them).
 *
 * @throws when the file built instances on the Redis stores and none of them wrote a key record to Redis: the run
 * would then not be testing Redis at all
 */
export async function closeConformanceStores(): Promise<void> {
  if (!client) return;
  const c = client;
  client = undefined;
  const used = prefixes.splice(0);
  let records = 0;
  try {
    for (const p of used) {
      let cursor = '0';
      do {
        const [next, keys] = await c.scan(cursor, 'MATCH', `{${p}}:*`, 'COUNT', 1000);
        cursor = next;
        records += keys.length;
      } while (cursor !== '0');
      await deleteMatching(c, `{${p}}*`);
      await deleteMatching(c, `${p}*`);
    }
  } finally {
    c.disconnect();
  }
  if (used.length > 0 && records === 0) throw new Error(`conformance on Redis: ${used.length} instance(s) ran on the Redis stores but none stored a key in Redis`);
}

/**
 * A scenario's options, on the stores of this run: unchanged on memory; on Redis, with Redis stores added wherever the
 * scenario did not choose one (the caller's object is never changed).
 */
export function onStores<T extends KeywardOptions>(options: T = {} as T): T {
  if (!ON_REDIS) return options;
  if (!client) throw new Error('conformance on Redis: the connection is not open (on-redis.setup.ts opens it in beforeAll)');
  const c = client;
  const prefix = uniqueName('kwconf');
  prefixes.push(prefix);
  const counters = (name: string) => ({ redis: c, prefix: `${prefix}:${name}` });
  return {
    ...options,
    store: options.store ?? new RedisKeyStore({ client: c, prefix }),
    invalidation: options.invalidation ?? new RedisInvalidationChannel({ client: c, channel: `${prefix}:invalidate` }),
    ...(options.limits ? { limits: { ...options.limits, store: options.limits.store ?? counters('rl') } } : {}),
    ...(options.authFailures ? { authFailures: { ...options.authFailures, store: options.authFailures.store ?? counters('af') } } : {}),
    ...(options.tokens ? { tokens: { ...options.tokens, revocationStore: options.tokens.revocationStore ?? new RedisRevocationStore({ client: c, prefix }) } } : {}),
  };
}
