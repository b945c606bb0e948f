import { RateLimiterRedis } from 'rate-limiter-flexible';
import { systemClock, type Clock } from '../util/clock';
import { fieldsOf, refuseUnknownFields, refuseUnknownInput } from '../config/fields';

/**
 * Where limit counters live. Keys already carry the window they count (keyward computes windows from its own
 * clock), so a store only adds and expires. Every operation must be atomic across processes sharing the store.
 *
 * Any store other than {@link memoryLimiterStore} is awaited behind the store timeout and failure policy; the
 * memory store is counted synchronously, so a request it allows or refuses costs no promise.
 */
export interface LimiterStore {
  /**
   * Adds `amount` (may be negative, to refund) to the counter `key`, creating it with a time-to-live of `ttlMs` if it
   * does not exist, and resolves to the new total.
   */
  increment(key: string, amount: number, ttlMs: number): Promise<number>;
  /** The counter's current total, 0 when absent or expired. */
  get(key: string): Promise<number>;
  /** Releases timers or connections the store owns. */
  close?(): Promise<void> | void;
}

/** Options of {@link memoryLimiterStore}. */
export interface MemoryLimiterStoreOptions {
  /** Most counters kept; the least recently used is evicted first (default 100,000). */
  readonly maxEntries?: number;
  /** Clock deciding expiry (default `Date.now`); keyward passes its own. */
  readonly clock?: Clock;
}

const MEMORY_STORE_FIELDS = fieldsOf<MemoryLimiterStoreOptions>({ maxEntries: true, clock: true });

interface Entry {
  value: number;
  expiresAt: number;
}

const MEMORY = Symbol.for('keyward.memoryLimiterStore');
/** Where a memory store made by this module keeps its synchronous counters (module-private: never across copies). */
const SYNC = Symbol('keyward.memoryLimiterStore.sync');

/**
 * The synchronous side of a memory store: the same counters, answered at once instead of through a promise.
 * Internal: features use it so that a request counted in memory costs no promise.
 */
export interface SyncCounters {
  /** {@link LimiterStore.increment}, answered at once. */
  increment(key: string, amount: number, ttlMs: number): number;
  /** {@link LimiterStore.get}, answered at once. */
  get(key: string): number;
}

/** The synchronous counters of a store made by {@link memoryLimiterStore}, `undefined` for any other store. */
export function syncCountersOf(store: LimiterStore): SyncCounters | undefined {
  return (store as { [SYNC]?: SyncCounters })[SYNC];
}

/** True for stores made by {@link memoryLimiterStore} (in process: no timeout or failure policy needed). */
export function isMemoryLimiterStore(store: unknown): store is MemoryLimiterStore {
  return typeof store === 'object' && store !== null && (store as Record<symbol, unknown>)[MEMORY] === true;
}

/** An in-memory {@link LimiterStore} with its introspection for tests and benchmarks. */
export interface MemoryLimiterStore extends LimiterStore {
  /** Counters currently held (never above `maxEntries`). */
  readonly size: number;
}

/**
 * A bounded in-memory counter store: no timers, expiry decided by the clock, at most `maxEntries` counters. Eviction
 * is by generations (the "hashlru" scheme): counters live in a young map; when it holds half the bound it becomes the
 * old map and the previous old map is dropped whole, and a counter used again is moved back to the young map. Every
 * operation is O(1) (no scans, no timers), and counting is synchronous, so it is exact under any concurrency within
 * one process. Its methods answer with resolved promises (the {@link LimiterStore} contract); keyward's features
 * read the same counters synchronously.
 */
export function memoryLimiterStore(options: MemoryLimiterStoreOptions = {}): MemoryLimiterStore {
  refuseUnknownInput(options, MEMORY_STORE_FIELDS, 'memoryLimiterStore()');
  const max = options.maxEntries ?? 100_000;
  if (!Number.isInteger(max) || max < 1) throw new TypeError('keyward: option "maxEntries" must be a positive integer');
  const clock = options.clock ?? systemClock;
  const half = Math.max(1, Math.floor(max / 2));
  let young = new Map<string, Entry>();
  let old = new Map<string, Entry>();

  function find(key: string, now: number): Entry | undefined {
    let e = young.get(key);
    if (e === undefined) {
      e = old.get(key);
      if (e === undefined) return undefined;
      old.delete(key);
      if (e.expiresAt <= now) return undefined;
      put(key, e);
      return e;
    }
    if (e.expiresAt <= now) {
      young.delete(key);
      return undefined;
    }
    return e;
  }

  function put(key: string, e: Entry): void {
    if (young.size >= half) {
      old = young;
      young = new Map();
    }
    young.set(key, e);
  }

  function incrementSync(key: string, amount: number, ttlMs: number): number {
    const now = clock();
    let e = find(key, now);
    if (e === undefined) {
      e = { value: 0, expiresAt: now + Math.max(1, ttlMs) };
      put(key, e);
    }
    e.value += amount;
    return e.value;
  }

  function getSync(key: string): number {
    const e = find(key, clock());
    return e === undefined ? 0 : e.value;
  }

  const store: MemoryLimiterStore & { [MEMORY]: true; [SYNC]: SyncCounters } = {
    [MEMORY]: true,
    [SYNC]: { increment: incrementSync, get: getSync },
    increment: (key, amount, ttlMs) => Promise.resolve(incrementSync(key, amount, ttlMs)),
    get: (key) => Promise.resolve(getSync(key)),
    get size() {
      return young.size + old.size;
    },
    close() {
      young.clear();
      old.clear();
    },
  };
  return store;
}

/**
 * The part of an ioredis client the Redis limiter store needs: an ioredis 5 `Redis` or `Cluster` is one, as it is.
 * (No index signature: a class such as ioredis's has none, and TypeScript would refuse it.)
 */
export interface RedisLikeClient {
  readonly status?: string;
  multi(...args: never[]): unknown;
  defineCommand?(name: string, definition: { numberOfKeys: number; lua: string }): void;
}

/** Options of {@link redisLimiterStore}. */
export interface RedisLimiterStoreOptions {
  /** An ioredis client (standalone or Cluster). Its lifecycle stays with the caller. */
  readonly client: RedisLikeClient;
  /** Key prefix (default `'keyward:rl'`). */
  readonly prefix?: string;
}

const REDIS_STORE_FIELDS = fieldsOf<RedisLimiterStoreOptions>({ client: true, prefix: true });
/** The fields of the `{ redis, prefix }` form of a `store` option. */
const STORE_OPTION_FIELDS = ['redis', 'prefix'];

/**
 * A {@link LimiterStore} in Redis, built on rate-limiter-flexible's `RateLimiterRedis` (an atomic Lua
 * `SET NX EX` + `INCRBY`). It refuses at once, instead of queueing, while the client is not ready
 * (`rejectIfRedisNotReady`), so a client with `enableOfflineQueue` cannot stall requests; keyward's store timeout and
 * failure policy then apply.
 */
export function redisLimiterStore(options: RedisLimiterStoreOptions): LimiterStore {
  refuseUnknownInput(options, REDIS_STORE_FIELDS, 'redisLimiterStore()');
  const client = options.client;
  if (typeof client !== 'object' || client === null || typeof (client as { multi?: unknown }).multi !== 'function') {
    throw new TypeError('keyward: option "store.redis" must be an ioredis client');
  }
  const prefix = options.prefix ?? 'keyward:rl';
  if (typeof prefix !== 'string' || prefix.length === 0) throw new TypeError('keyward: option "store.prefix" must be a non-empty string');
  // `points` and `duration` are unused: keyward compares totals itself and passes each counter's TTL.
  const limiter = new RateLimiterRedis({ storeClient: client, keyPrefix: prefix, points: 1, duration: 1, rejectIfRedisNotReady: true });
  const seconds = (ttlMs: number) => Math.max(1, Math.ceil(ttlMs / 1000));
  return {
    async increment(key, amount, ttlMs) {
      const res = amount >= 0
        ? await limiter.penalty(key, amount, { customDuration: seconds(ttlMs) })
        : await limiter.reward(key, -amount, { customDuration: seconds(ttlMs) });
      return res.consumedPoints;
    },
    async get(key) {
      const res = await limiter.get(key);
      return res ? res.consumedPoints : 0;
    },
  };
}

/** True when `value` looks like a {@link LimiterStore}. */
export function isLimiterStore(value: unknown): value is LimiterStore {
  const v = value as Record<string, unknown> | null;
  return typeof v === 'object' && v !== null && typeof v['increment'] === 'function' && typeof v['get'] === 'function';
}

/**
 * Builds the store an option names: a {@link LimiterStore} as is, `{ redis }` through {@link redisLimiterStore},
 * or a bounded memory store when absent.
 *
 * @param name - the option's name for error messages, e.g. `limits.store`
 */
export function storeFromOption(option: unknown, name: string, fallback: () => LimiterStore): LimiterStore {
  if (option === undefined) return fallback();
  if (isLimiterStore(option)) return option;
  if (typeof option === 'object' && option !== null && 'redis' in option) {
    refuseUnknownFields(option, STORE_OPTION_FIELDS, name);
    const o = option as { redis: RedisLikeClient; prefix?: string };
    try {
      return redisLimiterStore({ client: o.redis, ...(o.prefix !== undefined ? { prefix: o.prefix } : {}) });
    } catch (e) {
      throw new TypeError((e as Error).message.replace('"store.', `"${name}.`));
    }
  }
  throw new TypeError(`keyward: option "${name}" must be a LimiterStore or { redis: ioredisClient }`);
}
