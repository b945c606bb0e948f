import type { Feature, PipelineContext, StageResult } from '../pipeline/context';
import type { FeatureDeps } from '../features/deps';
import type { KeywardOptions } from '../config/options';
import { deny } from '../denials';
import type { DenyDecision } from '../model';
import { isPromise, type Maybe } from '../util/maybe';
import { parseDuration } from '../util/duration';
import { addressBucket, parseSubnet } from './address-key';
import { guardStore, LocalTotal, plainTotal, type Guarded } from './guarded-store';
import { AUTH_BLOCK_POLICY, writeRateLimitHeaders, type PolicyState } from './headers';
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

/** How many recent blocks an instance remembers for the requests in flight when they started. */
const RECENT_BLOCKS = 1024;

/** The counters the feature uses: answered at once (the memory store) or promised (any other store, guarded). */
interface Counters {
  increment(key: string, amount: number, ttlMs: number): Maybe<Guarded>;
  get(key: string): Maybe<Guarded>;
  /** Gives back a charge to the store that counted it (`local`: the in-memory fallback). */
  refund(key: string, amount: number, ttlMs: number, local: boolean): Maybe<unknown>;
}

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
   * Counts one failed authentication from the request's address (a wrong or unknown credential, never a missing one)
   * and starts the block when the count reaches `authFailures.max`. Resolves once counted, with the `AUTH_BLOCKED`
   * refusal to answer instead when a block started while the request was in flight (see
   * {@link AuthFailuresFeature}); never rejects.
   */
  recordFailure(ctx: PipelineContext): Promise<DenyDecision | undefined>;
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
 * windows; each failure that brings the count to `max` or beyond writes a block entry holding its end time (Unix
 * seconds), which the `preauth` stage checks before any credential is read. Requests sent at once (pipelined on one
 * connection, or in parallel) all pass that check before any of them is counted, so a request in flight when the
 * block starts is answered by the block too: a failure counted beyond `max` while a block is in force answers
 * `AUTH_BLOCKED` instead of its 401, and the `postauth` stage refuses a valid credential whose address this instance
 * blocked after the request started (a number compared, for any other request). Otherwise every guess of a burst got
 * its answer. A request without a credential is not a failure here. If the store fails, counting falls back to
 * memory, so blocking keeps working on this instance. The token endpoint runs the same stages and counts in the same
 * counters through {@link AuthFailuresFeature.guard}.
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
  // The memory store is read and counted at once (a request it lets through costs no promise, and counts land in the
  // order failures happen); any other store is awaited behind its timeout, with the in-memory fallback.
  const sync = inProcess ? syncCountersOf(primary) : undefined;
  const store: Counters = sync
    ? { increment: sync.increment, get: sync.get, refund: (k, a, t) => sync.increment(k, a, t) }
    : inProcess
      ? { increment: (k, a, t) => primary.increment(k, a, t), get: (k) => primary.get(k), refund: (k, a, t) => primary.increment(k, a, t) }
      : guardStore({ store: primary, policy: 'local', timeoutMs: parseStoreTimeout(options.limits?.storeTimeout), local: local!, onFailure: reportFailure });
  /** When this instance last wrote a block (clock ms, once written): a request started before it is checked again. */
  let lastBlockAt = -Infinity;
  /**
   * The blocks this instance wrote lately, by bucket: when each was written and when it ends. A request in flight
   * meanwhile is refused from here, without reading the store again. At most {@link RECENT_BLOCKS}, oldest dropped.
   */
  const recent = new Map<string, { readonly at: number; readonly endMs: number }>();

  function remember(bucket: string, endMs: number): void {
    const at = clock();
    recent.delete(bucket);
    if (recent.size >= RECENT_BLOCKS) recent.delete(recent.keys().next().value!);
    recent.set(bucket, { at, endMs });
    if (at > lastBlockAt) lastBlockAt = at;
  }

  // The RateLimit headers of the other 429s (`limits.headers`, checked when `limits` is parsed); 'draft' without it.
  const headerMode: RateLimitHeaderMode = options.limits?.headers ?? 'draft';

  /** When a block entry ends (ms), or `undefined` when there is none or it is over at `now`. */
  function blockEnd(answer: Guarded, now: number): number | undefined {
    const until = plainTotal(answer);
    if (typeof until !== 'number' || until <= 0) return undefined;
    const endMs = Math.min(until * 1000, now + config.blockMs);
    return endMs > now ? endMs : undefined;
  }

  /** The `preauth` stage: refuses a blocked address (at once with the memory store: no promise for any request). */
  function blocked(ctx: PipelineContext): StageResult | Promise<StageResult> {
    const bucket = addressBucket(ctx.clientAddress, config.ipv6Subnet);
    if (bucket === undefined) return undefined;
    const key = `ab:${bucket}`;
    const answer = store.get(key);
    return isPromise(answer) ? Promise.resolve(answer).then((a) => verdict(ctx, key, a)) : verdict(ctx, key, answer);
  }

  function verdict(ctx: PipelineContext, key: string, answer: Guarded): StageResult {
    // A block written while the store was away is in the local fallback: it still holds once the store is back.
    const endMs = blockEnd(answer, ctx.now) ?? (localCounters ? blockEnd(localCounters.get(key), ctx.now) : undefined);
    return endMs === undefined ? undefined : refusal(ctx, endMs);
  }

  /**
   * The `postauth` stage: a valid credential from an address this instance blocked after the request started (while
   * its credential was being checked) is refused as the block check would refuse it now. Any other request costs one
   * comparison, and none reads the store.
   */
  function blockedSince(ctx: PipelineContext): StageResult {
    if (lastBlockAt < ctx.now) return undefined;
    const bucket = addressBucket(ctx.clientAddress, config.ipv6Subnet);
    const b = bucket === undefined ? undefined : recent.get(bucket);
    return b !== undefined && b.at >= ctx.now && b.endMs > ctx.now ? refusal(ctx, b.endMs) : undefined;
  }

  /**
   * The 429 of a blocked address: `Retry-After` the seconds left of the block (at least 1 while it lasts), and the
   * block as its own policy in the RateLimit headers the other 429s send (`limits.headers`): the failures allowed in
   * the window, none remaining, reset when the block ends.
   */
  function refusal(ctx: PipelineContext, endMs: number): DenyDecision {
    const headers = { ...ctx.headers, 'Retry-After': String(Math.max(1, Math.ceil((endMs - ctx.now) / 1000))) };
    const policy: PolicyState = { name: AUTH_BLOCK_POLICY, limit: config.max, windowSeconds: Math.round(config.windowMs / 1000), remaining: 0, resetAt: endMs, unit: 'request' };
    writeRateLimitHeaders(headers, [policy], headerMode, ctx.now);
    return deny('AUTH_BLOCKED', ctx.requestId, challenge, { detail: 'Too many failed authentication attempts from this address; try again later.', headers });
  }

  /**
   * Counts one failure of `ctx`'s address: `undefined` once counted, or the block's refusal when a block was in force
   * when it was counted (the request was in flight when it started). At once with the memory store.
   */
  function count(ctx: PipelineContext): Maybe<DenyDecision | undefined> {
    const bucket = addressBucket(ctx.clientAddress, config.ipv6Subnet);
    if (bucket === undefined) return undefined;
    const w = fixedWindow(ctx.now, config.windowMs);
    const answer = store.increment(`af:${bucket}:${w.start}`, 1, w.end - ctx.now);
    return isPromise(answer) ? Promise.resolve(answer).then((a) => counted(ctx, bucket, a)) : counted(ctx, bucket, answer);
  }

  function counted(ctx: PipelineContext, bucket: string, answer: Guarded): Maybe<DenyDecision | undefined> {
    const n = plainTotal(answer);
    // Every failure from `max` on starts a block: one shorter than the window ends while the count stays at or
    // above `max`, and the next failure must block again (comparing with `max` alone let the rest of the window go).
    if (typeof n !== 'number' || n < config.max) return undefined;
    const untilSeconds = Math.ceil((ctx.now + config.blockMs) / 1000);
    const written = block(`ab:${bucket}`, untilSeconds, ctx.now);
    return isPromise(written) ? Promise.resolve(written).then((e) => started(ctx, bucket, n, untilSeconds, e)) : started(ctx, bucket, n, untilSeconds, written);
  }

  /** After a block write: the refusal when an earlier block was in force, else the `auth.blocked` event of this one. */
  function started(ctx: PipelineContext, bucket: string, failures: number, untilSeconds: number, earlier: number | undefined): DenyDecision | undefined {
    const endMs = Math.min((earlier ?? untilSeconds) * 1000, ctx.now + config.blockMs);
    remember(bucket, endMs);
    if (earlier !== undefined) return refusal(ctx, endMs);
    events.emit({
      type: 'auth.blocked',
      requestId: ctx.requestId,
      ...(ctx.clientAddress !== undefined ? { clientAddress: ctx.clientAddress } : {}),
      reason: 'AUTH_FAILURES',
      data: { bucket, failures, windowSeconds: Math.round(config.windowMs / 1000), blockSeconds: Math.round(config.blockMs / 1000), until: new Date(untilSeconds * 1000).toISOString() },
    });
    return undefined;
  }

  /**
   * Writes a block entry ending at `untilSeconds`, and yields the end of an earlier block still in force (this one is
   * then dropped), else `undefined`. A store only adds, so the entry holds whatever was there plus this end, and one
   * more call sets it right: an earlier block that still runs (or several ends written at once, whose sum lies far
   * ahead) stands and this share is taken back, so failures reaching `max` together start one block whose
   * `Retry-After` counts down; an entry that held a block already over (a store counting its time-to-live in whole
   * seconds keeps it up to a second longer) or a value below zero (a share given back after its entry ended) is
   * replaced by this block, so neither keeps a block from starting.
   */
  function block(key: string, untilSeconds: number, now: number): Maybe<number | undefined> {
    const written = store.increment(key, untilSeconds, config.blockMs);
    return isPromise(written) ? Promise.resolve(written).then((w) => corrected(key, untilSeconds, now, w)) : corrected(key, untilSeconds, now, written);
  }

  function corrected(key: string, untilSeconds: number, now: number, written: Guarded): Maybe<number | undefined> {
    const total = plainTotal(written);
    if (typeof total !== 'number') return undefined;
    const before = total - untilSeconds;
    if (before === 0) return undefined;
    const running = before * 1000 > now;
    const done = store.refund(key, running ? -untilSeconds : -before, config.blockMs, written instanceof LocalTotal);
    // Several ends written at once sum far ahead: the block in force ends no later than a block started now.
    const earlier = running ? before : undefined;
    return isPromise(done) ? Promise.resolve(done).then(() => earlier) : earlier;
  }

  /**
   * Counts a failure (see `Feature.onAuthFailure`): with the memory store at once, else the 401 waits for the remote
   * store's count, so the next request from the address sees it. A block in force when it is counted answers instead.
   */
  function onAuthFailure(ctx: PipelineContext, code: string): Maybe<DenyDecision | undefined> {
    if (code === 'CREDENTIALS_MISSING') return undefined;
    const r = count(ctx);
    return isPromise(r) ? Promise.resolve(r).catch(() => undefined) : r;
  }

  const guard: AuthFailureGuard = {
    recordFailure: (ctx) => Promise.resolve(count(ctx)).catch(() => undefined),
  };

  return {
    name: 'authFailures',
    stages: { preauth: blocked, postauth: blockedSince },
    onAuthFailure,
    guard,
    async close() {
      if (options.authFailures?.store === undefined) await primary.close?.();
      await local?.close?.();
    },
  };
}
