import { fieldsOf, KeywardError, refuseUnknownInput, warnOnce } from '@keyward/core';
import type { Cluster, Redis, RedisOptions } from 'ioredis';

/** An ioredis client: a standalone `Redis` or a `Cluster`. Always injected; keyward never closes it. */
export type RedisClient = Redis | Cluster;

/** What {@link boundedRedisOptions} may change. */
export interface BoundedRedisOverrides {
  /** ioredis `commandTimeout` and (at least 1 s) `connectTimeout`, in ms (default 500). */
  commandTimeoutMs?: number;
  /** Longest wait between reconnection attempts, in ms (default 200). */
  reconnectMaxDelayMs?: number;
  /** ioredis `enableAutoPipelining` (default true). */
  autoPipelining?: boolean;
}

/** Every field of {@link BoundedRedisOverrides}. */
const OVERRIDES = fieldsOf<BoundedRedisOverrides>({ commandTimeoutMs: true, reconnectMaxDelayMs: true, autoPipelining: true });

/**
 * ioredis options that keep requests bounded while Redis is away: no offline queue (a command fails at once when
 * disconnected instead of waiting), one retry per command, a command timeout, and quick reconnects so service returns
 * within a fraction of a second of Redis coming back. Auto-pipelining is on: the commands that concurrent requests
 * make in one turn of the event loop (each request's rate-limit script, key look-ups on a cache miss) go to Redis in
 * one write and come back in one read, instead of a system call each way per command; `autoPipelining: false` turns
 * it off. A command's timeout starts when it is sent, so one queued behind a batch in flight may wait up to about
 * twice `commandTimeoutMs` when Redis hangs; keyward's own deadlines (`storeTimeout`, `limits.storeTimeout`) bound
 * every request regardless. For a `Cluster`, pass these as `redisOptions` and leave the Cluster's own
 * `enableAutoPipelining` off (see the package README). Spread your own options over it.
 *
 * @example
 * ```ts
 * const client = new Redis(process.env.REDIS_URL!, { ...boundedRedisOptions(), keyPrefix: undefined });
 * ```
 */
export function boundedRedisOptions(overrides: BoundedRedisOverrides = {}): RedisOptions {
  // `{ commandTimeout: 100 }` (ioredis's own name) would otherwise leave the 500 ms default silently in force.
  refuseUnknownInput(overrides, OVERRIDES, 'boundedRedisOptions()');
  const commandTimeout = overrides.commandTimeoutMs ?? 500;
  const maxDelay = overrides.reconnectMaxDelayMs ?? 200;
  const autoPipelining = overrides.autoPipelining ?? true;
  if (!Number.isInteger(commandTimeout) || commandTimeout < 1) throw new TypeError('keyward: option "commandTimeoutMs" must be a positive integer');
  if (!Number.isInteger(maxDelay) || maxDelay < 1) throw new TypeError('keyward: option "reconnectMaxDelayMs" must be a positive integer');
  if (typeof autoPipelining !== 'boolean') throw new TypeError('keyward: option "autoPipelining" must be a boolean');
  return {
    enableOfflineQueue: false,
    enableAutoPipelining: autoPipelining,
    maxRetriesPerRequest: 1,
    commandTimeout,
    connectTimeout: Math.max(1000, commandTimeout),
    retryStrategy: (times: number) => Math.min(times * 50, maxDelay),
  };
}

/**
 * Resolves when the client is ready; rejects with `KeywardError` `STORE_FAILURE` after `timeoutMs`, or at once for a
 * client that was closed (`quit()`, `disconnect()`), which never becomes ready again. A client made with
 * `lazyConnect` is connected here (nothing else would connect it before its first command). With no offline queue,
 * wait before serving.
 */
export function whenReady(client: RedisClient, timeoutMs = 5000): Promise<void> {
  // setTimeout takes '5s' or NaN as 1 ms: start-up would fail at once, "not ready within 5s ms", on a healthy Redis.
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 1) throw new TypeError('keyward: whenReady() "timeoutMs" must be a number of milliseconds, at least 1');
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'end') return Promise.reject(new KeywardError('STORE_FAILURE', 'keyward: the Redis client is closed (quit() or disconnect() was called on it) and will not be ready again; give keyward a connected client'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new KeywardError('STORE_FAILURE', `keyward: Redis was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
    // lazyConnect: connect now; a failure is reported through 'error' events and retried under retryStrategy
    if (client.status === 'wait') client.connect().catch(() => {});
  });
}

/** Checks that `value` looks like an ioredis client, naming the option otherwise. */
export function checkClient(value: unknown, option: string): RedisClient {
  const c = value as Record<string, unknown> | null;
  if (typeof c !== 'object' || c === null || typeof c['evalsha'] !== 'function' || typeof c['hgetall'] !== 'function') {
    throw new TypeError(`keyward: option "${option}" must be an ioredis client (Redis or Cluster)`);
  }
  return value as RedisClient;
}

/**
 * Warns once per process (`KEYWARD_REDIS_OFFLINE_QUEUE`) when a store's client queues commands while disconnected
 * (ioredis's default): while Redis is away, a request's look-up then waits in the queue instead of failing at once,
 * and the queue grows with the traffic. {@link boundedRedisOptions} turns the queue off.
 */
export function warnIfOfflineQueue(client: RedisClient, store: string): void {
  if ((client as { options?: { enableOfflineQueue?: boolean } }).options?.enableOfflineQueue === false) return;
  warnOnce('KEYWARD_REDIS_OFFLINE_QUEUE', `keyward: the Redis client given to ${store} has the offline queue enabled: while Redis is away, requests wait on queued look-ups instead of failing at once, and the queue grows with the traffic; create the client with boundedRedisOptions().`);
}

/**
 * Warns once per process (`KEYWARD_REDIS_EVICTION`) when the Redis behind a key store may evict keys that have no
 * expiry (`maxmemory-policy` `allkeys-lru`, `allkeys-lfu`, `allkeys-random`). An evicted record makes its key fail;
 * so does an evicted index (the key store fails closed: a key that `revoke()` or `revokeOwner()` could not find is not
 * let in), so eviction turns into keys refused at random. Checked with `INFO memory` once
 * the client is ready; a Redis that refuses `INFO` is not warned about.
 */
export function warnIfEvicting(client: RedisClient, store: string): void {
  onEvictionPolicy(client, (policy) => {
    if (policy.startsWith('allkeys-')) warnOnce('KEYWARD_REDIS_EVICTION', `keyward: the Redis behind ${store} has maxmemory-policy ${policy}: it may evict the key store's records and indexes when full, and a key whose record or index is evicted stops authenticating; use noeviction (or a volatile-* policy) for the Redis that holds keys.`);
  });
}

/**
 * Warns once per process (`KEYWARD_REDIS_REVOCATION_EVICTION`) when the Redis behind a token revocation list may evict
 * its entries: they have an expiry, so a `volatile-*` policy evicts them first, and so may `allkeys-*`; an evicted
 * revocation lets the revoked token in again. Only `noeviction` keeps them. Checked like {@link warnIfEvicting}.
 */
export function warnIfEvictingRevocations(client: RedisClient, store: string): void {
  onEvictionPolicy(client, (policy) => {
    if (policy !== 'noeviction') warnOnce('KEYWARD_REDIS_REVOCATION_EVICTION', `keyward: the Redis behind ${store} has maxmemory-policy ${policy}: when full it may evict token revocations (they have an expiry), and a revoked token is then accepted again; use noeviction for the Redis that holds the revocation list.`);
  });
}

/** Calls `then` with the server's `maxmemory-policy` once the client is ready (not at all if `INFO` fails). */
function onEvictionPolicy(client: RedisClient, then: (policy: string) => void): void {
  const check = () => {
    client.info('memory').then(
      (info) => {
        const policy = /^maxmemory_policy:(\S+)/m.exec(String(info))?.[1];
        if (policy !== undefined) then(policy);
      },
      () => {},
    );
  };
  if (client.status === 'ready') check();
  else client.once('ready', check);
}

/** Checks a key prefix: 1–64 characters, no braces (the store adds its own hash tag), no spaces. */
export function checkPrefix(value: unknown, option: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[A-Za-z0-9:._-]{1,64}$/.test(value)) {
    throw new TypeError(`keyward: option "${option}" must be 1–64 characters from A-Z a-z 0-9 : . _ -`);
  }
  return value;
}
