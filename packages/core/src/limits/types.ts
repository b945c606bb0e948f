import type { Principal } from '../model';
import type { LimiterStore, RedisLikeClient } from './store';

/**
 * One key's override of a named rate limit or quota, stored in the key record (`record.limits`). Only the fields
 * given replace the plan's values; `false` switches the named limit off for that key.
 *
 * @example
 * ```ts
 * await kw.keys.create({ owner: 'acme', plan: 'pro', limits: { burst: { points: 500 }, monthly: { requests: 2_000_000 } } });
 * ```
 */
export interface LimitOverride {
  /** Rate limits: points per window (0 blocks). */
  readonly points?: number;
  /** Rate limits: the window, in ms or a duration such as `'10s'`. */
  readonly window?: number | string;
  /** Request quotas: requests per period (0 blocks). */
  readonly requests?: number;
  /** Byte quotas: response bytes per period (0 blocks). */
  readonly bytes?: number;
}

/**
 * Per-key overrides of named rate limits and quotas (e.g. `{ burst: { points: 500 } }`). Invalid fields found in a
 * stored record are ignored (with one warning), never trusted.
 */
export interface KeyLimitOverrides {
  readonly [name: string]: LimitOverride | false;
}

/** What a custom bucket function sees. */
export interface LimitKeyContext {
  /** The authenticated caller (absent in limits that run before authentication). */
  readonly principal: Principal | undefined;
  /** The resolved client address. */
  readonly clientAddress: string | undefined;
  /** Method and path of the request. */
  readonly method: string;
  readonly path: string;
}

/**
 * What a limit counts per: the key (`principal.id`; a token's with its `issuer` when several issuers are trusted), the
 * owner (all the owner's keys share one bucket; a token's owner is its issuer's, alike), the client
 * address (IPv4 address or IPv6 subnet; a NAT64 address per IPv4 client, see `addressBucket`), or a function returning a bucket name (`undefined` skips the limit). The
 * function must answer synchronously: any other value than a string, a finite number, `undefined` or `null` (an
 * async function's promise, an object) makes the request fail with a `KeywardError` `INVALID_OPTIONS` rather than
 * switch the limit off.
 */
export type LimitBy = 'key' | 'owner' | 'address' | ((ctx: LimitKeyContext) => string | undefined);

/** A named rate limit: at most `points` per `window` (fixed windows aligned to the epoch). */
export interface RateLimitRule {
  /** Points per window; each request costs `requirements.cost` (default 1). 0 blocks every request. */
  readonly points: number;
  /** Window length in ms or a duration (`'10s'`, `'1m'`, `'1d'`). */
  readonly window: number | string;
  /** What the limit counts per (default `'key'`). */
  readonly by?: LimitBy;
  /**
   * Run before authentication (only with `by: 'address'`): counts every request from an address, credential or
   * not. Such limits belong to `limits.rules` (plans are unknown before authentication).
   */
  readonly beforeAuth?: boolean;
}

/** A quota period. */
export type QuotaPeriod = 'hour' | 'day' | 'week' | 'month';

/**
 * A named quota: requests or response bytes per calendar period, refilled at the period's start in `timeZone`.
 * Give exactly one of `requests` and `bytes`.
 */
export interface QuotaRule {
  /** Requests per period (each allowed request counts 1, whatever its cost). */
  readonly requests?: number;
  /** Response body bytes per period, counted when the response finished. */
  readonly bytes?: number;
  readonly period: QuotaPeriod;
  /**
   * Where the period starts: for `week` the weekday 0–6 (0 = Sunday, default 1 = Monday); for `month` the day of
   * the month 1–31 (default 1; in a month without that day, its last day: the 31st starts on Feb 28 or 29, Apr 30).
   * Not allowed for `hour` and `day` (a start-up `TypeError`: it would change nothing).
   */
  readonly day?: number;
  /** IANA time zone of the period boundaries (default `'UTC'`). */
  readonly timeZone?: string;
  /** What the quota counts per (default `'key'`). */
  readonly by?: LimitBy;
}

/** A plan tier: its own rate limits and quotas, replacing the shared ones of the same name (`false` removes one). */
export interface PlanDefinition {
  readonly limits?: Readonly<Record<string, RateLimitRule | false>>;
  readonly quotas?: Readonly<Record<string, QuotaRule | false>>;
}

/** Which rate-limit headers go out. */
export type RateLimitHeaderMode = 'draft' | 'legacy' | 'both' | false;

/** What happens when the limiter store fails or does not answer within `storeTimeout`. */
export type StoreFailurePolicy = 'deny' | 'allow' | 'local';

/** Where counters live: a {@link LimiterStore}, or an ioredis client (counting is atomic in Redis). */
export type LimiterStoreOption = LimiterStore | { readonly redis: RedisLikeClient; readonly prefix?: string };

/**
 * Options of rate limits, plans and quotas (`limits` in {@link KeywardOptions}).
 *
 * @example
 * ```ts
 * createKeyward({
 *   limits: {
 *     rules: { burst: { points: 100, window: '10s' } },
 *     plans: {
 *       free: { limits: { daily: { points: 10_000, window: '1d' } }, quotas: { monthly: { requests: 100_000, period: 'month' } } },
 *       pro: { limits: { burst: { points: 1000, window: '10s' } } },
 *     },
 *     defaultPlan: 'free',
 *   },
 * });
 * ```
 */
export interface LimitsOptions {
  /** Rate limits applied to every caller (a plan's limit of the same name replaces one). */
  readonly rules?: Readonly<Record<string, RateLimitRule>>;
  /** Quotas applied to every caller (a plan's quota of the same name replaces one). */
  readonly quotas?: Readonly<Record<string, QuotaRule>>;
  /** Plan tiers by name; the principal's `plan` selects one. */
  readonly plans?: Readonly<Record<string, PlanDefinition>>;
  /** The plan of callers without one, or with a plan that is not configured. */
  readonly defaultPlan?: string;
  /** Counter store (default: in memory, bounded by `maxEntries`). */
  readonly store?: LimiterStoreOption;
  /** Policy when the store fails or times out (default `'deny'`). */
  readonly storeFailure?: StoreFailurePolicy;
  /** Longest wait for the store, in ms or a duration (default `'250ms'`, 1 ms to 1 min); it bounds the `authFailures` store's calls too. */
  readonly storeTimeout?: number | string;
  /** `'draft'` (RateLimit-Policy / RateLimit, default), `'legacy'` (X-RateLimit-*), `'both'` or `false`. */
  readonly headers?: RateLimitHeaderMode;
  /** Prefix length of the IPv6 subnet one address bucket covers (default 56). */
  readonly ipv6Subnet?: number;
  /** Most counters the in-memory store keeps, least recently used evicted first (default 100,000). */
  readonly maxEntries?: number;
}

/**
 * Failed-authentication blocking (`authFailures` in {@link KeywardOptions}): `max` authentication failures from one
 * address (IPv4) or subnet (IPv6) within `window` block it for `block`, with 429 `AUTH_BLOCKED`, before any credential
 * work. A request without any credential is not counted.
 */
export interface AuthFailureOptions {
  /** Failures allowed within the window (default 10). */
  readonly max?: number;
  /** Counting window (default `'15m'`). */
  readonly window?: number | string;
  /** How long an address stays blocked (default `'15m'`). */
  readonly block?: number | string;
  /** IPv6 prefix length counted as one client (default 56). */
  readonly ipv6Subnet?: number;
  /**
   * Counter store (default: in memory). Its calls wait at most `limits.storeTimeout`; when it fails, failures are
   * counted and blocks kept in memory on this instance.
   */
  readonly store?: LimiterStoreOption;
  /** Most counters the in-memory store keeps (default 100,000). */
  readonly maxEntries?: number;
}

/**
 * Adaptive throttling (`loadShedding` in {@link KeywardOptions}). With plans listed lowest first, the plan at
 * position `i` is shed while the load is above `maxEventLoopDelay × (i + 1)`; callers with no plan or an unlisted
 * one count as position 0 (shed first).
 */
export interface LoadSheddingOptions {
  /** Event-loop delay (ms or duration) above which the lowest plan is shed (default `'100ms'`). */
  readonly maxEventLoopDelay?: number | string;
  /** Plans from lowest to highest priority (default: none, everyone is shed at the threshold). */
  readonly planPriority?: readonly string[];
  /** `Retry-After` of a 503 (default `'5s'`). */
  readonly retryAfter?: number | string;
  /** How often the event-loop delay is sampled (default `'500ms'`). */
  readonly sampleInterval?: number | string;
  /** The load signal in ms of delay (default: the p99 event-loop delay over the last sample interval). Inject in tests. */
  readonly signal?: () => number;
}

/** The options this capability adds to `createKeyward`. */
export interface LimitsFeatureOptions {
  /** Rate limits, plans and quotas. */
  limits?: LimitsOptions;
  /** Failed-authentication blocking. */
  authFailures?: AuthFailureOptions;
  /** Adaptive throttling under load. */
  loadShedding?: LoadSheddingOptions;
}
