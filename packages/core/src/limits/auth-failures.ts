import type { Feature, PipelineContext, StageResult } from '../pipeline/context';
import type { FeatureDeps } from '../features/deps';
import type { KeywardOptions } from '../config/options';
import { deny } from '../denials';
import { parseDuration } from '../util/duration';
import { addressBucket, parseSubnet } from './address-key';
import { guardStore, LocalTotal, plainTotal, type Guarded, type GuardedStore } from './guarded-store';
import { writeRateLimitHeaders, type PolicyState } from './headers';
import { fixedWindow } from './periods';
import { isMemoryLimiterStore, memoryLimiterStore, storeFromOption, syncCountersOf, type LimiterStore } from './store';
import type { AuthFailureOptions, RateLimitHeaderMode } from './types';
import { fieldsOf, optionObject } from '../config/fields';
import { parseStoreTimeout } from './config';

/** `authFailures` after parsing. Internal. */
export interface AuthFailureConfig {
  readonly max: number;
  readonly windowMs: number;
  readonly blockMs: number;
  readonly ipv6Subnet: number;
  readonly maxEntries: number;
}

/** The name of the block's policy in the RateLimit headers of an `AUTH_BLOCKED` answer. */
export const AUTH_BLOCK_POLICY = 'auth-failures';

const AUTH_FAILURE_FIELDS = fieldsOf<AuthFailureOptions>({ max: true, window: true, block: true, store: true, maxEntries: true, ipv6Subnet: true });

/**
 * Parses `authFailures` once. Never mutates the input.
 *
 * @throws TypeError naming the option for every mistake
 */
export function parseAuthFailures(options: AuthFailureOptions): AuthFailureConfig {
  optionObject(options, 'authFailures', AUTH_FAILURE_FIELDS);
  const max = options.max ?? 10;
  if (!Number.isSafeInteger(max) || max < 1) throw new TypeError('keyward: option "authFailures.max" must be a positive integer');
  const windowMs = parseDuration(options.window ?? '15m', 'authFailures.window');
  const blockMs = parseDuration(options.block ?? '15m', 'authFailures.block');
  if (windowMs < 1000) throw new TypeError('keyward: option "authFailures.window" must be at least 1 second');
  if (blockMs < 1000) throw new TypeError('keyward: option "authFailures.block" must be at least 1 second');
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new TypeError('keyward: option "authFailures.maxEntries" must be a positive integer');
  return { max, windowMs, blockMs, ipv6Subnet: parseSubnet(options.ipv6Subnet, 'authFailures.ipv6Subnet'), maxEntries };
}

/**
 * Failed-authentication counting for a request that does not go through the pipeline (the OAuth token endpoint):
 * the same counters, the same block and the same `auth.blocked` event as the pipeline's, so failures at either place
 * add up for an address. Such a request checks the block with the feature's own `preauth` stage, as the pipeline
 * does. Get it from an instance's features with {@link authFailureGuardOf}.
 */
export interface AuthFailureGuard {
  /**
   * Counts one failed authentication from the address (a wrong or unknown credential, never a missing one) and
   * starts the block when the count reaches `authFailures.max`. Resolves once counted; never rejects.
   */
  recordFailure(clientAddress: string | undefined, now: number, requestId: string): Promise<void>;
}

/** The `authFailures` feature, with the guard the token endpoint shares. */
export interface AuthFailuresFeature extends Feature {
  readonly guard: AuthFailureGuard;
}

/** The failed-auth guard of an instance's features, or `undefined` when `authFailures` is not configured. */
export function authFailureGuardOf(features: ReadonlyMap<string, Feature>): AuthFailureGuard | undefined {
  return (features.get('authFailures') as AuthFailuresFeature | undefined)?.guard;
}

/**
 * Failed-authentication blocking. Failures are counted per address bucket (IPv4 address, IPv6 subnet) in fixed
 * windows; each failure that brings the count to `max` or beyond writes a block entry holding its end time (Unix seconds), which the
 * `preauth` stage checks before any credential is read. A request without a credential is not a failure here. If the
 * store fails, counting falls back to memory, so blocking keeps working on this instance. The token endpoint runs the
 * same `preauth` stage and counts in the same counters through {@link AuthFailuresFeature.guard}.
 */
export function authFailuresFeature(options: KeywardOptions, deps: FeatureDeps): AuthFailuresFeature | undefined {
  if (options.authFailures === undefined) return undefined;
  const config = parseAuthFailures(options.authFailures);
  const { clock, events, challenge } = deps;
  const memory = () => memoryLimiterStore({ clock, maxEntries: config.maxEntries });
  const primary: LimiterStore = storeFromOption(options.authFailures.store, 'authFailures.store', memory);
  const inProcess = options.authFailures.store === undefined || isMemoryLimiterStore(primary);
  const local = inProcess ? undefined : memory();
  const localCounters = local ? syncCountersOf(local) : undefined;
  let lastReport = -Infinity;
  /** A `store.error` event at most once a second (as the limits report theirs): a store that is down fails every request. */
  function reportFailure(reason: 'STORE_TIMEOUT' | 'STORE_ERROR'): void {
    const now = clock();
    if (now - lastReport < 1000) return;
    lastReport = now;
    events.emit({ type: 'store.error', reason, data: { component: 'authFailures' } });
  }
  const store: GuardedStore = inProcess
    ? { increment: (k, a, t) => primary.increment(k, a, t), get: (k) => primary.get(k), refund: (k, a, t) => primary.increment(k, a, t) }
    : guardStore({ store: primary, policy: 'local', timeoutMs: parseStoreTimeout(options.limits?.storeTimeout), local: local!, onFailure: reportFailure });

  // The RateLimit headers of the other 429s (`limits.headers`, checked when `limits` is parsed); 'draft' without it.
  const headerMode: RateLimitHeaderMode = options.limits?.headers ?? 'draft';

  /** When a block entry ends (ms), or `undefined` when there is none or it is over at `now`. */
  function blockEnd(answer: Guarded, now: number): number | undefined {
    const until = plainTotal(answer);
    if (typeof until !== 'number' || until <= 0) return undefined;
    const endMs = Math.min(until * 1000, now + config.blockMs);
    return endMs > now ? endMs : undefined;
  }

  /** The memory store's counters, read at once; `undefined` for any other store, which is awaited. */
  const syncPrimary = inProcess ? syncCountersOf(primary) : undefined;

  /**
   * The `preauth` stage: refuses a blocked address. With the memory store it answers at once, so a request it lets
   * through costs no promise (every request passes here); any other store is awaited behind its timeout.
   */
  function blocked(ctx: PipelineContext): StageResult | Promise<StageResult> {
    const bucket = addressBucket(ctx.clientAddress, config.ipv6Subnet);
    if (bucket === undefined) return undefined;
    const key = `ab:${bucket}`;
    if (syncPrimary !== undefined) {
      const endMs = blockEnd(syncPrimary.get(key), ctx.now);
      return endMs === undefined ? undefined : refusal(ctx, endMs);
    }
    return store.get(key).then((answer) => {
      // A block written while the store was away is in the local fallback: it still holds once the store is back.
      const endMs = blockEnd(answer, ctx.now) ?? (localCounters ? blockEnd(localCounters.get(key), ctx.now) : undefined);
      return endMs === undefined ? undefined : refusal(ctx, endMs);
    });
  }

  /**
   * The 429 of a blocked address: `Retry-After` the seconds left of the block (at least 1 while it lasts), and the
   * block as its own policy in the RateLimit headers the other 429s send (`limits.headers`): the failures allowed in
   * the window, none remaining, reset when the block ends.
   */
  function refusal(ctx: PipelineContext, endMs: number): StageResult {
    const headers = { ...ctx.headers, 'Retry-After': String(Math.max(1, Math.ceil((endMs - ctx.now) / 1000))) };
    const policy: PolicyState = { name: AUTH_BLOCK_POLICY, limit: config.max, windowSeconds: Math.round(config.windowMs / 1000), remaining: 0, resetAt: endMs, unit: 'request' };
    writeRateLimitHeaders(headers, [policy], headerMode, ctx.now);
    return deny('AUTH_BLOCKED', ctx.requestId, challenge, { detail: 'Too many failed authentication attempts from this address; try again later.', headers });
  }

  /** Counts one failure; the returned promise settles once the count (and any block entry) is written. */
  function count(clientAddress: string | undefined, now: number, requestId: string): Promise<void> {
    const bucket = addressBucket(clientAddress, config.ipv6Subnet);
    if (bucket === undefined) return Promise.resolve();
    const w = fixedWindow(now, config.windowMs);
    return store.increment(`af:${bucket}:${w.start}`, 1, w.end - now).then((answer) => {
      const n = plainTotal(answer);
      // Every failure from `max` on starts a block: one shorter than the window ends while the count stays at or
      // above `max`, and the next failure must block again (comparing with `max` alone let the rest of the window go).
      if (typeof n !== 'number' || n < config.max) return undefined;
      const untilSeconds = Math.ceil((now + config.blockMs) / 1000);
      events.emit({
        type: 'auth.blocked',
        requestId,
        ...(clientAddress !== undefined ? { clientAddress } : {}),
        reason: 'AUTH_FAILURES',
        data: { bucket, failures: n, windowSeconds: Math.round(config.windowMs / 1000), blockSeconds: Math.round(config.blockMs / 1000), until: new Date(untilSeconds * 1000).toISOString() },
      });
      return block(`ab:${bucket}`, untilSeconds, now);
    });
  }

  /**
   * Writes a block entry ending at `untilSeconds`. A store only adds, so the entry holds whatever was there plus this
   * end, and one more call sets it right: an earlier block that still runs (or several ends written at once, whose sum
   * lies far ahead) stands and this share is taken back, so failures reaching `max` together start one block whose
   * `Retry-After` counts down; an entry that held a block already over (a store counting its time-to-live in whole
   * seconds keeps it up to a second longer) or a value below zero (a share given back after its entry ended) is
   * replaced by this block, so neither keeps a block from starting.
   */
  function block(key: string, untilSeconds: number, now: number): Promise<void> {
    return store.increment(key, untilSeconds, config.blockMs).then((written) => {
      const total = plainTotal(written);
      if (typeof total !== 'number') return undefined;
      const before = total - untilSeconds;
      if (before === 0) return undefined;
      const correction = before * 1000 > now ? -untilSeconds : -before;
      return store.refund(key, correction, config.blockMs, written instanceof LocalTotal).then(() => undefined);
    });
  }

  /** Counts a failure; the 401 waits for a remote store's count (see `Feature.onAuthFailure`), never for memory's. */
  function onAuthFailure(ctx: PipelineContext, code: string): Promise<void> | undefined {
    if (code === 'CREDENTIALS_MISSING') return undefined;
    const counted = count(ctx.clientAddress, ctx.now, ctx.requestId).catch(() => undefined);
    return inProcess ? undefined : counted;
  }

  const guard: AuthFailureGuard = {
    recordFailure: (clientAddress, now, requestId) => count(clientAddress, now, requestId).catch(() => undefined),
  };

  return {
    name: 'authFailures',
    stages: { preauth: blocked },
    onAuthFailure,
    guard,
    async close() {
      if (options.authFailures?.store === undefined) await primary.close?.();
      await local?.close?.();
    },
  };
}
