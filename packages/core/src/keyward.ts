import { requestIdFrom } from './util/request-id';
import { limitNames } from './limits/config';
import type { AllowDecision, AuthRequest, Decision, DenyDecision, Requirements } from './model';
import { deny, type ChallengeConfig } from './denials';
import type { KeywardOptions } from './config/options';
import { parseOptions, type KeywardConfig } from './config/config';
import { EventBus } from './events/bus';
import type { EventListener, KeywardEventType } from './events/schema';
import { KeyManager } from './keys/manager';
import { parseKeyPolicy } from './keys/policy';
import { createKeyHasher } from './keys/hash';
import { keyAuthenticator } from './keys/authenticator';
import { LruCache } from './util/lru';
import type { KeyRecord } from './keys/record';
import { compileScopes, isCompiledScopes, satisfies, type CompiledScopes } from './scopes/match';
import { PHASES, type Authenticator, type Feature, type PipelineContext, type Stage } from './pipeline/context';
import { createDecider, type MaybeDecision } from './pipeline/decide';
import { createAddressResolver, type AddressResolver } from './pipeline/address';
import { stagesOf } from './pipeline/stages';
import { headerCountryOf, restrictionsControl, type RestrictionsControl } from './restrictions/feature';
import { FEATURES } from './features/registry';
import { keyOfToken, tokensApiOf, type TokenApi } from './tokens/feature';
import type { MemoryMetrics, MetricsFeature } from './metrics';
import { KeywardError } from './errors';
import { RetryingChannel } from './stores/retrying-channel';
import { tokenEventFields } from './events/principal-fields';
import { issuerQualifier } from './tokens/issuer-names';
import { failureMessage } from './events/failure-message';

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
   * {@link Keyward.check} for adapters: the same decision, returned directly when nothing had to wait (a cached key,
   * in-memory limits) and as a promise otherwise, so the common request costs no microtask. Never throws: a failure
   * is a rejected promise.
   *
   * @example
   * ```ts
   * const d = kw.decide(request);
   * if (d instanceof Promise) d.then(proceed, fail); else proceed(d);
   * ```
   */
  decide(request: AuthRequest, requirements?: Requirements): Decision | Promise<Decision>;
  /**
   * Checks an already authenticated principal against a scope requirement (route-level `requireScopes`).
   * Returns `undefined` when satisfied, a 403 denial otherwise.
   */
  authorize(decision: AllowDecision, scopes: CompiledScopes): DenyDecision | undefined;
  /** The key manager: create, list, revoke, rotate keys. */
  readonly keys: KeyManager;
  /**
   * Subscribes to one event type or `'*'`; returns the unsubscribe function. keyward builds an event only while
   * someone wants its type, so subscribe to the types you need rather than to `'*'` when you can.
   *
   * @throws TypeError for an unknown event type or a listener that is not a function
   */
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
  const events = new EventBus(clock, options.onListenerError ?? ((error) => process.emitWarning(`keyward: an event listener failed: ${error instanceof Error ? failureMessage(error) : 'unknown error'}`, { code: 'KEYWARD_LISTENER_ERROR' })));
  const cache = new LruCache<string, KeyRecord>(config.cache.max, config.cache.ttlMs, clock);
  const idCache = new LruCache<string, KeyRecord>(config.cache.max, config.cache.ttlMs, clock);
  const hasher = createKeyHasher(config.pepper, config.previousPeppers);
  // A change whose publish failed (a Redis blip) is published again until it goes through, not lost.
  const invalidation = options.invalidation ? new RetryingChannel(options.invalidation) : undefined;
  const keys = new KeyManager({
    store: config.store,
    hasher,
    format: { prefix: config.prefix, randomBits: config.randomBits },
    defaultEnv: config.env,
    clock,
    cache,
    idCache,
    events,
    policy: parseKeyPolicy(options, config.prefix, config.extraction.maxLength),
    ...(options.limits !== undefined ? { limitNames: limitNames(options.limits)! } : {}),
    ...(invalidation ? { invalidation } : {}),
  });
  const challenge: ChallengeConfig = { realm: config.realm, schemes: config.challengeSchemes };
  const resolveAddress: AddressResolver = createAddressResolver(options);

  const features = new Map<string, Feature>();
  const deps = { clock, events, keys, store: config.store, challenge, resolveAddress, requestId: requestIdFrom(config.requestIdHeader, { headers: config.extraction.header === false ? ['authorization'] : ['authorization', config.extraction.header], query: config.extraction.queryParam !== false }), storeTimeoutMs: config.storeTimeoutMs };
  for (const factory of FEATURES) {
    const f = factory(options, deps);
    if (f) features.set(f.name, f);
  }

  const authenticators: Authenticator[] = [];
  for (const f of features.values()) authenticators.push(...(f.authenticators ?? []));
  authenticators.push(keyAuthenticator(keys, config.store, config.trackLastUsedMs));

  const stagesByPhase = new Map(PHASES.map((p) => [p, stagesOf(features, p)]));
  const preauth = stagesByPhase.get('preauth')!;
  const after: Stage[] = [...stagesByPhase.get('postauth')!, ...stagesByPhase.get('restrictions')!, scopeStage, ...stagesByPhase.get('load')!, ...stagesByPhase.get('limits')!];
  const failureHooks = [...features.values()].filter((f) => f.onAuthFailure);

  let closed = false;
  const unsubscribers: Array<() => void> = [];
  if (options.invalidation) {
    options.invalidation
      .subscribe(
        (change) => keys.forget(change.id),
        () => keys.forget(),
      )
      // A channel that subscribes after close() (even one made and closed in the same turn) is closed at once, so
      // its connection does not outlive the instance (and keep the process alive).
      .then((unsub) => (closed ? unsub() : unsubscribers.push(unsub)), (error) => events.emit({ type: 'store.error', reason: 'INVALIDATION_SUBSCRIBE_FAILED', data: { message: failureMessage(error) } }));
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

  // With several trusted issuers, a token's events name its issuer (its `jti` or `sub` is unique only within it).
  const qualify = issuerQualifier(options.tokens);
  const headerCountry = headerCountryOf(features);
  // With a trusted proxy's country header, the request of each decision that let one through, for the header's country
  // in the `access.denied` of a route's own scope check (anomaly detection judges that country, not the address's).
  const requestsOfAllowed = headerCountry ? new WeakMap<AllowDecision, AuthRequest>() : undefined;
  const decider = createDecider({ config, events, challenge, resolveAddress, requestId: deps.requestId, preauth, after, authenticators, failureHooks, compiled, ...(qualify ? { qualify } : {}), ...(headerCountry ? { headerCountry, requestsOfAllowed } : {}) });

  function decide(request: AuthRequest, requirements?: Requirements): MaybeDecision {
    if (closed) return Promise.reject(new KeywardError('CLOSED', 'this keyward instance is closed'));
    try {
      return decider(request, requirements);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async function check(request: AuthRequest, requirements?: Requirements): Promise<Decision> {
    return decide(request, requirements);
  }

  function authorize(decision: AllowDecision, scopes: CompiledScopes): DenyDecision | undefined {
    const principal = decision.principal;
    if (!principal) return deny('CREDENTIALS_MISSING', decision.requestId, challenge, { detail: 'No credentials were sent.' });
    if (satisfies(principal.scopes, scopes.expression)) return undefined;
    const d = deny('INSUFFICIENT_SCOPE', decision.requestId, challenge, { detail: `This request needs: ${scopes.source}.`, scope: scopes.scopes });
    if (events.wants('access.denied')) {
      const f = principal.type === 'token' ? tokenEventFields(principal) : principal; // a token's claims: cleaned for events
      // A token exchanged for a key is named as its key, as the pipeline's own events name it (its id and hint).
      const key = principal.type === 'token' ? keyOfToken(principal) : undefined;
      const issuer = principal.type === 'token' && key === undefined && qualify?.(principal.issuer) !== undefined ? principal.issuer : undefined;
      const hint = key?.hint ?? principal.hint;
      // The country a trusted proxy's header gave the request, as the pipeline's events carry it.
      const request = requestsOfAllowed?.get(decision);
      const country = request !== undefined ? headerCountry!(request) : undefined;
      // The subject too, as the pipeline's events carry it: metrics and anomalies count a token under it.
      events.emit({ type: 'access.denied', requestId: decision.requestId, keyId: key?.id ?? f.keyId ?? principal.id, ...(hint !== undefined ? { hint } : {}), owner: f.owner, principalType: principal.type, ...(f.subject ? { subject: f.subject } : {}), ...(issuer !== undefined ? { issuer } : {}), status: d.status, reason: d.code, ...(decision.clientAddress ? { clientAddress: decision.clientAddress } : {}), ...(country !== undefined ? { country } : {}) });
    }
    return d;
  }

  const instance: Keyward & { [KEYWARD_BRAND]: true } = {
    [KEYWARD_BRAND]: true,
    check,
    decide,
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
      invalidation?.close();
      for (const f of features.values()) await f.close?.();
      await events.drain();
    },
  };
  return instance;
}
