import type { Endpoint, EndpointRequest, EndpointResponse } from '../endpoints/endpoint';
import type { EventBus } from '../events/bus';
import { eventUserAgent, type EventInput } from '../events/schema';
import { createEventPathRedactor } from '../events/redact';
import type { AuthRequest, DenyDecision, ResponseHeaders } from '../model';
import type { AddressResolver } from '../pipeline/address';
import type { Stage } from '../pipeline/context';
import { firstRefusal, outsideContext, runCompletionHooks } from '../pipeline/stages';
import type { AuthFailureGuard } from '../limits/auth-failures';
import type { KeyManager } from '../keys/manager';
import type { KeyRecord } from '../keys/record';
import { isRefusal, keyStatus, sharedPrincipalOf } from '../keys/authenticator';
import { effectiveExpiry } from '../keys/policy';
import { holds } from '../scopes/match';
import { isValidScope } from '../scopes/expression';
import type { Clock } from '../util/clock';
import { safeEqual } from '../util/time-safe';
import { isKeywardError } from '../errors';
import type { TokenIssuer } from './issuer';

/** RFC 6749 §5.2 error codes the token endpoint answers with (plus `temporarily_unavailable` and `server_error`). */
export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope' | 'temporarily_unavailable' | 'server_error';

/** The pipeline's stages the token endpoint runs, at the points of an exchange where the pipeline runs them. */
export interface ExchangeStages {
  /** Before any credential is read: the `preauth` phase (failed-auth blocks, then before-auth address limits). */
  readonly preauth: readonly Stage[];
  /**
   * Once the client authenticated, first: the `postauth` phase (a block of its address that started while the exchange
   * was in flight). Optional: none when not given.
   */
  readonly postauth?: readonly Stage[];
  /** Once the client authenticated: the restrictions, the global policy's and the key's, but `routes`. */
  readonly restrictions: readonly Stage[];
  /** Once the scopes are granted: the `load` phase (load shedding, by the key's plan). */
  readonly load: readonly Stage[];
  /** Then, before anything is signed: the `limits` phase (the key's rate limits and quotas, in its own buckets). */
  readonly limits: readonly Stage[];
}

/** What the token endpoint needs. */
export interface ExchangeDeps {
  readonly keys: KeyManager;
  readonly issue: TokenIssuer;
  readonly ttlMs: number;
  readonly clock: Clock;
  readonly events: EventBus;
  readonly realm: string;
  /** The instance's client-address resolver (trusted proxies applied), the one the pipeline uses. */
  readonly resolveAddress: AddressResolver;
  /** The request id of a request, as the pipeline derives it (the request-id header when valid, else a new id). */
  readonly requestId: (request: AuthRequest) => string;
  /** Failed-auth counting shared with the pipeline, when `authFailures` is configured (its block is a `preauth` stage). */
  readonly authFailures?: AuthFailureGuard;
  /** The instance's pipeline stages the endpoint runs (none when not given). */
  readonly stages?: ExchangeStages;
  /**
   * The `path` of its events, as the pipeline builds it ({@link createEventPathRedactor}, with the `queryParam` option's
   * name); by default one redacting the built-in credential parameter names.
   */
  readonly eventPath?: (path: string, query: string | undefined, credential: string | undefined) => string;
  /** The country a trusted proxy's `countryHeader` gives a request, as the pipeline's events carry it (none when not given). */
  readonly headerCountry?: (request: AuthRequest) => string | undefined;
}

const NO_STAGES: ExchangeStages = { preauth: [], restrictions: [], load: [], limits: [] };

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
const STATUS: Record<OAuthErrorCode, number> = { invalid_request: 400, invalid_client: 401, unauthorized_client: 400, unsupported_grant_type: 400, invalid_scope: 400, temporarily_unavailable: 503, server_error: 500 };
const KNOWN_PARAMS = new Set(['grant_type', 'scope', 'client_id', 'client_secret']);

function oauthError(error: OAuthErrorCode, description: string, realm: string, extra: Record<string, string> = {}, status = STATUS[error]): EndpointResponse {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...NO_STORE, ...extra };
  if (error === 'invalid_client') headers['WWW-Authenticate'] = `Basic realm="${realm.replace(/["\\]/g, '')}"`;
  // A 503 says when to come back; a 429 passes on the limit's own Retry-After, and none for a request that can never pass.
  if (error === 'temporarily_unavailable' && status !== 429) headers['Retry-After'] ??= '1';
  return { status, headers, body: JSON.stringify({ error, error_description: description }) };
}

/** The headers of a pipeline refusal the token endpoint passes on (`Retry-After`, RateLimit): not its problem+json type. */
function limitHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower !== 'content-type' && lower !== 'www-authenticate' && lower !== 'cache-control' && lower !== 'pragma') out[name] = value;
  }
  return out;
}

function header(request: EndpointRequest, name: string): string | undefined | null {
  const v = request.headers[name];
  if (v === undefined || typeof v === 'string') return v;
  return v.length === 1 ? v[0]! : v.length === 0 ? undefined : null;
}

function formDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: each part form-encoded, then base64). */
function basicCredentials(value: string): { id: string; secret: string } | undefined {
  const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  const id = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  return id && secret ? { id, secret } : undefined;
}

/**
 * The OAuth 2.0 token endpoint for the client-credentials grant (RFC 6749 §4.4): `POST`, form body,
 * `grant_type=client_credentials`; the client is an API key, authenticated with HTTP Basic (`client_id` = key id,
 * `client_secret` = the key) or with `client_id` and `client_secret` in the body. The token's `sub` and `client_id`
 * are the key id (RFC 9068 §2.2 for client credentials); it carries the key's owner, plan and restrictions (a
 * snapshot for other verifiers); its scopes are the requested ones, each held by the key (`invalid_scope` otherwise),
 * or all the key's scopes when none is asked. Its expiry never passes the moment the key stops working: its own expiry,
 * its maximum age under `keyPolicy.autoExpire`, or the end of its rotation grace period (`expires_in` says the same).
 * Errors follow RFC 6749 §5.2.
 * Where keyward verifies the token, it acts as its key: the key's standing, rate-limit and quota buckets, plan, limit
 * overrides and restrictions as they are at each request (see the tokens feature).
 *
 * An exchange is a use of its key, so the endpoint runs the pipeline's own stages on it (`deps.stages`, one context
 * per exchange), at the points where the pipeline runs them, in the same counters and buckets, and signs nothing and
 * charges nothing to the key's limits when one refuses; each refusal emits the pipeline's `access.denied` event
 * (`reason` = its denial code; the key's id and owner once the client authenticated), never a secret:
 *
 * - First, a method other than `POST` (a CORS preflight among them) gets 405 `invalid_request` with `Allow: POST`:
 *   it reads nothing, so it counts in no limit.
 * - Before any credential is read, the `preauth` phase. With `authFailures`: an address the pipeline or this endpoint
 *   blocked gets 429 `temporarily_unavailable` with `Retry-After`. With `limits` rules marked `beforeAuth`: each
 *   exchange counts in its address's buckets with the address's API requests; over a limit, 429
 *   `temporarily_unavailable` with `Retry-After` and the RateLimit headers.
 * - Once the client authenticated (key found, id matching, standing good): the access restrictions, the global policy
 *   and the key's own — IP/CIDR, referrer, user agent, time windows, countries — all but `routes` (they say which API
 *   routes the key may call; the token endpoint is not one, and the token takes them to every route it calls). A
 *   refusal is 403 `unauthorized_client` (RFC 6749 §5.2: the client authenticated but may not use this grant; not
 *   `invalid_client`, which would say its secret is wrong) whose description is the pipeline's detail, e.g. "Requests
 *   from this address are not allowed.", and it does not count as a failed authentication.
 * - Once the scopes are granted: the `load` phase. With `loadShedding`, an overloaded process sheds the exchange by
 *   the key's plan (`planPriority`), as it sheds the key's API requests, before the signature: 503
 *   `temporarily_unavailable` with `Retry-After`.
 *
 * With `authFailures` configured, every `invalid_client` for a wrong or unknown credential counts as one failure of
 * its address (resolved by the pipeline's resolver). A request without client authentication, a malformed request,
 * `invalid_scope` and any refusal above do not count.
 *
 * With `limits` configured, each exchange is a request of its key: once the client authenticated, the scopes are
 * granted and the load allows it, and before anything is signed, it is charged (cost 1) to the key's rate limits and
 * request quotas — the rules of its plan with its overrides, in the buckets its own requests and its tokens' use — by
 * the limits feature's own stage, store-failure policy included. Over a limit: 429 `temporarily_unavailable` with
 * `Retry-After` (none when the exchange can never pass: a limit of 0) and the RateLimit headers, charging nothing; the limits store down under `storeFailure: 'deny'`: 503
 * `temporarily_unavailable`. The token response counts in the key's byte quotas like any response, and carries the
 * RateLimit headers of the before-auth and the key's limits, and, for a key in its rotation grace period, the key's
 * `Deprecation`, `Sunset` (and `Link`) headers, as its API responses do.
 *
 * A key whose claims (its restrictions above all) would make a token longer than `tokens.maxTokenLength` is refused
 * the grant: 400 `unauthorized_client` and an `access.denied` event with `reason` `TOKEN_TOO_LARGE` (charged to its
 * limits, as the refusal comes at the signature).
 */
export function tokenEndpoint(deps: ExchangeDeps): Endpoint {
  const { realm, events, authFailures } = deps;
  const stages = deps.stages ?? NO_STAGES;
  const eventPath = deps.eventPath ?? createEventPathRedactor();
  const fail = (error: OAuthErrorCode, description: string, extra?: Record<string, string>, status?: number) => oauthError(error, description, realm, extra, status);

  /**
   * An event about this request, shaped like the pipeline's (request id, client address, user agent; no secret): its
   * path and query and its user agent redacted as the pipeline's are, the client secret presented (once read) included.
   */
  const requestEvent = (request: EndpointRequest, requestId: string, clientAddress: string | undefined, fields: EventInput, secret?: string): EventInput => {
    const ua = eventUserAgent(request.headers['user-agent'], secret);
    const country = deps.headerCountry?.(request);
    return {
      requestId,
      method: request.method,
      path: eventPath(request.path, request.query, secret), // a key pasted into the URL never reaches an event
      ...(clientAddress !== undefined ? { clientAddress } : {}),
      ...(ua !== undefined ? { userAgent: ua } : {}),
      ...(country !== undefined ? { country } : {}),
      ...fields,
      data: { endpoint: 'token' },
    };
  };

  return async (request) => {
    const now = deps.clock();
    const clientAddress = deps.resolveAddress(request);
    const requestId = deps.requestId(request);
    // One context for the whole exchange, as the pipeline has one per request: its stages share its headers and state.
    const ctx = outsideContext({ request, requestId, now, clientAddress });
    // The client credentials, once read: the secret is redacted from the events' path and user agent, as the
    // pipeline redacts the credential presented.
    let clientId: string | undefined;
    let secret: string | undefined;

    /**
     * A stage's refusal: the pipeline's `access.denied` event, and the answer under RFC 6749 §5.2. Never `invalid_client`
     * with its `Basic` challenge: the secret was not read (preauth) or was right (later), so saying it failed would be
     * untrue — a client holding the right secret could discard or rotate it. A restriction (403) is
     * `unauthorized_client`; a blocked address, a limit (429), an overload or a store down (503) is
     * `temporarily_unavailable` (the code this endpoint answers with when the key store is down), which says "retry
     * later" as the status and `Retry-After` do. Before the credential is read, the answer is the same whether the
     * secret would have been right or wrong, so a blocked address learns nothing.
     */
    const refused = (denial: DenyDecision, record?: KeyRecord): EndpointResponse => {
      if (events.wants('access.denied')) events.emit(requestEvent(request, requestId, clientAddress, { type: 'access.denied', status: denial.status, reason: denial.code, ...(record ? { keyId: record.id, owner: record.owner } : {}) }, secret));
      return fail(denial.status === 403 ? 'unauthorized_client' : 'temporarily_unavailable', denial.problem.detail ?? denial.problem.title, limitHeaders(denial.headers), denial.status);
    };

    // A request the endpoint cannot serve (a CORS preflight among them) reads nothing, so it counts in no limit.
    if (request.method !== 'POST') return fail('invalid_request', 'The token endpoint accepts POST only.', { Allow: 'POST' }, 405);
    const early = await firstRefusal(stages.preauth, ctx);
    if (early) return refused(early);

    /** `invalid_client` for a wrong, unknown or unusable credential: an `auth.failed` event and one counted failure. */
    const clientFailed = async (identified?: KeyRecord): Promise<EndpointResponse> => {
      // A block that started while this request was in flight answers instead, as in the pipeline (its event too).
      const blocked = await authFailures?.recordFailure(ctx);
      if (blocked) return refused(blocked);
      if (events.wants('auth.failed')) events.emit(requestEvent(request, requestId, clientAddress, { type: 'auth.failed', status: 401, reason: 'CREDENTIALS_INVALID', ...(identified ? { keyId: identified.id, owner: identified.owner } : {}) }, secret));
      return fail('invalid_client', 'Client authentication failed.');
    };

    const type = header(request, 'content-type');
    if (typeof type !== 'string' || !/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return fail('invalid_request', 'The body must be application/x-www-form-urlencoded.');
    const text = request.body === undefined ? '' : typeof request.body === 'string' ? request.body : request.body.toString('utf8');
    // A UTF-8 byte order mark first (.NET's StreamWriter writes one) is dropped, as body parsers drop it: kept, it was
    // part of the first name, and `grant_type` went missing only where no parser ran first.
    const form = new URLSearchParams(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    const params: Record<string, string> = {};
    for (const [name, value] of form) {
      // RFC 6749 §3.1: a parameter sent without a value is treated as omitted (`client_secret=` beside Basic is not a
      // second client authentication, `client_id=` not a mismatched one).
      if (!KNOWN_PARAMS.has(name) || value === '') continue;
      if (name in params) return fail('invalid_request', `The parameter ${name} was sent more than once.`);
      params[name] = value;
    }

    const grant = params['grant_type'];
    if (grant === undefined || grant === '') return fail('invalid_request', 'The grant_type parameter is missing.');
    if (grant !== 'client_credentials') return fail('unsupported_grant_type', 'Only the client_credentials grant is supported.');

    const sent = header(request, 'authorization');
    if (sent === null) return fail('invalid_request', 'The Authorization header was sent more than once.');
    // An empty `Authorization:` (some HTTP clients send one when given no credentials) authenticates no one: it is no
    // header, so client_secret_post beside it is the one client authentication, not a second.
    const auth = sent === undefined || sent.trim() === '' ? undefined : sent;
    if (auth !== undefined) {
      if (params['client_secret'] !== undefined) return fail('invalid_request', 'Use one client authentication method, not two.');
      const basic = basicCredentials(auth);
      if (!basic) return clientFailed();
      ({ id: clientId, secret } = basic);
      if (params['client_id'] !== undefined && params['client_id'] !== basic.id) return clientFailed();
    } else if (params['client_secret'] !== undefined) {
      clientId = params['client_id'];
      secret = params['client_secret'];
      if (!clientId) return fail('invalid_request', 'The client_id parameter is missing.');
    } else {
      return fail('invalid_client', 'Client authentication is required.');
    }

    let record: KeyRecord | undefined;
    try {
      record = await deps.keys.lookup(secret!); // the pipeline's rule: KeyManager.findPresented
    } catch {
      return fail('temporarily_unavailable', 'The key store is unavailable.');
    }
    const idMatches = safeEqual(record?.id ?? '', clientId!);
    // The same status rules as the pipeline, key policy included (a key past its maximum age exchanges nothing).
    const standing = record && idMatches ? keyStatus(record, now, deps.keys.policy) : undefined;
    if (!record || !standing || isRefusal(standing)) return clientFailed(record && idMatches ? record : undefined);
    // A key in its rotation grace period answers with `Deprecation`/`Sunset` (and `Link`), here as on the API.
    const keyHeaders = standing as ResponseHeaders; // not a refusal: the key's own headers, usually none
    for (const name in keyHeaders) ctx.headers[name] = keyHeaders[name]!;
    // From here the exchange is a request of its key, as an API request is once its key authenticated.
    ctx.record = record;
    ctx.principal = sharedPrincipalOf(record);
    const late = stages.postauth ? await firstRefusal(stages.postauth, ctx) : undefined;
    if (late) return refused(late, record);
    const restricted = await firstRefusal(stages.restrictions, ctx);
    if (restricted) return refused(restricted, record);

    let scopes: readonly string[] = record.scopes;
    const requested = params['scope'];
    if (requested !== undefined && requested.trim() !== '') {
      const list = [...new Set(requested.trim().split(/ +/))];
      if (!list.every(isValidScope)) return fail('invalid_scope', 'The scope parameter is malformed.');
      if (!list.every((s) => holds(record!.scopes, s))) return fail('invalid_scope', 'The requested scope exceeds the scopes of the key.');
      scopes = list;
    }

    // Shed before the signature it costs, as the pipeline sheds before the limits: a shed exchange is charged nothing.
    const shed = await firstRefusal(stages.load, ctx);
    if (shed) return refused(shed, record);

    // The exchange is a request of the key: charged to its limits before the signature it costs.
    const limited = await firstRefusal(stages.limits, ctx);
    if (limited) return refused(limited, record);

    // The token never outlives its key: the moment keyStatus() starts refusing it (its own expiry, or its maximum age
    // under `keyPolicy.autoExpire`), or the end of its rotation grace period.
    const notAfter = Math.min(effectiveExpiry(record, deps.keys.policy) ?? Infinity, record.graceEndsAt ?? Infinity);
    try {
      const issued = await deps.issue(
        {
          subject: record.id,
          scopes,
          ttl: deps.ttlMs,
          // The key's restrictions travel in the token, so exchanging a restricted key never yields an unrestricted token
          // for a verifier that only has the token (a resource server using the JWKS). keyward itself judges its own
          // exchanged tokens by the key's current record instead, so later changes to the key reach them at once.
          claims: { client_id: record.id, owner: record.owner, ...(record.plan !== undefined ? { plan: record.plan } : {}), ...(record.restrictions !== undefined ? { restrictions: record.restrictions } : {}) },
        },
        { keyId: record.id, owner: record.owner, grant: 'client_credentials', ...(Number.isFinite(notAfter) ? { notAfter } : {}) },
      );
      const body = JSON.stringify({ access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope: issued.scope });
      // The completion hooks the stages left (byte quotas), as the pipeline runs them once a response is sent.
      runCompletionHooks(ctx.onDone, { status: 200, bytes: Buffer.byteLength(body), durationMs: Math.max(0, deps.clock() - now) });
      return { status: 200, headers: { 'Content-Type': 'application/json', ...NO_STORE, ...ctx.headers }, body };
    } catch (error) {
      // The key's claims (its restrictions above all) would make a token over `tokens.maxTokenLength`, which no
      // verifier would accept: refuse this client the grant (not a silent 500), with an `access.denied` event whose reason says why.
      if (isKeywardError(error, 'TOKEN_TOO_LARGE')) {
        if (events.wants('access.denied')) events.emit(requestEvent(request, requestId, clientAddress, { type: 'access.denied', status: 400, reason: 'TOKEN_TOO_LARGE', keyId: record.id, owner: record.owner }, secret));
        return fail('unauthorized_client', "The key's claims (its restrictions) are too large to carry in a token.");
      }
      if (isKeywardError(error, 'TOKEN_ISSUE_FAILED') && Number.isFinite(notAfter) && notAfter - now < 2000) return fail('invalid_client', 'Client authentication failed.');
      return fail('server_error', 'The token could not be issued.');
    }
  };
}
