import { createHash } from 'node:crypto';
import {
  LATENCY_BUCKETS_MS,
  METRICS_WINDOWS,
  WINDOW_LAYOUT,
  bucketOf,
  fieldsOf,
  observationOf,
  parseDuration,
  parseTopQuery,
  refuseUnknownInput,
  statusClass,
  type Clock,
  type KeyMetrics,
  type Keyward,
  type KeywardEvent,
  type MetricsView,
  type MetricsWindow,
  type TopBy,
  type TopKey,
  type TopQuery,
  type WindowMetrics,
} from '@keyward/core';

/** The ioredis commands used (an `ioredis` `Redis` or `Cluster` client fits). */
export interface RedisMetricsClient {
  pipeline(): RedisMetricsPipeline;
}

/** The pipeline commands used. */
export interface RedisMetricsPipeline {
  hincrby(key: string, field: string, increment: number): unknown;
  hincrbyfloat(key: string, field: string, increment: number): unknown;
  hset(key: string, ...args: string[]): unknown;
  hsetnx(key: string, field: string, value: string): unknown;
  hgetall(key: string): unknown;
  zincrby(key: string, increment: number, member: string): unknown;
  zremrangebyrank(key: string, start: number, stop: number): unknown;
  pfadd(key: string, ...elements: string[]): unknown;
  pfcount(...keys: string[]): unknown;
  pexpire(key: string, ms: number): unknown;
  call(command: string, ...args: Array<string | number>): unknown;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/** Options of {@link createRedisMetrics}. */
export interface RedisMetricsOptions {
  /** The Redis client (ioredis). Injected: the sink neither connects nor quits it. */
  client: RedisMetricsClient;
  /**
   * Key prefix, e.g. `kw:metrics:` (default `keyward:metrics:`). Give every application its own. With a Redis Cluster
   * client, a prefix without a hash tag is put in one (keys become `{prefix}…`) so that every key shares one slot.
   */
  prefix?: string;
  /** The instance to subscribe to; omit to call `record` yourself. */
  keyward?: Pick<Keyward, 'on'>;
  /** How often buffered increments are written (default `'1s'`). */
  flushInterval?: number | string;
  /**
   * Write early when this many observations are buffered (default 5000). One write is in flight at a time: while it
   * is (Redis slow or unreachable), at most this many more are buffered, and later ones are dropped and reported to
   * `onError`, so an outage costs bounded memory instead of a client queue that grows with the traffic.
   */
  maxBuffer?: number;
  /** Members kept per top-N sorted set and slot (default 40); top lists return at most 10. */
  topCapacity?: number;
  /** Keys kept per ranking set and slot (default 1000). */
  maxRankedKeys?: number;
  /** Clock for reads (default `Date.now`); writes use the events' times. */
  clock?: Clock;
  /** Called when a write to Redis fails (default: a process warning); what it throws is ignored. Metrics are never allowed to fail requests. */
  onError?: (error: unknown) => void;
}

/** Every field of {@link RedisMetricsOptions}: a misspelt `prefix` must not mix one application's metrics into another's. */
const OPTIONS = fieldsOf<RedisMetricsOptions>({
  client: true, prefix: true, keyward: true, flushInterval: true, maxBuffer: true, topCapacity: true, maxRankedKeys: true, clock: true, onError: true,
});

/** The Redis aggregator: several instances writing to the same prefix add up. */
export interface RedisMetrics extends MetricsView {
  record(event: KeywardEvent): void;
  /** Writes what is buffered now. */
  flush(): Promise<void>;
  forKey(keyId: string): Promise<KeyMetrics | undefined>;
  top(query?: TopQuery): Promise<TopKey[]>;
  /** Flushes, stops the timer and the subscription. */
  close(): Promise<void>;
}

/**
 * The prefix actually used for keys. On Redis Cluster every key of one prefix must hash to one slot: a pipeline goes
 * to a single node, and `ZUNION` / `PFCOUNT` read several keys at once (CROSSSLOT otherwise). So for a Cluster client
 * (ioredis sets `isCluster`) a prefix that has no hash tag of its own is wrapped in one, `{prefix}`; a prefix that
 * already has one (e.g. `{acme}:metrics:`) is kept. A standalone client keeps the prefix as given.
 */
export function clusterSafePrefix(client: unknown, prefix: string): string {
  if ((client as { isCluster?: unknown } | null)?.isCluster !== true || hasHashTag(prefix)) return prefix;
  const tagged = `{${prefix}}`;
  if (!hasHashTag(tagged)) throw new TypeError('keyward: option "prefix" cannot start with "}" on Redis Cluster');
  return tagged;
}

/** Redis's rule: the first `{`, then the first `}` after it, with at least one character in between. */
function hasHashTag(key: string): boolean {
  const open = key.indexOf('{');
  if (open === -1) return false;
  const close = key.indexOf('}', open + 1);
  return close > open + 1;
}

const BY: readonly TopBy[] = ['requests', 'errors', 'bytes', 'authFailures', 'refused'];

/**
 * Space-saving (Metwally et al.; the in-memory `SpaceSaving` of the core) on one sorted set of at most ARGV[1] members:
 * a member not tracked when the set is full takes the place of the smallest and inherits its score. So a value that
 * keeps coming is never pushed out by a crowd of one-off values (a plain "add, then trim the lowest" dropped it at
 * every flush while it was tied with them), and counts are over-estimated by at most the evicted minimum.
 * KEYS: the set. ARGV: capacity, then member/increment pairs, heaviest first.
 */
const SPACE_SAVING = `
local cap = tonumber(ARGV[1])
local n = redis.call('ZCARD', KEYS[1])
while n > cap do redis.call('ZPOPMIN', KEYS[1]); n = n - 1 end
for i = 2, #ARGV, 2 do
  local m, inc = ARGV[i], tonumber(ARGV[i + 1])
  if redis.call('ZSCORE', KEYS[1], m) then
    redis.call('ZINCRBY', KEYS[1], inc, m)
  elseif n < cap then
    redis.call('ZADD', KEYS[1], inc, m)
    n = n + 1
  else
    local low = redis.call('ZPOPMIN', KEYS[1])
    redis.call('ZADD', KEYS[1], tonumber(low[2]) + inc, m)
  end
end`;
const SPACE_SAVING_SHA = createHash('sha1').update(SPACE_SAVING).digest('hex');
const TOP_LIMIT = 10;

/**
 * Per-key metrics in Redis, with the same windows and answer shape as the in-memory `kw.metrics`, so that several
 * instances add up. Increments are buffered and written in one pipeline per `flushInterval`; every Redis key expires
 * with its window. Layout (under `prefix`): `c:<window>:<slot>:<keyId>` hash of counters, `a|u|e:<window>:<slot>:<keyId>`
 * sorted sets of addresses / user agents / endpoints (space-saving, at most `topCapacity`) with `…d:` HyperLogLogs beside
 * them, `k:<window>:<slot>:<by>` sorted sets ranking keys (space-saving, at most `maxRankedKeys`), `meta:<keyId>` owner and plan. On Redis Cluster all of them share
 * one hash tag (one slot, one node): a prefix without a hash tag of its own becomes `{prefix}`.
 *
 * @example
 * ```ts
 * const metrics = createRedisMetrics({ client: new Redis(process.env.REDIS_URL), prefix: 'acme:metrics:', keyward: kw });
 * await metrics.forKey('key_…');
 * ```
 */
export function createRedisMetrics(options: RedisMetricsOptions): RedisMetrics {
  refuseUnknownInput(options, OPTIONS, 'createRedisMetrics()');
  if (typeof options.client?.pipeline !== 'function') throw new TypeError('keyward: option "client" must be an ioredis client');
  const given = options.prefix ?? 'keyward:metrics:';
  if (typeof given !== 'string' || given.length === 0) throw new TypeError('keyward: option "prefix" must be a non-empty string');
  const prefix = clusterSafePrefix(options.client, given);
  const flushMs = parseDuration(options.flushInterval ?? '1s', 'flushInterval');
  const int = (v: number | undefined, name: string, fallback: number) => {
    if (v === undefined) return fallback;
    if (!Number.isInteger(v) || v < 1) throw new TypeError(`keyward: option "${name}" must be a positive integer`);
    return v;
  };
  const maxBuffer = int(options.maxBuffer, 'maxBuffer', 5000);
  const topCapacity = int(options.topCapacity, 'topCapacity', 40);
  const maxRanked = int(options.maxRankedKeys, 'maxRankedKeys', 1000);
  const clock = options.clock ?? Date.now;
  if (options.onError !== undefined && typeof options.onError !== 'function') throw new TypeError('keyward: option "onError" must be a function');
  const report = options.onError ?? ((e: unknown) => process.emitWarning(`keyward: writing metrics to Redis failed: ${e instanceof Error ? e.message : 'unknown'}`, { code: 'KEYWARD_METRICS_REDIS' }));
  const onError = (e: unknown): void => {
    try {
      report(e);
    } catch {
      // an onError that throws must not reject a write started by the timer: an unhandled rejection ends the process
    }
  };
  const client = options.client;

  // buffered increments
  let hashes = new Map<string, Map<string, number>>();
  let zsets = new Map<string, Map<string, number>>();
  let hlls = new Map<string, Set<string>>();
  let expiries = new Map<string, number>();
  let meta = new Map<string, { owner?: string; plan?: string; first: number; last: number }>();
  let buffered = 0;

  const hinc = (key: string, field: string, n: number) => {
    let h = hashes.get(key);
    if (!h) hashes.set(key, (h = new Map()));
    h.set(field, (h.get(field) ?? 0) + n);
  };
  const zinc = (key: string, member: string, n: number) => {
    let z = zsets.get(key);
    if (!z) zsets.set(key, (z = new Map()));
    z.set(member, (z.get(member) ?? 0) + n);
  };
  const pfadd = (key: string, member: string) => {
    let s = hlls.get(key);
    if (!s) hlls.set(key, (s = new Set()));
    s.add(member);
  };
  const expire = (key: string, ms: number) => expiries.set(key, ms);

  function record(event: KeywardEvent): void {
    const o = observationOf(event);
    if (!o) return;
    if (writing && buffered >= maxBuffer) {
      dropped++;
      return;
    }
    const m = meta.get(o.keyId);
    if (m) {
      if (o.owner !== undefined) m.owner = o.owner;
      if (o.plan !== undefined) m.plan = o.plan;
      m.first = Math.min(m.first, o.time);
      m.last = Math.max(m.last, o.time);
    } else meta.set(o.keyId, { ...(o.owner !== undefined ? { owner: o.owner } : {}), ...(o.plan !== undefined ? { plan: o.plan } : {}), first: o.time, last: o.time });
    const cls = statusClass(o.status);
    for (const w of METRICS_WINDOWS) {
      const l = WINDOW_LAYOUT[w];
      const slot = Math.floor(o.time / l.counterSlotMs);
      const ttl = l.counterSlotMs * (l.counterSlots + 1);
      const c = `${prefix}c:${w}:${slot}:${o.keyId}`;
      expire(c, ttl);
      const rank = (by: TopBy, n: number) => {
        if (n === 0) return;
        const k = `${prefix}k:${w}:${slot}:${by}`;
        zinc(k, o.keyId, n);
        expire(k, ttl);
      };
      if (o.kind === 'authenticated') {
        hinc(c, 'authOk', 1);
        continue;
      }
      hinc(c, 'requests', 1);
      rank('requests', 1);
      if (cls >= 0) hinc(c, `s${cls + 1}`, 1);
      if (cls >= 3) rank('errors', 1);
      if (o.kind === 'completed') {
        hinc(c, 'completed', 1);
        if (o.bytes) {
          hinc(c, 'bytes', o.bytes);
          rank('bytes', o.bytes);
        }
        if (o.durationMs !== undefined) {
          hinc(c, 'latCount', 1);
          hinc(c, 'latSum', o.durationMs);
          hinc(c, `l${bucketOf(o.durationMs)}`, 1);
        }
      } else {
        hinc(c, 'refused', 1);
        rank('refused', 1);
        if (o.authFailed) {
          hinc(c, 'authFailed', 1);
          rank('authFailures', 1);
        }
        if (o.reason !== undefined) hinc(c, `r:${o.reason}`, 1);
      }
      const sslot = Math.floor(o.time / l.sketchSlotMs);
      const sttl = l.sketchSlotMs * (l.sketchSlots + 1);
      for (const [tag, value] of [['a', o.address], ['u', o.userAgent], ['e', o.endpoint]] as const) {
        if (value === undefined) continue;
        const z = `${prefix}${tag}:${w}:${sslot}:${o.keyId}`;
        const d = `${prefix}${tag}d:${w}:${sslot}:${o.keyId}`;
        zinc(z, value, 1);
        pfadd(d, value);
        expire(z, sttl);
        expire(d, sttl);
      }
    }
    if (++buffered >= maxBuffer) kick();
  }

  /** The write in flight, if any: one at a time, else a Redis that does not answer queues a pipeline per flush. */
  let writing: Promise<void> | undefined;
  /** Observations dropped while the buffer was full behind a write in flight, not yet reported. */
  let dropped = 0;
  /** Starts a write unless one is in flight (the timer, a full buffer). */
  function kick(): void {
    if (!writing) void flush();
  }
  function flush(): Promise<void> {
    if (writing) return writing.then(flush); // what is buffered now is written after the write in flight
    if (buffered === 0 && hashes.size === 0) return Promise.resolve();
    const h = hashes, z = zsets, p = hlls, e = expiries, m = meta;
    hashes = new Map();
    zsets = new Map();
    hlls = new Map();
    expiries = new Map();
    meta = new Map();
    buffered = 0;
    const pipe = client.pipeline();
    // The space-saving scripts first, so that reply i is set i's: one Redis does not know yet (NOSCRIPT) is sent again.
    const sets: Array<[string, Array<string | number>]> = [];
    for (const [key, members] of z) {
      const args: Array<string | number> = [key.startsWith(`${prefix}k:`) ? maxRanked : topCapacity];
      for (const [member, n] of [...members].sort((x, y) => y[1] - x[1])) args.push(member, n);
      sets.push([key, args]);
      pipe.call('EVALSHA', SPACE_SAVING_SHA, 1, key, ...args);
    }
    for (const [key, fields] of h) {
      for (const [f, n] of fields) {
        // `latSum` holds a float once any flush added a fraction: HINCRBY on it fails ("not an integer"), even when
        // this flush's sum happens to be whole.
        if (Number.isInteger(n) && f !== 'latSum') pipe.hincrby(key, f, n);
        else pipe.hincrbyfloat(key, f, n);
      }
    }
    for (const [key, members] of p) pipe.pfadd(key, ...members);
    for (const [key, ms] of e) pipe.pexpire(key, ms);
    for (const [id, info] of m) {
      const k = `${prefix}meta:${id}`;
      const fields: string[] = ['last', String(info.last)];
      if (info.owner !== undefined) fields.push('owner', info.owner);
      if (info.plan !== undefined) fields.push('plan', info.plan);
      pipe.hset(k, ...fields);
      pipe.hsetnx(k, 'first', String(info.first));
      pipe.pexpire(k, 2 * 86_400_000);
    }
    const run = pipe
      .exec()
      .then(async (results) => {
        const unknown = sets.filter((_, i) => results?.[i]?.[0]?.message.startsWith('NOSCRIPT'));
        const failure = results?.find(([err]) => err && !err.message.startsWith('NOSCRIPT'));
        if (failure) onError(failure[0]);
        if (unknown.length === 0) return;
        // Redis restarted or failed over: EVAL (which caches the script) and the expiry, which found no set to expire.
        const again = client.pipeline();
        for (const [key, args] of unknown) {
          again.call('EVAL', SPACE_SAVING, 1, key, ...args);
          again.pexpire(key, e.get(key)!);
        }
        const retried = (await again.exec())?.find(([err]) => err);
        if (retried) onError(retried[0]);
      })
      .catch(onError);
    const done: Promise<void> = run.finally(() => {
      writing = undefined;
      if (dropped > 0) {
        const n = dropped;
        dropped = 0;
        onError(new Error(`${n} observations dropped: the buffer was full while a write to Redis was pending`));
      }
    });
    writing = done;
    return done;
  }

  const timer = setInterval(kick, Math.max(flushMs, 10));
  timer.unref();
  const off = options.keyward?.on('*', record);

  function slots(window: MetricsWindow, now: number, sketch: boolean): number[] {
    const l = WINDOW_LAYOUT[window];
    const ms = sketch ? l.sketchSlotMs : l.counterSlotMs;
    const n = sketch ? l.sketchSlots : l.counterSlots;
    const cur = Math.floor(now / ms);
    const out: number[] = [];
    for (let i = cur - n + 1; i <= cur; i++) out.push(i);
    return out;
  }

  function parseZ(reply: unknown): Array<{ value: string; count: number }> {
    return parseZ2(reply).slice(0, TOP_LIMIT);
  }

  async function forKey(keyId: string): Promise<KeyMetrics | undefined> {
    const now = clock();
    const pipe = client.pipeline();
    pipe.hgetall(`${prefix}meta:${keyId}`);
    for (const w of METRICS_WINDOWS) {
      for (const s of slots(w, now, false)) pipe.hgetall(`${prefix}c:${w}:${s}:${keyId}`);
      const ss = slots(w, now, true);
      for (const tag of ['a', 'u', 'e']) {
        const keys = ss.map((s) => `${prefix}${tag}:${w}:${s}:${keyId}`);
        pipe.call('ZUNION', keys.length, ...keys, 'WITHSCORES');
        pipe.pfcount(...ss.map((s) => `${prefix}${tag}d:${w}:${s}:${keyId}`));
      }
    }
    const results = (await pipe.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
    const values = results.map(([, v]) => v);
    const info = values[0] as Record<string, string>;
    if (!info || !info['first']) return undefined;
    let i = 1;
    const windows = {} as Record<MetricsWindow, WindowMetrics>;
    for (const w of METRICS_WINDOWS) {
      const l = WINDOW_LAYOUT[w];
      const sum = new Map<string, number>();
      for (let k = 0; k < l.counterSlots; k++) {
        const h = (values[i++] as Record<string, string>) ?? {};
        for (const [f, v] of Object.entries(h)) sum.set(f, (sum.get(f) ?? 0) + Number(v));
      }
      const g = (f: string) => sum.get(f) ?? 0;
      const sketch = () => {
        const top = parseZ(values[i++]);
        const distinct = Number(values[i++] ?? 0);
        return { distinct, top };
      };
      const addresses = sketch();
      const userAgents = sketch();
      const endpoints = sketch();
      const refusals: Record<string, number> = {};
      for (const [f, n] of sum) if (f.startsWith('r:')) refusals[f.slice(2)] = n;
      const requests = g('requests');
      const e4 = g('s4'), e5 = g('s5');
      windows[w] = {
        window: w,
        from: new Date((Math.floor(now / l.counterSlotMs) - l.counterSlots + 1) * l.counterSlotMs).toISOString(),
        to: new Date(now).toISOString(),
        requests,
        completed: g('completed'),
        refused: g('refused'),
        status: { '1xx': g('s1'), '2xx': g('s2'), '3xx': g('s3'), '4xx': e4, '5xx': e5 },
        errors: { '4xx': e4, '5xx': e5, rate: requests === 0 ? 0 : Math.round(((e4 + e5) / requests) * 10_000) / 10_000 },
        auth: { succeeded: g('authOk'), failed: g('authFailed') },
        refusals,
        bytes: g('bytes'),
        latency: {
          count: g('latCount'),
          sumMs: Math.round(g('latSum') * 1000) / 1000,
          buckets: [...LATENCY_BUCKETS_MS, '+Inf' as const].map((le, b) => ({ le, count: g(`l${b}`) })),
        },
        addresses,
        userAgents,
        endpoints,
      };
    }
    return {
      keyId,
      ...(info['owner'] !== undefined ? { owner: info['owner'] } : {}),
      ...(info['plan'] !== undefined ? { plan: info['plan'] } : {}),
      firstSeen: new Date(Number(info['first'])).toISOString(),
      lastSeen: new Date(Number(info['last'])).toISOString(),
      windows,
    };
  }

  async function top(query?: TopQuery): Promise<TopKey[]> {
    const { by, window, limit } = parseTopQuery(query);
    if (!BY.includes(by)) throw new TypeError('keyward: "by" is not supported');
    const keys = slots(window, clock(), false).map((s) => `${prefix}k:${window}:${s}:${by}`);
    const pipe = client.pipeline();
    pipe.call('ZUNION', keys.length, ...keys, 'WITHSCORES');
    const [[err, reply]] = ((await pipe.exec()) ?? [[null, []]]) as Array<[Error | null, unknown]>;
    if (err) throw err;
    const rows = parseZ2(reply).slice(0, limit);
    if (rows.length === 0) return [];
    const metaPipe = client.pipeline();
    for (const r of rows) metaPipe.hgetall(`${prefix}meta:${r.value}`);
    const metas = (await metaPipe.exec()) ?? [];
    return rows.map((r, j) => {
      const owner = (metas[j]?.[1] as Record<string, string> | undefined)?.['owner'];
      return { keyId: r.value, ...(owner !== undefined ? { owner } : {}), value: r.count };
    });
  }

  function parseZ2(reply: unknown): Array<{ value: string; count: number }> {
    const arr = (reply as string[]) ?? [];
    const out: Array<{ value: string; count: number }> = [];
    for (let i = 0; i + 1 < arr.length; i += 2) out.push({ value: arr[i]!, count: Number(arr[i + 1]) });
    return out.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
  }

  return {
    record,
    flush,
    forKey,
    top,
    async close() {
      off?.();
      clearInterval(timer);
      await flush();
    },
  };
}
