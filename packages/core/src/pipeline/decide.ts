import type { AllowDecision, AuthRequest, CompletionInfo, Decision, DenyDecision, Principal, Requirements, ResponseHeaders } from '../model';
import { deny, DENIAL_TABLE, type ChallengeConfig } from '../denials';
import type { KeywardConfig } from '../config/config';
import type { EventBus } from '../events/bus';
import { EVENT_SCHEMA, eventUserAgent, type KeywardEvent, type KeywardEventType } from '../events/schema';
import { createEventPathRedactor } from '../events/redact';
import { tokenEventFields } from '../events/principal-fields';
import type { IssuerQualifier } from '../tokens/issuer-names';
import { extractCredential, type Credential } from '../credentials/extract';
import type { CompiledScopes } from '../scopes/match';
import type { KeyRecord } from '../keys/record';
import type { AddressResolver } from './address';
import { isPromise } from '../util/maybe';
import { runCompletionHooks } from './stages';
import type { AuthOutcome, Authenticator, Completion, Feature, PipelineContext, Stage, StageResult } from './context';

/** The headers of an allowed request that no stage added to: shared, so the common case allocates nothing. */
const NO_HEADERS: ResponseHeaders = Object.freeze({}) as ResponseHeaders;
const NO_OP = (): void => {};

/** What the pipeline is built from, once, by `createKeyward`. */
export interface PipelineParts {
  readonly config: KeywardConfig;
  readonly events: EventBus;
  readonly challenge: ChallengeConfig;
  readonly resolveAddress: AddressResolver;
  /** The request id of a request: the caller's `requestIdHeader` value when plausible, else a new one. */
  readonly requestId: (request: AuthRequest) => string;
  /** Stages before the credential is read (failed-auth blocks, before-auth address limits). */
  readonly preauth: readonly Stage[];
  /** Stages after authentication, in phase order, the scope check among them. */
  readonly after: readonly Stage[];
  readonly authenticators: readonly Authenticator[];
  /** Features told about every authentication failure. */
  readonly failureHooks: readonly Feature[];
  /** The compiled scope requirement of a call. */
  compiled(requirements: Requirements): CompiledScopes | undefined;
  /** Which tokens' events name their issuer (several trusted issuers): `undefined` when none do. */
  readonly qualify?: IssuerQualifier;
  /**
   * The country a trusted proxy's `countryHeader` gives a request, which the country rules decide with: carried by the
   * events anomaly detection judges (completions and refusals), so `NEW_COUNTRY` sees that country, not the lookup of
   * the address. Absent without a header and a trusted proxy (nothing read then).
   */
  readonly headerCountry?: (request: AuthRequest) => string | undefined;
  /**
   * Filled, when given, with the request of each decision that let a request through while `access.denied` is listened
   * to: the `access.denied` of a route's own scope check (`kw.authorize`) reads the `headerCountry` of its request from
   * it, as the pipeline's events carry it. Given only with a `headerCountry`, so no other request pays for it.
   */
  readonly requestsOfAllowed?: WeakMap<AllowDecision, AuthRequest>;
}

/** Whom a refusal names in its event, beyond the request's principal (an authenticator's refusal, see {@link AuthOutcome}). */
type Refused = Pick<Extract<AuthOutcome, { code: string }>, 'keyId' | 'token' | 'record'>;

/** A decision, or its promise when a stage or the store had to wait. */
export type MaybeDecision = Decision | Promise<Decision>;


/**
 * The per-request state. A class, so every request's context has the same shape; the feature state, completion
 * hooks and response headers are created only when a stage uses them.
 */
class Context implements PipelineContext {
  credential?: Credential;
  principal?: Principal;
  record?: KeyRecord;
  /** Set when the response was reported (`done` runs once). */
  finished = false;
  private stateMap: Map<symbol, unknown> | undefined = undefined;
  private hooks: Array<(completion: Completion) => void> | undefined = undefined;
  private added: ResponseHeaders | undefined = undefined;

  constructor(
    readonly request: AuthRequest,
    readonly requirements: Requirements,
    readonly scopes: CompiledScopes | undefined,
    readonly requestId: string,
    readonly now: number,
    public clientAddress: string | undefined,
    readonly started: number,
  ) {}

  get state(): Map<symbol, unknown> {
    return (this.stateMap ??= new Map());
  }

  get onDone(): Array<(completion: Completion) => void> {
    return (this.hooks ??= []);
  }

  get headers(): ResponseHeaders {
    return (this.added ??= {});
  }

  /** The response headers stages added, or the shared empty object. */
  get headersOrNone(): ResponseHeaders {
    return this.added ?? NO_HEADERS;
  }

  /** The completion hooks stages added, if any. */
  get completionHooks(): ReadonlyArray<(completion: Completion) => void> | undefined {
    return this.hooks;
  }
}

/**
 * Builds the request pipeline: `decide(request, requirements)` answers synchronously when every stage and the key
 * look-up could answer at once (a cached key, memory counters), and with a promise only from the first stage that
 * has to wait. The common request therefore costs no promise and no microtask.
 */
export function createDecider(parts: PipelineParts): (request: AuthRequest, requirements?: Requirements) => MaybeDecision {
  const { config, events, challenge, resolveAddress, preauth, after, authenticators, failureHooks, qualify, headerCountry, requestsOfAllowed } = parts;
  const eventPath = createEventPathRedactor({ queryParams: config.extraction.queryParam ? [config.extraction.queryParam] : [] });

  const requestIdOf = parts.requestId;
  // Each reads its type with a constant key, so V8 keeps each read a plain load (see EventBus.listened).
  const wantsSucceeded = (): boolean => events.listened['auth.succeeded'] || events.broadcasting;
  const wantsCompleted = (): boolean => events.listened['request.completed'] || events.broadcasting;
  const wantsFailed = (): boolean => events.listened['auth.failed'] || events.broadcasting;
  const wantsDenied = (): boolean => events.listened['access.denied'] || events.broadcasting;

  function isPublic(request: AuthRequest): boolean {
    if (config.skipPreflight && request.method === 'OPTIONS' && request.headers['origin'] !== undefined && request.headers['access-control-request-method'] !== undefined) return true;
    const path = request.path;
    // Routers read an absolute-form target (`GET http://a.css/admin`) as its path (/admin), which an unanchored public
    // pattern such as /\.(css|js)/ would miss: only an origin-form path (`/…`) can be public. And a raw `#` never
    // reaches a router (Express, Koa and Fastify route what is before it): `/admin#x.css` is /admin, whatever a public
    // pattern such as /\.css$/ makes of the whole. No request target has one, so none is public.
    if (path.charCodeAt(0) !== 47 /* / */ || path.indexOf('#') !== -1) return false;
    // Fastify with `useSemicolonDelimiter` routes only what is before a `;` (`/admin;x.css` is /admin): public only
    // when both readings are.
    const semi = path.indexOf(';');
    return isPublicPath(path) && (semi === -1 || isPublicPath(path.slice(0, semi)));
  }

  function isPublicPath(path: string): boolean {
    for (const m of config.publicPaths) if (m(path)) return true;
    return false;
  }

  /** One request event in one object literal (no spreads, no copies): this runs on every request with listeners. */
  function requestEvent(type: KeywardEventType, ctx: Context, time: string = events.now()): Record<string, unknown> {
    const r = ctx.request;
    const e: Record<string, unknown> = { schema: EVENT_SCHEMA, type, time, requestId: ctx.requestId, method: r.method, path: eventPath(r.path, r.query, ctx.credential?.value) };
    if (ctx.clientAddress !== undefined) e.clientAddress = ctx.clientAddress;
    const p = ctx.principal;
    if (p) {
      // A token's fields are its signer's claims, any text: cleaned and redacted once per principal (tokenEventFields).
      const f = p.type === 'token' ? tokenEventFields(p) : p;
      e.keyId = ctx.record !== undefined ? ctx.record.id : (f.keyId ?? p.id); // a token exchanged from a key counts as its key
      e.owner = f.owner;
      e.principalType = p.type;
      if (p.hint) e.hint = p.hint;
      else if (ctx.record !== undefined) e.hint = ctx.record.hint; // a token acting as its key is named as the key is
      if (f.plan) e.plan = f.plan;
      if (f.subject) e.subject = f.subject;
      // Several trusted issuers: a token that is its own principal (not one acting as its key) is its issuer's.
      if (qualify !== undefined && ctx.record === undefined && qualify(p.issuer) !== undefined) e.issuer = p.issuer;
    }
    const ua = eventUserAgent(r.headers['user-agent'], ctx.credential?.value);
    if (ua !== undefined) e.userAgent = ua;
    return e;
  }

  /**
   * Names in a refusal's event whom the authenticator refused (see {@link AuthOutcome}): a key refused for its status
   * by its id; a token refused after its signature was verified as its accepted requests name it (its `jti` and
   * subject, and its issuer among several; a token exchanged for a key as the key, by its id and hint), so metrics and
   * anomaly detection count the refusal for the same principal (see observedKeyId). No owner or plan: a key's own
   * refusal names none either.
   */
  function nameRefused(e: Record<string, unknown>, refused: Refused): void {
    const p = refused.token;
    if (p === undefined) {
      if (refused.keyId) e.keyId = refused.keyId;
      return;
    }
    const f = tokenEventFields(p); // its signer's claims: cleaned and redacted, as in every event
    const r = refused.record;
    e.keyId = r !== undefined ? r.id : f.keyId;
    e.principalType = p.type;
    if (r !== undefined) e.hint = r.hint;
    if (f.subject) e.subject = f.subject;
    if (qualify !== undefined && r === undefined && qualify(p.issuer) !== undefined) e.issuer = p.issuer;
  }

  /** Adds the country a trusted proxy's header gives the request to its event, if it gives one. */
  function withCountry(e: Record<string, unknown>, request: AuthRequest): void {
    const country = headerCountry!(request);
    if (country !== undefined) e.country = country;
  }

  /**
   * Answers a refusal: failure hooks told, the event published. When a hook counts the failure in a remote store, the
   * answer waits for it, so the next request from the same address already sees the count (the block is exact). A
   * hook's denial (a block that started while the request was in flight) is the answer instead.
   */
  function refuse(ctx: Context, denial: DenyDecision, refused?: Refused): MaybeDecision {
    const table = DENIAL_TABLE[denial.code];
    let counting: Array<Promise<DenyDecision | undefined | void>> | undefined;
    if (table.auth) {
      for (const f of failureHooks) {
        const r = f.onAuthFailure!(ctx, denial.code);
        if (!r) continue;
        if (isPromise<DenyDecision | undefined | void>(r)) (counting ??= []).push(r);
        else return refuse(ctx, r);
      }
    }
    if (counting) {
      return Promise.all(counting).then(
        (answers) => {
          const instead = answers.find((a) => a);
          return instead ? refuse(ctx, instead) : answered(ctx, denial, refused);
        },
        () => answered(ctx, denial, refused),
      );
    }
    return answered(ctx, denial, refused);
  }

  /** Publishes a refusal's event (`auth.failed` or `access.denied`) and answers with it. */
  function answered(ctx: Context, denial: DenyDecision, refused: Refused | undefined): DenyDecision {
    const table = DENIAL_TABLE[denial.code];
    if (table.auth ? wantsFailed() : wantsDenied()) {
      const e = requestEvent(table.auth ? 'auth.failed' : 'access.denied', ctx);
      if (refused !== undefined && !ctx.principal) nameRefused(e, refused);
      if (headerCountry !== undefined) withCountry(e, ctx.request);
      e.status = denial.status;
      e.reason = denial.code;
      events.publish(e as unknown as KeywardEvent);
    }
    return denial;
  }

  /** Runs `stages` from `from`; continues with `then` when none refused. Goes asynchronous only at a promise. */
  function runStages(ctx: Context, stages: readonly Stage[], from: number, then: (ctx: Context) => MaybeDecision): MaybeDecision {
    for (let i = from; i < stages.length; i++) {
      const r = stages[i]!(ctx);
      if (isPromise<StageResult>(r)) return Promise.resolve(r).then((d) => (d ? refuse(ctx, d) : runStages(ctx, stages, i + 1, then)));
      if (r) return refuse(ctx, r);
    }
    return then(ctx);
  }

  function authenticate(ctx: Context): MaybeDecision {
    const extraction = extractCredential(ctx.request, config.extraction);
    if ('code' in extraction) return refuse(ctx, deny(extraction.code, ctx.requestId, challenge, { detail: extraction.detail, headers: ctx.headersOrNone }));
    const credential = extraction.credential;
    ctx.credential = credential;
    for (const a of authenticators) {
      if (!a.accepts(credential)) continue;
      const outcome = a.authenticate(credential, ctx);
      return isPromise<AuthOutcome>(outcome) ? Promise.resolve(outcome).then((o) => authenticated(ctx, o)) : authenticated(ctx, outcome);
    }
    return authenticated(ctx, undefined);
  }

  function authenticated(ctx: Context, outcome: AuthOutcome | undefined): MaybeDecision {
    if (!outcome || 'code' in outcome) {
      const code = outcome?.code ?? 'CREDENTIALS_INVALID';
      const headers = { ...ctx.headersOrNone, ...(outcome?.headers ?? {}), ...(code === 'STORE_UNAVAILABLE' ? { 'Retry-After': '1' } : {}) };
      return refuse(ctx, deny(code, ctx.requestId, challenge, { detail: outcome?.detail ?? 'The credential is not valid.', headers }), outcome);
    }
    ctx.principal = outcome.principal;
    if (outcome.record) ctx.record = outcome.record;
    const added = outcome.headers;
    if (added) for (const name in added) ctx.headers[name] = added[name]!;
    return runStages(ctx, after, 0, allow);
  }

  /** An allowed request's completion, once: its completion hooks, then `request.completed`. Bound to the request's context. */
  function complete(this: Context, info: CompletionInfo): void {
    if (this.finished) return;
    this.finished = true;
    const durationMs = Math.round((performance.now() - this.started) * 1000) / 1000;
    const hooks = this.completionHooks;
    if (hooks) runCompletionHooks(hooks, { status: info.status, bytes: info.bytes, durationMs });
    if (wantsCompleted()) {
      const e = requestEvent('request.completed', this);
      e.status = info.status;
      e.bytes = info.bytes;
      e.durationMs = durationMs;
      if (headerCountry !== undefined) withCountry(e, this.request);
      events.publish(e as unknown as KeywardEvent);
    }
  }

  function allow(ctx: Context): Decision {
    if (wantsSucceeded()) events.publish(requestEvent('auth.succeeded', ctx, events.at(ctx.now)) as unknown as KeywardEvent); // the clock was read once, at the start
    const hooks = ctx.completionHooks;
    // The response is tracked only for someone: a completion hook, or a listener of `request.completed`.
    const tracked = (hooks !== undefined && hooks.length > 0) || wantsCompleted();
    const decision: AllowDecision = {
      ok: true,
      principal: ctx.principal,
      skipped: false,
      tracked,
      headers: ctx.headersOrNone,
      requestId: ctx.requestId,
      clientAddress: ctx.clientAddress,
      // One function bound to each request, not a closure per request: with a new closure on every request, V8 lost
      // `done`'s optimized code again and again (`--trace-opt` showed it recompiled every 8,000-10,000 requests on
      // Express, and under callgrind it ran unoptimized for many requests: ~4k instructions per request).
      done: tracked ? complete.bind(ctx) : NO_OP,
    };
    // Only with a trusted proxy's countryHeader (see PipelineParts.requestsOfAllowed): one comparison for any other request.
    if (requestsOfAllowed !== undefined && wantsDenied()) requestsOfAllowed.set(decision, ctx.request);
    return decision;
  }

  return function decide(request: AuthRequest, requirements: Requirements = {}): MaybeDecision {
    const requestId = requestIdOf(request);
    if (isPublic(request)) {
      // Public paths and preflights need none of the per-request state below.
      return { ok: true, principal: undefined, skipped: true, tracked: false, headers: NO_HEADERS, requestId, clientAddress: resolveAddress(request), done: NO_OP };
    }
    const ctx = new Context(request, requirements, parts.compiled(requirements), requestId, config.clock(), resolveAddress(request), performance.now());
    // A connection closed before the request was read took its address with it (see AuthRequest.closed): unknown, it
    // would pass a country deny-list and skip per-address limits and the failed-auth block. One comparison per request.
    if (ctx.clientAddress === undefined && request.closed === true) return refuse(ctx, deny('IP_FORBIDDEN', requestId, challenge, { detail: 'The connection closed before the client address could be read.', headers: ctx.headersOrNone }));
    return preauth.length === 0 ? authenticate(ctx) : runStages(ctx, preauth, 0, authenticate);
  };
}
