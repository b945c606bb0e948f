import { createHash } from 'node:crypto';
import type { Feature, PipelineContext, StageResult } from '../pipeline/context';
import type { DenyDecision } from '../model';
import type { FeatureDeps } from '../features/deps';
import type { KeywardOptions } from '../config/options';
import { deny } from '../denials';
import { KeywardError } from '../errors';
import { addressBucket } from './address-key';
import { applyOverrides, parseLimits, type CompiledPlan, type CompiledQuota, type CompiledRule, type LimitsConfig } from './config';
import { guardStore, plainTotal, type Guarded } from './guarded-store';
import { secondsUntil, writeRateLimitHeaders, type PolicyState } from './headers';
import { andThen, collect, counted, Outcome, type Checked } from './outcome';
import { isPromise, type Maybe } from '../util/maybe';
import { calendarWindow, fixedWindow } from './periods';
import { isMemoryLimiterStore, memoryLimiterStore, storeFromOption, syncCountersOf, type LimiterStore } from './store';
import type { LimitBy, LimitKeyContext } from './types';
import { issuerQualifier, type IssuerQualifier } from '../tokens/issuer-names';

/** The IANA problem type of an exhausted quota (draft-ietf-httpapi-ratelimit-headers). */
export const QUOTA_EXCEEDED_TYPE = 'https://iana.org/assignments/http-problem-types#quota-exceeded';

const STATES = Symbol('keyward.limits.states');
const NO_STATES: readonly PolicyState[] = [];
const NO_OP = (): void => {};

/**
 * The counters as the feature uses them: the memory store's answer at once, a guarded store's as a promise (its
 * timeout and failure policy already applied).
 */
interface Counters {
  increment(key: string, amount: number, ttlMs: number): Maybe<Guarded>;
  get(key: string): Maybe<Guarded>;
}

/**
 * The state of a policy after the refund of a refused request: a refused request uses up nothing, so what is left is
 * what was left before it, also on the limit it violated (a cost of 6 refused with 4 points left leaves 4, not 0).
 */
function refunded(o: Outcome): PolicyState {
  if (o.charge === undefined) return o;
  const remaining = Math.max(0, Math.min(o.limit, o.limit - (o.used - o.charge)));
  return { name: o.name, limit: o.limit, windowSeconds: o.windowSeconds, remaining, resetAt: o.resetAt, unit: o.unit };
}

function anyViolated(outcomes: readonly Outcome[]): boolean {
  for (const o of outcomes) if (o.violated) return true;
  return false;
}

/**
 * The bucket of a request for a limit keyed `by`. With a key record — an API key, or a token keyward exchanged for
 * one, which carries its key's record — the key and owner buckets are the key's: a key and the tokens exchanged from
 * it count together (`k:key:<key id>`, the name an API key's bucket always had). Other principals count on their own:
 * a token by its `sub` (`k:token:<sub>`) and owner (`o:<owner>`), qualified by its issuer where `qualify` says so
 * (`k:token@"<iss>":<sub>`, `o@"<iss>":<owner>`: several trusted issuers, each with a `user-1` of its own).
 */
function bucketKey(by: LimitBy, ctx: PipelineContext, ipv6Subnet: number, name: string, qualify: IssuerQualifier | undefined): string | undefined {
  const p = ctx.principal;
  const record = ctx.record;
  let v: string | undefined;
  switch (by) {
    case 'key': {
      const q = record === undefined && qualify !== undefined && p?.type === 'token' ? qualify(p.issuer) : undefined;
      v = record ? `k:key:${record.id}` : p ? (q === undefined ? `k:${p.type}:${p.id}` : `k:token${q}${p.id}`) : undefined;
      break;
    }
    case 'owner': {
      const q = record === undefined && qualify !== undefined && p?.type === 'token' ? qualify(p.issuer) : undefined;
      v = record ? `o:${record.owner}` : p ? (q === undefined ? `o:${p.owner ?? p.id}` : `o${q}${p.owner ?? p.id}`) : undefined;
      break;
    }
    case 'address': {
      const a = addressBucket(ctx.clientAddress, ipv6Subnet);
      v = a === undefined ? undefined : `a:${a}`;
      break;
    }
    default: {
      const kctx: LimitKeyContext = { principal: p, clientAddress: ctx.clientAddress, method: ctx.request.method, path: ctx.request.path };
      const r: unknown = by(kctx);
      if (typeof r === 'string') v = r.length > 0 ? `f:${r}` : undefined;
      else if (typeof r === 'number' && Number.isFinite(r)) v = `f:${r}`;
      // Anything else (a promise from an async function, an object) would silently switch the limit off: fail loudly.
      else if (r !== undefined && r !== null) {
        if (isPromise(r)) r.then(NO_OP, NO_OP); // its rejection is not an unhandled one on top
        throw new KeywardError('INVALID_OPTIONS', `keyward: the "by" function of limit "${name}" returned ${isPromise(r) ? 'a promise' : typeof r === 'object' ? 'an object' : `a ${typeof r}`}; it must return a bucket name (a string) or undefined, synchronously`);
      }
    }
  }
  // Bound the size of what callers influence (a long token subject, a custom bucket) without losing identity.
  if (v !== undefined && v.length > 160) v = `h:${createHash('sha256').update(v).digest('base64url')}`;
  return v;
}

/**
 * The points a request costs: its `cost` rounded up (default 1). A mount checks its `cost` at start-up; one given to
 * `check()` is checked here, where it is used: counted as 1, an `Infinity` (a request that can never pass) or a `NaN`
 * (computed from a missing value) would pass as a cheap request.
 *
 * @throws TypeError naming `cost` when it is not a non-negative finite number
 */
function costOf(cost: unknown): number {
  if (cost === undefined) return 1;
  if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) throw new TypeError('keyward: "cost" must be a non-negative finite number');
  return Math.ceil(cost);
}

/**
 * Chooses the plan of a request: the key record's when there is one (an API key, or a token exchanged for one: the
 * key's plan as it is now), else the principal's; else the default plan, else the shared limits. The record's limit
 * overrides then apply.
 */
export function planOf(config: LimitsConfig, ctx: PipelineContext): CompiledPlan {
  const record = ctx.record;
  const name = record ? record.plan : ctx.principal?.plan;
  let plan = name !== undefined ? config.plans.get(name) : undefined;
  if (!plan) plan = config.defaultPlan !== undefined ? config.plans.get(config.defaultPlan)! : config.base;
  return record?.limits !== undefined ? applyOverrides(plan, record.limits) : plan;
}

/**
 * True when no request like this one can ever pass the limit, however long it waits: a limit of 0, or a cost above the
 * limit (charged as the limit + 1, see `rate`).
 */
function neverPasses(o: Outcome): boolean {
  return o.limit === 0 || (o.charge !== undefined && o.charge > o.limit);
}

/** Why a request can never pass `o` ({@link neverPasses}), for the problem's detail. */
function neverDetail(o: Outcome, cost: number): string {
  if (o.limit === 0) return `"${o.name}" allows no ${o.unit === 'content-bytes' ? 'response bytes' : 'request'}: it can never pass.`;
  return `This request costs ${cost}, more than "${o.name}" allows in a window (${o.limit}): it can never pass.`;
}

/** A limit of 0: it refuses every request without reading a counter. */
function blocked(name: string, windowSeconds: number, resetAt: number, unit: 'request' | 'content-bytes'): Outcome {
  const o = new Outcome(name, 0, windowSeconds, resetAt, unit, '', undefined, 0);
  o.violated = true;
  return o;
}

/**
 * The rate-limits feature: named limits, plans, per-key overrides, request and byte quotas, the RateLimit headers and
 * the store failure policy. Address limits marked `beforeAuth` run in the `preauth` phase; everything else in
 * `limits`, after authentication, so a bogus credential never gets a bucket of its own.
 *
 * With the memory store (the default) both stages answer synchronously: a request they allow or refuse costs no
 * promise. With any other store they answer with a promise, waiting for the store behind its timeout and failure
 * policy.
 */
export function limitsFeature(options: KeywardOptions, deps: FeatureDeps): Feature | undefined {
  if (options.limits === undefined) return undefined;
  const config = parseLimits(options.limits);
  const { clock, events, challenge } = deps;
  // Several trusted issuers: their tokens' key and owner buckets are their issuer's (a `sub` is unique only per issuer).
  const qualify = issuerQualifier(options.tokens);
  const memory = () => memoryLimiterStore({ clock, maxEntries: config.maxEntries });
  const primary: LimiterStore = storeFromOption(options.limits.store, 'limits.store', memory);
  const inProcess = options.limits.store === undefined || isMemoryLimiterStore(primary);
  const local = config.storeFailure === 'local' && !inProcess ? memory() : undefined;
  let lastReport = 0;
  const guarded = inProcess
    ? undefined
    : guardStore({
        store: primary,
        policy: config.storeFailure,
        timeoutMs: config.storeTimeoutMs,
        local: local ?? primary,
        onFailure(reason) {
          const now = clock();
          if (now - lastReport < 1000) return;
          lastReport = now;
          events.emit({ type: 'store.error', reason, data: { component: 'limits', policy: config.storeFailure } });
        },
      });
  const store: Counters = guarded ?? syncCountersOf(primary) ?? { increment: (k, a, t) => primary.increment(k, a, t), get: (k) => primary.get(k) };

  function rate(rule: CompiledRule, ctx: PipelineContext, cost: number): Maybe<Checked> {
    const bucket = bucketKey(rule.by, ctx, config.ipv6Subnet, rule.name, qualify);
    if (bucket === undefined) return undefined;
    const w = fixedWindow(ctx.now, rule.windowMs);
    const windowSeconds = Math.round(rule.windowMs / 1000);
    if (rule.points === 0) return blocked(rule.name, windowSeconds, w.end, 'request');
    const key = `r:${rule.name}:${rule.windowMs}:${bucket}:${w.start}`;
    const ttlMs = w.end - ctx.now;
    // A cost above the limit can never pass: charging points + 1 refuses it alike, and keeps the counter and its
    // refund exact (5 + 1e17 - 1e17 is 0 in floating point: the count was lost) and within Redis's INCRBY range.
    const charge = Math.min(cost, rule.points + 1);
    return andThen(store.increment(key, charge, ttlMs), counted, new Outcome(rule.name, rule.points, windowSeconds, w.end, 'request', key, charge, ttlMs));
  }

  function quota(q: CompiledQuota, ctx: PipelineContext): Maybe<Checked> {
    const bucket = bucketKey(q.by, ctx, config.ipv6Subnet, q.name, qualify);
    if (bucket === undefined) return undefined;
    const w = calendarWindow(ctx.now, q.period, q.day, q.timeZone);
    const windowSeconds = Math.round((w.end - w.start) / 1000);
    const unit = q.unit === 'bytes' ? 'content-bytes' : 'request';
    if (q.limit === 0) return blocked(q.name, windowSeconds, w.end, unit);
    const key = `q:${q.name}:${q.unit}:${q.period}:${bucket}:${w.start}`;
    const ttlMs = w.end - ctx.now;
    if (q.unit === 'bytes') return andThen(store.get(key), usedBytes, new Outcome(q.name, q.limit, windowSeconds, w.end, unit, key, undefined, ttlMs), ctx);
    return andThen(store.increment(key, 1, ttlMs), counted, new Outcome(q.name, q.limit, windowSeconds, w.end, unit, key, 1, ttlMs));
  }

  /** Completes a byte quota from the bytes used so far; while some are left, the finished response is counted. */
  function usedBytes(answer: Guarded, o: Outcome, ctx: PipelineContext): Checked {
    const used = plainTotal(answer);
    if (typeof used !== 'number') return used;
    o.remaining = Math.max(0, o.limit - used);
    o.violated = used >= o.limit;
    if (!o.violated) countBytes(ctx, o.counter, o.resetAt);
    return o;
  }

  function countBytes(ctx: PipelineContext, key: string, end: number): void {
    ctx.onDone.push((c) => {
      if (c.bytes > 0) void store.increment(key, c.bytes, Math.max(1, end - clock()));
    });
  }

  /** Gives back every charge of a refused request; a promise only when the store has to be waited for. */
  function refund(outcomes: readonly Outcome[]): Promise<unknown> | undefined {
    let waiting: Array<Promise<unknown>> | undefined;
    for (const o of outcomes) {
      if (o.charge === undefined) continue;
      // To the store that counted the charge: the `local` fallback's charge is not the store's to give back.
      const r = guarded ? guarded.refund(o.counter, -o.charge, o.ttlMs, o.local) : store.increment(o.counter, -o.charge, o.ttlMs);
      if (isPromise(r)) (waiting ??= []).push(r);
    }
    return waiting === undefined ? undefined : Promise.all(waiting);
  }

  /**
   * A limit's check threw (its `by` function failed): the request fails, and a failed request uses up nothing, so what
   * it was charged — by the limits before the one that threw, the before-authentication ones included — is refunded
   * before the error goes on.
   */
  function failed(ctx: PipelineContext, outcomes: readonly Outcome[], error: unknown): Maybe<never> {
    const before = config.beforeAuth.length > 0 ? (ctx.state.get(STATES) as readonly Outcome[] | undefined) : undefined;
    const waiting = refund(before === undefined || before.length === 0 ? outcomes : before.concat(outcomes));
    if (waiting === undefined) throw error;
    return waiting.then(() => Promise.reject(error));
  }

  /** Nothing when every limit passed; else the refusal (a store failure or a violation), once every charge is refunded. */
  function settle(ctx: PipelineContext, outcomes: readonly Outcome[], unavailable: boolean, code: 'RATE_LIMITED' | 'QUOTA_EXCEEDED'): Maybe<DenyDecision> | undefined {
    return unavailable || anyViolated(outcomes) ? refuse(ctx, outcomes, unavailable, code) : undefined;
  }

  // Apart from `settle`, which runs on every request: the closure below is built only for a refusal.
  function refuse(ctx: PipelineContext, outcomes: readonly Outcome[], unavailable: boolean, code: 'RATE_LIMITED' | 'QUOTA_EXCEEDED'): Maybe<DenyDecision> {
    const waiting = refund(outcomes);
    return waiting === undefined ? refusal(ctx, outcomes, unavailable, code) : waiting.then(() => refusal(ctx, outcomes, unavailable, code));
  }

  function refusal(ctx: PipelineContext, outcomes: readonly Outcome[], unavailable: boolean, code: 'RATE_LIMITED' | 'QUOTA_EXCEEDED'): DenyDecision {
    if (unavailable) {
      return deny('STORE_UNAVAILABLE', ctx.requestId, challenge, { detail: 'Rate limits cannot be checked right now.', headers: { ...ctx.headers, 'Retry-After': '1' } });
    }
    // Report what is left after the refund: a refused request uses up nothing.
    const states = outcomes.map(refunded);
    const violated = outcomes.filter((o) => o.violated);
    // A policy this request can never pass (a limit of 0, a cost above the limit): no later time is worth waiting for.
    const never = violated.find(neverPasses);
    // The legacy fields name one policy: the refusing one Retry-After waits for (the one that ends last), not a
    // tighter-looking one that did not refuse (a byte quota refused, "9 left, reset in 60 s" would say otherwise); or
    // the one the request can never pass.
    let last = never ?? violated[0]!;
    if (never === undefined) for (const o of violated) if (o.resetAt > last.resetAt) last = o;
    writeHeaders(ctx, states, [states[outcomes.indexOf(last)]!]);
    const names = violated.map((s) => s.name);
    const exceeded = code === 'RATE_LIMITED' ? `Rate limit exceeded: ${names.join(', ')}.` : `Quota exceeded: ${names.join(', ')}.`;
    return deny(code, ctx.requestId, challenge, {
      detail: never === undefined ? exceeded : `${exceeded} ${neverDetail(never, costOf(ctx.requirements.cost))}`,
      // Retry-After would promise that waiting helps: a client that can never pass is told so instead (RFC 9110 §10.2.3: optional).
      headers: never === undefined ? { ...ctx.headers, 'Retry-After': String(Math.max(1, secondsUntil(last.resetAt, ctx.now))) } : { ...ctx.headers },
      extensions: { 'violated-policies': names },
      ...(code === 'QUOTA_EXCEEDED' ? { type: QUOTA_EXCEEDED_TYPE } : {}),
    });
  }

  /** Writes the headers of `states`, after those of the before-auth limits; the legacy fields of `legacyFrom` if given. */
  function writeHeaders(ctx: PipelineContext, states: readonly PolicyState[], legacyFrom?: readonly PolicyState[]): void {
    if (config.headers === false) return;
    // `ctx.state` is created on first use: only before-auth limits put anything there.
    const before = config.beforeAuth.length > 0 ? (ctx.state.get(STATES) as readonly PolicyState[] | undefined) : undefined;
    const all = before === undefined || before.length === 0 ? states : states.length === 0 ? before : before.concat(states);
    if (all.length > 0) writeRateLimitHeaders(ctx.headers, all, config.headers, ctx.now, legacyFrom ?? all);
  }

  function beforeAuth(ctx: PipelineContext): Maybe<StageResult> {
    const outcomes: Outcome[] = [];
    return andThen(collect(config.beforeAuth, rate, ctx, 1, outcomes, failed), beforeAuthSettled, ctx, outcomes);
  }

  function beforeAuthSettled(unavailable: boolean, ctx: PipelineContext, outcomes: Outcome[]): Maybe<StageResult> {
    const refused = settle(ctx, outcomes, unavailable, 'RATE_LIMITED');
    if (refused !== undefined) return refused;
    ctx.state.set(STATES, outcomes);
    writeHeaders(ctx, NO_STATES);
    return undefined;
  }

  function limits(ctx: PipelineContext): Maybe<StageResult> {
    const plan = planOf(config, ctx);
    if (plan.rules.length === 0 && plan.quotas.length === 0) return undefined;
    const outcomes: Outcome[] = [];
    return andThen(collect(plan.rules, rate, ctx, costOf(ctx.requirements.cost), outcomes, failed), ratesSettled, ctx, outcomes, plan.quotas);
  }

  function ratesSettled(unavailable: boolean, ctx: PipelineContext, outcomes: Outcome[], quotas: readonly CompiledQuota[]): Maybe<StageResult> {
    const refused = settle(ctx, outcomes, unavailable, 'RATE_LIMITED');
    if (refused !== undefined) return refused;
    if (quotas.length === 0) return passed(ctx, outcomes);
    return andThen(collect(quotas, quota, ctx, 1, outcomes, failed), quotasSettled, ctx, outcomes);
  }

  function quotasSettled(unavailable: boolean, ctx: PipelineContext, outcomes: Outcome[]): Maybe<StageResult> {
    return settle(ctx, outcomes, unavailable, 'QUOTA_EXCEEDED') ?? passed(ctx, outcomes);
  }

  function passed(ctx: PipelineContext, outcomes: readonly Outcome[]): undefined {
    writeHeaders(ctx, outcomes);
    return undefined;
  }

  return {
    name: 'limits',
    stages: { ...(config.beforeAuth.length > 0 ? { preauth: beforeAuth } : {}), limits },
    async close() {
      if (options.limits?.store === undefined) await primary.close?.();
      await local?.close?.();
    },
  };
}
