import { parseDuration } from '../util/duration';
import { fieldsOf, likelyMeant, optionObject, refuseUnknownInput, shownName } from '../config/fields';
import { warnOnce } from '../util/warn';
import { parseSubnet } from './address-key';
import { AUTH_BLOCK_POLICY } from './headers';
import { isTimeZone } from './periods';
import type { KeyLimitOverrides, LimitBy, LimitOverride, LimitsOptions, PlanDefinition, QuotaPeriod, QuotaRule, RateLimitHeaderMode, RateLimitRule, StoreFailurePolicy } from './types';

/** A rate limit after parsing. */
export interface CompiledRule {
  readonly kind: 'rate';
  readonly name: string;
  readonly points: number;
  readonly windowMs: number;
  readonly by: LimitBy;
  readonly beforeAuth: boolean;
}

/** A quota after parsing. */
export interface CompiledQuota {
  readonly kind: 'quota';
  readonly name: string;
  readonly limit: number;
  readonly unit: 'requests' | 'bytes';
  readonly period: QuotaPeriod;
  readonly day: number;
  readonly timeZone: string;
  readonly by: LimitBy;
}

/** The limits and quotas one caller is held to. */
export interface CompiledPlan {
  readonly rules: readonly CompiledRule[];
  readonly quotas: readonly CompiledQuota[];
}

/** `limits` after parsing. Internal. */
export interface LimitsConfig {
  /** For callers with no plan (or an unknown one) when there is no default plan. */
  readonly base: CompiledPlan;
  readonly plans: ReadonlyMap<string, CompiledPlan>;
  readonly defaultPlan: string | undefined;
  /** Address limits counted before authentication. */
  readonly beforeAuth: readonly CompiledRule[];
  readonly storeFailure: StoreFailurePolicy;
  readonly storeTimeoutMs: number;
  readonly headers: RateLimitHeaderMode;
  readonly ipv6Subnet: number;
  readonly maxEntries: number;
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const LIMITS_FIELDS = fieldsOf<LimitsOptions>({ rules: true, quotas: true, plans: true, defaultPlan: true, store: true, storeFailure: true, storeTimeout: true, headers: true, ipv6Subnet: true, maxEntries: true });
const RULE_FIELDS = fieldsOf<RateLimitRule>({ points: true, window: true, by: true, beforeAuth: true });
const QUOTA_FIELDS = fieldsOf<QuotaRule>({ requests: true, bytes: true, period: true, day: true, timeZone: true, by: true });
const PLAN_FIELDS = fieldsOf<PlanDefinition>({ limits: true, quotas: true });
const PERIODS: readonly QuotaPeriod[] = ['hour', 'day', 'week', 'month'];

function count(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new TypeError(`keyward: option "${name}" must be a non-negative integer`);
  return value as number;
}

function by(value: unknown, name: string): LimitBy {
  if (value === undefined) return 'key';
  if (value === 'key' || value === 'owner' || value === 'address' || typeof value === 'function') return value as LimitBy;
  throw new TypeError(`keyward: option "${name}" must be "key", "owner", "address" or a function`);
}

function windowOf(value: unknown, name: string): number {
  const ms = parseDuration(value, name);
  if (ms < 1000) throw new TypeError(`keyward: option "${name}" must be at least 1 second`);
  return ms;
}

/** Parses one rate limit. */
export function compileRule(name: string, value: unknown, path: string): CompiledRule {
  const o = optionObject(value, path, RULE_FIELDS);
  const rule = o as unknown as RateLimitRule;
  const beforeAuth = rule.beforeAuth ?? false;
  if (typeof beforeAuth !== 'boolean') throw new TypeError(`keyward: option "${path}.beforeAuth" must be a boolean`);
  const compiled: CompiledRule = { kind: 'rate', name, points: count(rule.points, `${path}.points`), windowMs: windowOf(rule.window, `${path}.window`), by: by(rule.by, `${path}.by`), beforeAuth };
  if (beforeAuth && compiled.by !== 'address') throw new TypeError(`keyward: option "${path}.beforeAuth" needs by: "address" (no credential is trusted before authentication)`);
  return compiled;
}

/** Parses one quota. */
export function compileQuota(name: string, value: unknown, path: string): CompiledQuota {
  const q = optionObject(value, path, QUOTA_FIELDS) as unknown as QuotaRule;
  if ((q.requests === undefined) === (q.bytes === undefined)) throw new TypeError(`keyward: option "${path}" must set exactly one of "requests" and "bytes"`);
  const unit = q.requests !== undefined ? 'requests' : 'bytes';
  const limit = count(unit === 'requests' ? q.requests : q.bytes, `${path}.${unit}`);
  if (!PERIODS.includes(q.period)) throw new TypeError(`keyward: option "${path}.period" must be "hour", "day", "week" or "month"`);
  let day = 1;
  if (q.day !== undefined) {
    if (q.period !== 'week' && q.period !== 'month') throw new TypeError(`keyward: option "${path}.day" applies only to period "week" or "month" (an hour starts on the hour, a day at midnight)`);
    const [lo, hi] = q.period === 'week' ? [0, 6] : [1, 31];
    if (!Number.isInteger(q.day) || q.day < lo || q.day > hi) throw new TypeError(`keyward: option "${path}.day" must be an integer from ${lo} to ${hi} for period "${q.period}"`);
    day = q.day;
  }
  const timeZone = q.timeZone ?? 'UTC';
  if (typeof timeZone !== 'string' || !isTimeZone(timeZone)) throw new TypeError(`keyward: option "${path}.timeZone" must be an IANA time zone such as "Europe/Paris"`);
  return { kind: 'quota', name, limit, unit, period: q.period, day, timeZone, by: by(q.by, `${path}.by`) };
}

function named<T>(value: unknown, path: string, compile: (name: string, v: unknown, p: string) => T, allowFalse: boolean): Map<string, T | false> {
  const out = new Map<string, T | false>();
  if (value === undefined) return out;
  for (const [name, v] of Object.entries(optionObject(value, path))) {
    if (!NAME_RE.test(name)) throw new TypeError(`keyward: option "${path}" has an invalid name ${shownName(name)}: use letters, digits, "_", "." or "-", starting with a letter`);
    // Refused whether `authFailures` is on or not: turning the block on later must not break the limits.
    if (name === AUTH_BLOCK_POLICY) throw new TypeError(`keyward: option "${path}.${name}" uses the name "${name}", which is reserved for the failed-auth block's policy in the RateLimit headers; give it another name`);
    if (v === false && allowFalse) out.set(name, false);
    else out.set(name, compile(name, v, `${path}.${name}`));
  }
  return out;
}

function merge<T>(base: Map<string, T | false>, over: Map<string, T | false>): T[] {
  const m = new Map(base);
  for (const [k, v] of over) m.set(k, v);
  return [...m.values()].filter((v): v is T => v !== false);
}

function checkUnique(plan: CompiledPlan, path: string): CompiledPlan {
  const names = new Set<string>();
  for (const p of [...plan.rules, ...plan.quotas]) {
    if (names.has(p.name)) throw new TypeError(`keyward: option "${path}" uses the name "${p.name}" for a limit and a quota; policy names must be unique`);
    names.add(p.name);
  }
  return plan;
}

/**
 * Parses `limits` once into a fully defaulted config. Never mutates the input.
 *
 * @throws TypeError naming the option for every mistake
 */
export function parseLimits(options: LimitsOptions): LimitsConfig {
  const o = optionObject(options, 'limits', LIMITS_FIELDS) as LimitsOptions;
  const baseRules = named(o.rules, 'limits.rules', compileRule, false);
  const baseQuotas = named(o.quotas, 'limits.quotas', compileQuota, false);
  const beforeAuth = [...baseRules.values()].filter((r): r is CompiledRule => r !== false && r.beforeAuth);
  const afterAuth = new Map([...baseRules].filter(([, r]) => r !== false && !r.beforeAuth));
  const base = checkUnique({ rules: merge(afterAuth, new Map()), quotas: merge(baseQuotas, new Map()) }, 'limits');
  // Before-auth limits share the policy names (and the RateLimit headers) of everything else.
  checkUnique({ rules: beforeAuth, quotas: base.quotas }, 'limits');
  /** A plan's entry may not name a before-auth limit: it would be counted twice, or its `false` silently ignored. */
  const refuseBeforeAuth = (names: Iterable<string>, path: string) => {
    for (const n of names) {
      if (beforeAuth.some((r) => r.name === n)) throw new TypeError(`keyward: option "${path}.${n}" names the before-authentication limit "limits.rules.${n}", which a plan can neither replace nor remove (plans are known only after authentication); give it another name`);
    }
  };

  const plans = new Map<string, CompiledPlan>();
  if (o.plans !== undefined) {
    for (const [name, p] of Object.entries(optionObject(o.plans, 'limits.plans'))) {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) throw new TypeError(`keyward: option "limits.plans" has an invalid plan name ${shownName(name)}`);
      const po = optionObject(p, `limits.plans.${name}`, PLAN_FIELDS);
      const rules = named(po['limits'], `limits.plans.${name}.limits`, compileRule, true);
      for (const [n, r] of rules) if (r !== false && r.beforeAuth) throw new TypeError(`keyward: option "limits.plans.${name}.limits.${n}.beforeAuth" is not allowed in a plan (plans are known only after authentication)`);
      const quotas = named(po['quotas'], `limits.plans.${name}.quotas`, compileQuota, true);
      refuseBeforeAuth(rules.keys(), `limits.plans.${name}.limits`);
      refuseBeforeAuth(quotas.keys(), `limits.plans.${name}.quotas`);
      plans.set(name, checkUnique({ rules: merge(afterAuth, rules), quotas: merge(baseQuotas, quotas) }, `limits.plans.${name}`));
    }
  }
  let defaultPlan: string | undefined;
  if (o.defaultPlan !== undefined) {
    if (typeof o.defaultPlan !== 'string' || !plans.has(o.defaultPlan)) throw new TypeError('keyward: option "limits.defaultPlan" must name a plan in "limits.plans"');
    defaultPlan = o.defaultPlan;
  }

  const storeFailure = o.storeFailure ?? 'deny';
  if (storeFailure !== 'deny' && storeFailure !== 'allow' && storeFailure !== 'local') throw new TypeError('keyward: option "limits.storeFailure" must be "deny", "allow" or "local"');
  if (storeFailure === 'allow') warnOnce('KEYWARD_LIMITS_FAIL_OPEN', 'keyward: limits.storeFailure is "allow": while the limiter store is down, rate limits and quotas are not enforced.');
  const storeTimeoutMs = parseStoreTimeout(o.storeTimeout);
  const headers = o.headers ?? 'draft';
  if (headers !== 'draft' && headers !== 'legacy' && headers !== 'both' && headers !== false) throw new TypeError('keyward: option "limits.headers" must be "draft", "legacy", "both" or false');
  const maxEntries = o.maxEntries ?? 100_000;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new TypeError('keyward: option "limits.maxEntries" must be a positive integer');

  return { base, plans, defaultPlan, beforeAuth, storeFailure, storeTimeoutMs, headers, ipv6Subnet: parseSubnet(o.ipv6Subnet, 'limits.ipv6Subnet'), maxEntries };
}

/**
 * Parses `limits.storeTimeout` (default 250 ms, 1 ms to 1 min): the longest wait for a limiter store, the rate limits'
 * and the failed-auth block's alike.
 *
 * @throws TypeError naming the option
 */
export function parseStoreTimeout(value: unknown): number {
  const ms = parseDuration(value ?? 250, 'limits.storeTimeout');
  // A silent store holds each request this long: bounded as the key store's `storeTimeout` is.
  if (ms < 1 || ms > 60_000) throw new TypeError('keyward: option "limits.storeTimeout" must be from 1 ms to 1 minute');
  return ms;
}

function validCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

const OVERRIDE_FIELDS = fieldsOf<LimitOverride>({ points: true, window: true, requests: true, bytes: true });

/** The names the `limits` option gives: its plans, and its rules and quotas (shared and of every plan). */
export interface LimitNames {
  readonly plans: readonly string[];
  readonly limits: readonly string[];
  /**
   * The override fields that apply to each named limit (`points`/`window` for a rate limit, `requests` or `bytes` for a
   * quota; the union when plans give one name different kinds). A before-auth limit maps to none: no key changes it.
   */
  readonly fields: ReadonlyMap<string, ReadonlySet<keyof LimitOverride>>;
}

/**
 * The names of the `limits` option as given (read before it is parsed; only names), for checking what a key names:
 * `undefined` without the option.
 */
export function limitNames(limits: unknown): LimitNames | undefined {
  if (typeof limits !== 'object' || limits === null) return undefined;
  const keysOf = (v: unknown): string[] => (typeof v === 'object' && v !== null ? Object.keys(v) : []);
  const { rules, quotas, plans } = limits as { rules?: unknown; quotas?: unknown; plans?: unknown };
  const names = new Set([...keysOf(rules), ...keysOf(quotas)]);
  const fields = new Map<string, Set<keyof LimitOverride>>();
  const entries = (v: unknown): Array<[string, Record<string, unknown>]> =>
    typeof v === 'object' && v !== null ? Object.entries(v).filter((e): e is [string, Record<string, unknown>] => typeof e[1] === 'object' && e[1] !== null) : [];
  const add = (name: string, list: ReadonlyArray<keyof LimitOverride>) => {
    let set = fields.get(name);
    if (!set) fields.set(name, (set = new Set()));
    for (const f of list) set.add(f);
  };
  const addRules = (v: unknown) => { for (const [n, r] of entries(v)) add(n, r['beforeAuth'] === true ? [] : ['points', 'window']); };
  const addQuotas = (v: unknown) => { for (const [n, q] of entries(v)) add(n, q['requests'] !== undefined ? ['requests'] : q['bytes'] !== undefined ? ['bytes'] : []); };
  addRules(rules);
  addQuotas(quotas);
  for (const plan of Object.values(typeof plans === 'object' && plans !== null ? plans : {})) {
    const p = (typeof plan === 'object' && plan !== null ? plan : {}) as { limits?: unknown; quotas?: unknown };
    for (const name of [...keysOf(p.limits), ...keysOf(p.quotas)]) names.add(name);
    addRules(p.limits);
    addQuotas(p.quotas);
  }
  return { plans: keysOf(plans), limits: [...names], fields };
}

/**
 * Refuses `name` when it is not one of `known` but within a letter or two of one (`bursst` for `burst`, `proo` for
 * `pro`): a typo, which would otherwise be stored and then ignored. A name far from every known one is let through,
 * since a later configuration may add it. `what` names the field (`"plan"`, `"limits"`).
 *
 * @throws TypeError naming the field, the name and the one it was likely meant to be
 */
export function refuseNearMiss(name: string, known: readonly string[], what: string): void {
  if (known.includes(name)) return;
  const meant = likelyMeant(name, known);
  if (meant !== undefined) throw new TypeError(`keyward: "${what}" names ${shownName(name)}, which is configured nowhere (did you mean "${meant}"? known: ${known.join(', ')})`);
}

/**
 * Checks the per-key overrides given to `keys.create()` or `keys.update()` (`{ burst: { points: 500 }, daily: false }`),
 * as the options are checked: a bad value or an unknown field is a `TypeError` naming it (`"limits.burst.points"`),
 * so a typo cannot store an override that is then ignored. With `known`, the configured limit names, a name that is
 * a near miss of one is refused ({@link refuseNearMiss}); a name far from all is allowed: plans may add it later.
 * With `fields` ({@link LimitNames.fields}), a field that does not apply to the named limit (`points` for a quota,
 * `requests` for a rate limit, anything or `false` for a before-auth limit) is refused: it would be stored and ignored.
 *
 * @throws TypeError naming the override
 */
export function validateLimitOverrides(value: Readonly<Record<string, unknown>>, known?: readonly string[], fields?: LimitNames['fields']): KeyLimitOverrides {
  for (const [name, o] of Object.entries(value)) {
    if (!NAME_RE.test(name)) throw new TypeError(`keyward: "limits" has an invalid name ${shownName(name)}: use letters, digits, "_", "." or "-", starting with a letter`);
    if (name === AUTH_BLOCK_POLICY) throw new TypeError(`keyward: "limits.${name}" names the failed-auth block's policy, which no limit or quota can take; a key cannot override it`);
    if (known !== undefined) refuseNearMiss(name, known, 'limits');
    const path = `limits.${name}`;
    const applies = fields?.get(name);
    if (applies !== undefined && applies.size === 0) throw new TypeError(`keyward: "${path}" names a before-authentication limit, which a key can neither change nor switch off`);
    if (o === false) continue;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new TypeError(`keyward: "${path}" must be an object or false`);
    refuseUnknownInput(o, OVERRIDE_FIELDS, `"${path}"`);
    const v = o as LimitOverride;
    if (applies !== undefined) {
      for (const field of Object.keys(v) as Array<keyof LimitOverride>) {
        if (v[field] !== undefined && !applies.has(field)) throw new TypeError(`keyward: "${path}.${field}" does not apply to "${name}", which takes ${[...applies].map((f) => `"${f}"`).join(' and ')}`);
      }
    }
    for (const field of ['points', 'requests', 'bytes'] as const) {
      if (v[field] !== undefined && !validCount(v[field])) throw new TypeError(`keyward: "${path}.${field}" must be a non-negative integer`);
    }
    if (v.window !== undefined) windowOf(v.window, `${path}.window`);
  }
  return value as KeyLimitOverrides;
}

/**
 * Applies a key's stored overrides to its plan. Stored data is not trusted: an invalid field is ignored (one
 * warning), an unknown name is ignored.
 */
export function applyOverrides(plan: CompiledPlan, overrides: KeyLimitOverrides | undefined): CompiledPlan {
  if (overrides === undefined || typeof overrides !== 'object' || overrides === null) return plan;
  const bad = () => warnOnce('KEYWARD_BAD_LIMIT_OVERRIDE', 'keyward: a key record holds an invalid limit override; it was ignored.');
  const rules: CompiledRule[] = [];
  for (const r of plan.rules) {
    const o = overrides[r.name];
    if (o === false) continue;
    if (o === undefined || typeof o !== 'object' || o === null) {
      rules.push(r);
      continue;
    }
    let points = r.points;
    let windowMs = r.windowMs;
    if (o.points !== undefined) {
      if (validCount(o.points)) points = o.points;
      else bad();
    }
    if (o.window !== undefined) {
      try {
        windowMs = windowOf(o.window, 'window');
      } catch {
        bad();
      }
    }
    rules.push({ ...r, points, windowMs });
  }
  const quotas: CompiledQuota[] = [];
  for (const q of plan.quotas) {
    const o = overrides[q.name];
    if (o === false) continue;
    const v = o === undefined || typeof o !== 'object' || o === null ? undefined : q.unit === 'requests' ? o.requests : o.bytes;
    if (v !== undefined && !validCount(v)) bad();
    quotas.push(v !== undefined && validCount(v) ? { ...q, limit: v } : q);
  }
  return { rules, quotas };
}
