import { randomUUID } from 'node:crypto';
import type { AllowDecision, AuthRequest, Decision, DenyDecision, Requirements } from './model';
import { deny, DENIAL_TABLE, type ChallengeConfig } from './denials';
import type { KeywardOptions } from './config/options';
import { parseOptions, type KeywardConfig } from './config/config';
import { EventBus } from './events/bus';
import type { EventInput, EventListener, KeywardEventType } from './events/schema';
import { redactQuery } from './events/redact';
import { KeyManager } from './keys/manager';
import { parseKeyPolicy } from './keys/policy';
import { createKeyHasher } from './keys/hash';
import { keyAuthenticator } from './keys/authenticator';
import { LruCache } from './util/lru';
import type { KeyRecord } from './keys/record';
import { extractCredential } from './credentials/extract';
import { compileScopes, isCompiledScopes, satisfies, type CompiledScopes } from './scopes/match';
import { PHASES, type Authenticator, type Feature, type PipelineContext, type Stage, type StageResult } from './pipeline/context';
import { createAddressResolver, type AddressResolver } from './pipeline/address';
import { restrictionsControl, type RestrictionsControl } from './restrictions/feature';
import { FEATURES } from './features/registry';
import { tokensApiOf, type TokenApi } from './tokens/feature';
import type { MemoryMetrics, MetricsFeature } from './metrics';
import { KeywardError } from './errors';

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A keyward instance: the pipeline, the key manager and the event stream. Create one per application with
 * {@link createKeyward} and share it between adapters.
 */
export interface Keyward {
  /**
   * Decides on a request. Never throws for anything a client sends: a refusal is a {@link DenyDecision}.
   * Rejects only for real failures (e.g. the instance was closed).
   */
  check(request: AuthRequest, requirements?: Requirements): Promise<Decision>;
  /**
   * Checks an already authenticated principal against a scope requirement (route-level `requireScopes`).
   * Returns `undefined` when satisfied, a 403 denial otherwise.
   */
  authorize(decision: AllowDecision, scopes: CompiledScopes): DenyDecision | undefined;
  /** The key manager: create, list, revoke, rotate keys. */
  readonly keys: KeyManager;
  /** Subscribes to one event type or `'*'`; returns the unsubscribe function. */
  on(type: KeywardEventType | '*', listener: EventListener): () => void;
  /** Waits until every queued event has been delivered (for tests and shutdown). */
  flushEvents(): Promise<void>;
  /** The parsed configuration (read-only). */
  readonly config: KeywardConfig;
  /** The features that were configured, by name. */
  readonly features: ReadonlyMap<string, Feature>;
  /** Per-key metrics (in memory), when the `metrics` option is set; otherwise `undefined`. */
  readonly metrics: MemoryMetrics | undefined;
  /** The address resolver used by every filter, limit and log (built from `trustProxy` and `proxyHeader`). */
  readonly resolveAddress: AddressResolver;
  /** Access restrictions: read or replace the global policy at run time (`kw.restrictions.setPolicy(...)`). */
  readonly restrictions: RestrictionsControl;
  /** Tokens: issue, revoke, the token and JWKS endpoints (`tokens` option). Without it, every call throws `INVALID_OPTIONS`. */
  readonly tokens: TokenApi;
  /** Stops timers and subscriptions and flushes events. Further checks reject with `CLOSED`. */
  close(): Promise<void>;
}

const KEYWARD_BRAND = Symbol.for('keyward.instance');

/** True when `value` is a keyward instance (so adapters accept options or an instance). */
export function isKeyward(value: unknown): value is Keyward {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[KEYWARD_BRAND] === true;
}

/**
 * Creates a keyward instance from one options object (parsed and checked once, never mutated).
 *
 * @example
 * ```ts
 * import { createKeyward } from '@keyward/core';
 * const kw = createKeyward({ prefix: 'acme' });
 * const { key } = await kw.keys.create({ owner: 'team-a', scopes: ['docs:read'] });
 * const decision = await kw.check({ method: 'GET', path: '/docs', headers: { 'x-api-key': key } }, { scopes: ['docs:read'] });
 * ```
 * @throws TypeError naming the option for every misconfiguration
 */
export function createKeyward(options: KeywardOptions = {}): Keyward {
  const config = parseOptions(options);
  const { clock } = config;
  const events = new EventBus(clock, options.onListenerError ?? ((error) => process.emitWarning(`keyward: an event listener failed: ${error instanceof Error ? error.message : 'unknown error'}`, { code: 'KEYWARD_LISTENER_ERROR' })));
  const cache = new LruCache<string, KeyRecord>(config.cache.max, config.cache.ttlMs, clock);
  const hasher = createKeyHasher(config.pepper);
  const keys = new KeyManager({
    store: config.store,
    hasher,
    format: { prefix: config.prefix, randomBits: config.randomBits },
    defaultEnv: config.env,
    clock,
    cache,
    events,
    policy: parseKeyPolicy(options, config.prefix),
    ...(options.invalidation ? { invalidation: options.invalidation } : {}),
  });
  const challenge: ChallengeConfig = { realm: config.realm, schemes: ['Bearer'] };
  const resolveAddress: AddressResolver = createAddressResolver(options);

  const features = new Map<string, Feature>();
  const deps = { clock, events, keys, store: config.store, challenge, resolveAddress };
  for (const factory of FEATURES) {
    const f = factory(options, deps);
    if (f) features.set(f.name, f);
  }

  const authenticators: Authenticator[] = [];
  for (const f of features.values()) authenticators.push(...(f.authenticators ?? []));
  authenticators.push(keyAuthenticator(keys, config.store, config.trackLastUsedMs));

  const stagesByPhase = new Map(PHASES.map((p) => [p, [...features.values()].flatMap((f) => (f.stages?.[p] ? [f.stages[p]!] : []))]));
  const preauth = stagesByPhase.get('preauth')!;
  const after: Stage[] = [...stagesByPhase.get('postauth')!, ...stagesByPhase.get('restrictions')!, scopeStage, ...stagesByPhase.get('load')!, ...stagesByPhase.get('limits')!];
  const failureHooks = [...features.values()].filter((f) => f.onAuthFailure);

  const unsubscribers: Array<() => void> = [];
  if (options.invalidation) {
    options.invalidation
      .subscribe(
        (change) => {
          if (change.hash) cache.delete(change.hash);
          cache.deleteWhere((r) => r.id === change.id);
        },
        () => cache.clear(),
      )
      .then((unsub) => unsubscribers.push(unsub), (error) => events.emit({ type: 'store.error', reason: 'INVALIDATION_SUBSCRIBE_FAILED', data: { message: error instanceof Error ? error.message : 'unknown' } }));
  }

  const scopeCache = new Map<string, CompiledScopes>();
  const scopeRefs = new WeakMap<readonly string[], CompiledScopes>();
  function compiled(req: Requirements): CompiledScopes | undefined {
    const s = req.scopes;
    if (s === undefined) return undefined;
    if (isCompiledScopes(s)) return s;
    if (typeof s !== 'string') {
      // The same array object is passed on every request of a route: compile it once.
      let byRef = scopeRefs.get(s);
      if (!byRef) scopeRefs.set(s, (byRef = compileScopes(s)));
      return byRef;
    }
    const key = s;
    let c = scopeCache.get(key);
    if (!c) {
      c = compileScopes(s);
      if (scopeCache.size < 1000) scopeCache.set(key, c);
    }
    return c;
  }

  function scopeStage(ctx: PipelineContext): DenyDecision | undefined {
    if (!ctx.scopes || !ctx.principal) return undefined;
    if (satisfies(ctx.principal.scopes, ctx.scopes.expression)) return undefined;
    return deny('INSUFFICIENT_SCOPE', ctx.requestId, challenge, { detail: `This request needs: ${ctx.scopes.source}.`, scope: ctx.scopes.scopes, headers: ctx.headers });
  }

  let closed = false;

  function requestIdOf(request: AuthRequest): string {
    if (config.requestIdHeader !== false) {
      const v = request.headers[config.requestIdHeader];
      if (typeof v === 'string' && REQUEST_ID_RE.test(v)) return v;
    }
    return randomUUID();
  }

  function isPublic(request: AuthRequest): boolean {
    if (config.skipPreflight && request.method === 'OPTIONS' && request.headers['origin'] !== undefined && request.headers['access-control-request-method'] !== undefined) return true;
    for (const m of config.publicPaths) if (m(request.path)) return true;
    return false;
  }

  const redactExtra = config.extraction.queryParam ? [config.extraction.queryParam] : [];
  /** The request's fields common to its events, built without spreads (this runs on every request with listeners). */
  function eventBase(ctx: PipelineContext): Omit<EventInput, 'type'> {
    const r = ctx.request;
    const p = ctx.principal;
    const base: Record<string, unknown> = { requestId: ctx.requestId, method: r.method, path: r.query ? redactQuery(`${r.path}?${r.query}`, redactExtra) : r.path };
    if (ctx.clientAddress !== undefined) base.clientAddress = ctx.clientAddress;
    if (p) {
      base.keyId = p.keyId ?? p.id;
      base.owner = p.owner;
      base.principalType = p.type;
      if (p.hint) base.hint = p.hint;
      if (p.plan) base.plan = p.plan;
      if (p.subject) base.subject = p.subject;
    }
    const ua = r.headers['user-agent'];
    if (typeof ua === 'string') base.userAgent = ua.length > 256 ? ua.slice(0, 256) : ua;
    return base as Omit<EventInput, 'type'>;
  }

  function refuse(ctx: PipelineContext, denial: DenyDecision, keyId?: string): DenyDecision {
    const table = DENIAL_TABLE[denial.code];
    if (table.auth) for (const f of failureHooks) f.onAuthFailure!(ctx, denial.code);
    if (events.active) {
      events.emit({ type: table.auth ? 'auth.failed' : 'access.denied', ...eventBase(ctx), ...(keyId && !ctx.principal ? { keyId } : {}), status: denial.status, reason: denial.code });
    }
    return denial;
  }

  async function check(request: AuthRequest, requirements: Requirements = {}): Promise<Decision> {
    if (closed) throw new KeywardError('CLOSED', 'this keyward instance is closed');
    const requestId = requestIdOf(request);
    if (isPublic(request)) {
      // Public paths and preflights need none of the per-request state below.
      return { ok: true, principal: undefined, skipped: true, tracked: false, headers: {}, requestId, clientAddress: resolveAddress(request), done: () => {} };
    }
    const started = performance.now();
    const ctx: PipelineContext = {
      request,
      requirements,
      scopes: compiled(requirements),
      requestId,
      now: clock(),
      clientAddress: resolveAddress(request),
      headers: {},
      state: new Map(),
      onDone: [],
    };
    for (const stage of preauth) {
      const r = stage(ctx);
      const d = r && typeof (r as Promise<unknown>).then === 'function' ? await r : (r as StageResult); // synchronous stages cost no microtask
      if (d) return refuse(ctx, d);
    }
    const extraction = extractCredential(request, config.extraction);
    if ('code' in extraction) {
      return refuse(ctx, deny(extraction.code, requestId, challenge, { detail: extraction.detail, headers: ctx.headers }));
    }
    ctx.credential = extraction.credential;
    let outcome;
    for (const a of authenticators) {
      if (a.accepts(extraction.credential)) {
        outcome = await a.authenticate(extraction.credential, ctx);
        break;
      }
    }
    if (!outcome || 'code' in outcome) {
      const code = outcome?.code ?? 'CREDENTIALS_INVALID';
      const headers = { ...ctx.headers, ...(outcome?.headers ?? {}), ...(code === 'STORE_UNAVAILABLE' ? { 'Retry-After': '1' } : {}) };
      return refuse(ctx, deny(code, requestId, challenge, { detail: outcome?.detail ?? 'The credential is not valid.', headers }), outcome?.keyId);
    }
    ctx.principal = outcome.principal;
    if (outcome.record) ctx.record = outcome.record;
    if (outcome.headers) Object.assign(ctx.headers, outcome.headers);
    for (const stage of after) {
      const r = stage(ctx);
      const d = r && typeof (r as Promise<unknown>).then === 'function' ? await r : (r as StageResult); // synchronous stages cost no microtask
      if (d) return refuse(ctx, d);
    }
    let base = events.active ? eventBase(ctx) : undefined;
    if (base) events.emit({ type: 'auth.succeeded', ...base });
    let finished = false;
    return {
      ok: true,
      principal: ctx.principal,
      skipped: false,
      tracked: events.active || ctx.onDone.length > 0,
      headers: ctx.headers,
      requestId,
      clientAddress: ctx.clientAddress,
      done(info) {
        if (finished) return;
        finished = true;
        const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
        for (const hook of ctx.onDone) {
          try {
            hook({ ...info, durationMs });
          } catch {
            // a completion hook never breaks the response
          }
        }
        if (events.active) events.emit({ type: 'request.completed', ...(base ??= eventBase(ctx)), status: info.status, bytes: info.bytes, durationMs });
      },
    };
  }

  function authorize(decision: AllowDecision, scopes: CompiledScopes): DenyDecision | undefined {
    const principal = decision.principal;
    if (!principal) return deny('CREDENTIALS_MISSING', decision.requestId, challenge, { detail: 'No credentials were sent.' });
    if (satisfies(principal.scopes, scopes.expression)) return undefined;
    const d = deny('INSUFFICIENT_SCOPE', decision.requestId, challenge, { detail: `This request needs: ${scopes.source}.`, scope: scopes.scopes });
    if (events.active) events.emit({ type: 'access.denied', requestId: decision.requestId, keyId: principal.keyId ?? principal.id, owner: principal.owner, principalType: principal.type, status: d.status, reason: d.code, ...(decision.clientAddress ? { clientAddress: decision.clientAddress } : {}) });
    return d;
  }

  const instance: Keyward & { [KEYWARD_BRAND]: true } = {
    [KEYWARD_BRAND]: true,
    check,
    authorize,
    keys,
    on: (type, listener) => events.on(type, listener),
    flushEvents: () => events.drain(),
    config,
    features,
    metrics: (features.get('metrics') as MetricsFeature | undefined)?.metrics,
    resolveAddress,
    restrictions: restrictionsControl(features),
    tokens: tokensApiOf(features),
    async close() {
      if (closed) return;
      closed = true;
      for (const u of unsubscribers) u();
      for (const f of features.values()) await f.close?.();
      await events.drain();
    },
  };
  return instance;
}
