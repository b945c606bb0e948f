import { createHash } from 'node:crypto';
import type { Feature, PipelineContext, StageResult } from '../pipeline/context';
import type { FeatureDeps } from '../features/deps';
import type { KeywardOptions } from '../config/options';
import { deny } from '../denials';
import { addressBucket } from './address-key';
import { applyOverrides, parseLimits, type CompiledPlan, type CompiledQuota, type CompiledRule, type LimitsConfig } from './config';
import { guardStore, UNAVAILABLE, type Guarded, type GuardedStore } from './guarded-store';
import { secondsUntil, writeRateLimitHeaders, type PolicyState } from './headers';
import { calendarWindow, fixedWindow, type Window } from './periods';
import { isMemoryLimiterStore, memoryLimiterStore, storeFromOption, type LimiterStore } from './store';
import type { LimitBy, LimitKeyContext } from './types';

/** The IANA problem type of an exhausted quota (draft-ietf-httpapi-ratelimit-headers). */
export const QUOTA_EXCEEDED_TYPE = 'https://iana.org/assignments/http-problem-types#quota-exceeded';

const STATES = Symbol('keyward.limits.states');

/** A counter this request touched, so it can be refunded when another limit refuses the request. */
interface Charge {
  readonly key: string;
  readonly amount: number;
  readonly ttlMs: number;
}

interface Outcome {
  readonly state: PolicyState;
  readonly charge?: Charge;
  readonly violated: boolean;
}

function bucketKey(by: LimitBy, ctx: PipelineContext, ipv6Subnet: number): string | undefined {
  const p = ctx.principal;
  let v: string | undefined;
  switch (by) {
    case 'key':
      v = p ? `k:${p.type}:${p.id}` : undefined;
      break;
    case 'owner':
      v = p ? `o:${p.owner ?? p.id}` : undefined;
      break;
    case 'address': {
      const a = addressBucket(ctx.clientAddress, ipv6Subnet);
      v = a === undefined ? undefined : `a:${a}`;
      break;
    }
    default: {
      const kctx: LimitKeyContext = { principal: p, clientAddress: ctx.clientAddress, method: ctx.request.method, path: ctx.request.path };
      const r = by(kctx);
      v = typeof r === 'string' && r.length > 0 ? `f:${r}` : undefined;
    }
  }
  // Bound the size of what callers influence (a long token subject, a custom bucket) without losing identity.
  if (v !== undefined && v.length > 160) v = `h:${createHash('sha256').update(v).digest('base64url')}`;
  return v;
}

function costOf(cost: unknown): number {
  if (cost === undefined) return 1;
  if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) return 1;
  return Math.ceil(cost);
}

/** Chooses the plan of a request: the principal's, else the default plan, else the shared limits. */
export function planOf(config: LimitsConfig, ctx: PipelineContext): CompiledPlan {
  const name = ctx.principal?.plan;
  let plan = name !== undefined ? config.plans.get(name) : undefined;
  if (!plan) plan = config.defaultPlan !== undefined ? config.plans.get(config.defaultPlan)! : config.base;
  return ctx.record?.limits !== undefined ? applyOverrides(plan, ctx.record.limits) : plan;
}

/**
 * The rate-limits feature: named limits, plans, per-key overrides, request and byte quotas, the RateLimit headers and
 * the store failure policy. Address limits marked `beforeAuth` run in the `preauth` phase; everything else in
 * `limits`, after authentication, so a bogus credential never gets a bucket of its own.
 */
export function limitsFeature(options: KeywardOptions, deps: FeatureDeps): Feature | undefined {
  if (options.limits === undefined) return undefined;
  const config = parseLimits(options.limits);
  const { clock, events, challenge } = deps;
  const memory = () => memoryLimiterStore({ clock, maxEntries: config.maxEntries });
  const primary: LimiterStore = storeFromOption(options.limits.store, 'limits.store', memory);
  const inProcess = options.limits.store === undefined || isMemoryLimiterStore(primary);
  const local = config.storeFailure === 'local' && !inProcess ? memory() : undefined;
  let lastReport = 0;
  const store: GuardedStore = inProcess
    ? { increment: (k, a, t) => primary.increment(k, a, t), get: (k) => primary.get(k) }
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

  function refund(charges: readonly Charge[]): Promise<unknown> {
    return Promise.all(charges.map((c) => store.increment(c.key, -c.amount, c.ttlMs)));
  }

  async function rate(rule: CompiledRule, ctx: PipelineContext, cost: number): Promise<Outcome | Guarded | undefined> {
    const bucket = bucketKey(rule.by, ctx, config.ipv6Subnet);
    if (bucket === undefined) return undefined;
    const w = fixedWindow(ctx.now, rule.windowMs);
    const base = { name: rule.name, limit: rule.points, windowSeconds: Math.round(rule.windowMs / 1000), resetAt: w.end, unit: 'request' as const };
    if (rule.points === 0) return { state: { ...base, remaining: 0 }, violated: true };
    const charge = { key: `r:${rule.name}:${rule.windowMs}:${bucket}:${w.start}`, amount: cost, ttlMs: w.end - ctx.now };
    const total = await store.increment(charge.key, charge.amount, charge.ttlMs);
    if (typeof total !== 'number') return total;
    return { state: { ...base, remaining: Math.max(0, rule.points - total) }, charge, violated: total > rule.points };
  }

  async function quota(q: CompiledQuota, ctx: PipelineContext, w: Window, bucket: string): Promise<Outcome | Guarded> {
    const key = `q:${q.name}:${q.unit}:${q.period}:${bucket}:${w.start}`;
    const ttlMs = w.end - ctx.now;
    const base = { name: q.name, limit: q.limit, windowSeconds: Math.round((w.end - w.start) / 1000), resetAt: w.end, unit: q.unit === 'bytes' ? ('content-bytes' as const) : ('request' as const) };
    if (q.limit === 0) return { state: { ...base, remaining: 0 }, violated: true };
    if (q.unit === 'bytes') {
      const used = await store.get(key);
      if (typeof used !== 'number') return used;
      if (used < q.limit) {
        ctx.onDone.push((c) => {
          if (c.bytes > 0) void store.increment(key, c.bytes, Math.max(1, w.end - clock()));
        });
      }
      return { state: { ...base, remaining: Math.max(0, q.limit - used) }, violated: used >= q.limit };
    }
    const charge = { key, amount: 1, ttlMs };
    const total = await store.increment(key, 1, ttlMs);
    if (typeof total !== 'number') return total;
    return { state: { ...base, remaining: Math.max(0, q.limit - total) }, charge, violated: total > q.limit };
  }

  /** Evaluates settled outcomes: a store failure, a violation (refunding every charge) or the outcomes so far. */
  async function settle(ctx: PipelineContext, results: readonly (Outcome | Guarded | undefined)[], prior: readonly Outcome[], code: 'RATE_LIMITED' | 'QUOTA_EXCEEDED'): Promise<StageResult | Outcome[]> {
    const outcomes: Outcome[] = [...prior];
    let unavailable = false;
    for (const r of results) {
      if (r === UNAVAILABLE) unavailable = true;
      else if (r !== undefined && typeof r === 'object') outcomes.push(r);
    }
    const violated = outcomes.filter((o) => o.violated).map((o) => o.state);
    if (!unavailable && violated.length === 0) return outcomes;
    await refund(outcomes.flatMap((o) => (o.charge ? [o.charge] : [])));
    if (unavailable) {
      return deny('STORE_UNAVAILABLE', ctx.requestId, challenge, { detail: 'Rate limits cannot be checked right now.', headers: { ...ctx.headers, 'Retry-After': '1' } });
    }
    // Report what is left after the refund: a refused request uses up nothing.
    writeHeaders(ctx, outcomes.map((o) => (o.charge && !o.violated ? { ...o.state, remaining: Math.min(o.state.limit, o.state.remaining + o.charge.amount) } : o.state)));
    const retry = Math.max(1, ...violated.map((s) => secondsUntil(s.resetAt, ctx.now)));
    const names = violated.map((s) => s.name);
    return deny(code, ctx.requestId, challenge, {
      detail: code === 'RATE_LIMITED' ? `Rate limit exceeded: ${names.join(', ')}.` : `Quota exceeded: ${names.join(', ')}.`,
      headers: { ...ctx.headers, 'Retry-After': String(retry) },
      extensions: { 'violated-policies': names },
      ...(code === 'QUOTA_EXCEEDED' ? { type: QUOTA_EXCEEDED_TYPE } : {}),
    });
  }

  function writeHeaders(ctx: PipelineContext, states: readonly PolicyState[]): void {
    const before = (ctx.state.get(STATES) as PolicyState[] | undefined) ?? [];
    writeRateLimitHeaders(ctx.headers, [...before, ...states], config.headers, ctx.now);
  }

  async function beforeAuth(ctx: PipelineContext): Promise<StageResult> {
    const results = await Promise.all(config.beforeAuth.map((r) => rate(r, ctx, 1)));
    const settled = await settle(ctx, results, [], 'RATE_LIMITED');
    if (!Array.isArray(settled)) return settled;
    ctx.state.set(STATES, settled.map((o) => o.state));
    writeHeaders(ctx, []);
    return undefined;
  }

  async function limits(ctx: PipelineContext): Promise<StageResult> {
    const plan = planOf(config, ctx);
    if (plan.rules.length === 0 && plan.quotas.length === 0) return undefined;
    const cost = costOf(ctx.requirements.cost);
    const rates = await Promise.all(plan.rules.map((r) => rate(r, ctx, cost)));
    let outcomes = await settle(ctx, rates, [], 'RATE_LIMITED');
    if (!Array.isArray(outcomes)) return outcomes;
    if (plan.quotas.length > 0) {
      const quotas = await Promise.all(
        plan.quotas.map((q) => {
          const bucket = bucketKey(q.by, ctx, config.ipv6Subnet);
          return bucket === undefined ? undefined : quota(q, ctx, calendarWindow(ctx.now, q.period, q.day, q.timeZone), bucket);
        }),
      );
      outcomes = await settle(ctx, quotas, outcomes, 'QUOTA_EXCEEDED');
      if (!Array.isArray(outcomes)) return outcomes;
    }
    writeHeaders(ctx, outcomes.map((o) => o.state));
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
