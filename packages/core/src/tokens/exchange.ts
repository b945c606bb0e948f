import type { Endpoint, EndpointRequest, EndpointResponse } from '../endpoints/endpoint';
import type { EventBus } from '../events/bus';
import { eventUserAgent, type EventInput } from '../events/schema';
import { redactCredentials } from '../events/redact';
import type { AuthRequest } from '../model';
import type { AddressResolver } from '../pipeline/address';
import type { AuthFailureGuard } from '../limits/auth-failures';
import type { KeyChargeResult, KeyLimitGuard } from '../limits/feature';
import type { KeyManager } from '../keys/manager';
import type { KeyRecord } from '../keys/record';
import { isRefusal, keyStatus } from '../keys/authenticator';
import { holds } from '../scopes/match';
import { isValidScope } from '../scopes/expression';
import type { Clock } from '../util/clock';
import { safeEqual } from '../util/time-safe';
import { isKeywardError } from '../errors';
import type { TokenIssuer } from './issuer';

/** RFC 6749 §5.2 error codes the token endpoint answers with (plus `temporarily_unavailable` and `server_error`). */
export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope' | 'temporarily_unavailable' | 'server_error';

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
  /** Failed-auth blocking shared with the pipeline, when `authFailures` is configured. */
  readonly authFailures?: AuthFailureGuard;
  /** The key's rate limits and quotas shared with the pipeline, when `limits` is configured. */
  readonly limits?: KeyLimitGuard;
}

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
const STATUS: Record<OAuthErrorCode, number> = { invalid_request: 400, invalid_client: 401, unsupported_grant_type: 400, invalid_scope: 400, temporarily_unavailable: 503, server_error: 500 };
const KNOWN_PARAMS = new Set(['grant_type', 'scope', 'client_id', 'client_secret']);

function oauthError(error: OAuthErrorCode, description: string, realm: string, extra: Record<string, string> = {}, status = STATUS[error]): EndpointResponse {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...NO_STORE, ...extra };
  if (error === 'invalid_client') headers['WWW-Authenticate'] = `Basic realm="${realm.replace(/["\\]/g, '')}"`;
  if (error === 'temporarily_unavailable') headers['Retry-After'] ??= '1';
  return { status, headers, body: JSON.stringify({ error, error_description: description }) };
}

/** The headers of a limits refusal the token endpoint passes on (`Retry-After`, RateLimit): not its problem+json type. */
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
 * or all the key's scopes when none is asked. Its expiry never passes the key's. Errors follow RFC 6749 §5.2.
 * Where keyward verifies the token, it acts as its key: the key's standing, rate-limit and quota buckets, plan, limit
 * overrides and restrictions as they are at each request (see the tokens feature).
 *
 * With `authFailures` configured, the endpoint shares failed-auth blocking with the pipeline: an address the pipeline
 * or this endpoint blocked is refused before any credential is read (429 `temporarily_unavailable` with
 * `Retry-After`), and every `invalid_client` for a wrong or unknown credential counts as one failure of its address
 * (resolved by the pipeline's resolver). A request without client authentication, a malformed request and
 * `invalid_scope` do not count.
 *
 * With `limits` configured, each exchange is a request of its key: once the client authenticated and the scopes are
 * granted, and before anything is signed, it is charged (cost 1) to the key's rate limits and request quotas — the
 * rules of its plan with its overrides, in the buckets its own requests and its tokens' use — by the limits feature's
 * own stage, store-failure policy included. Over a limit: 429 `temporarily_unavailable` with `Retry-After` and the
 * RateLimit headers, charging nothing; the limits store down under `storeFailure: 'deny'`: 503
 * `temporarily_unavailable`. The token response counts in the key's byte quotas like any response.
 */
export function tokenEndpoint(deps: ExchangeDeps): Endpoint {
  const { realm, events, authFailures, limits } = deps;
  const fail = (error: OAuthErrorCode, description: string, extra?: Record<string, string>, status?: number) => oauthError(error, description, realm, extra, status);

  /** An event about this request, shaped like the pipeline's (request id, client address, user agent; no secret). */
  const requestEvent = (request: EndpointRequest, requestId: string, clientAddress: string | undefined, fields: EventInput): EventInput => {
    const ua = eventUserAgent(request.headers['user-agent']);
    return {
      requestId,
      method: request.method,
      path: redactCredentials(request.path), // a key pasted into the URL never reaches an event
      ...(clientAddress !== undefined ? { clientAddress } : {}),
      ...(ua !== undefined ? { userAgent: ua } : {}),
      ...fields,
      data: { endpoint: 'token' },
    };
  };

  return async (request) => {
    const now = deps.clock();
    const clientAddress = deps.resolveAddress(request);
    const requestId = deps.requestId(request);

    if (authFailures) {
      const retryAfter = await authFailures.blockedFor(clientAddress, now);
      if (retryAfter !== undefined) {
        if (events.active) events.emit(requestEvent(request, requestId, clientAddress, { type: 'access.denied', status: 429, reason: 'AUTH_BLOCKED' }));
        // 429 `temporarily_unavailable`, not `invalid_client`: the credential was never looked at, so saying it failed
        // would be untrue — a client holding the right secret could discard or rotate it — and would come with a
        // `Basic` challenge that invites an immediate retry. `temporarily_unavailable` (the code this endpoint already
        // answers with when the key store is down) says "retry later", as 429 and `Retry-After` do, and the answer is
        // the same whether the secret would have been right or wrong, so a blocked address learns nothing.
        return fail('temporarily_unavailable', 'Too many failed authentication attempts from this address; try again later.', { 'Retry-After': String(retryAfter) }, 429);
      }
    }

    /** `invalid_client` for a wrong, unknown or unusable credential: an `auth.failed` event and one counted failure. */
    const clientFailed = async (identified?: KeyRecord): Promise<EndpointResponse> => {
      if (events.active) events.emit(requestEvent(request, requestId, clientAddress, { type: 'auth.failed', status: 401, reason: 'CREDENTIALS_INVALID', ...(identified ? { keyId: identified.id, owner: identified.owner } : {}) }));
      await authFailures?.recordFailure(clientAddress, now, requestId);
      return fail('invalid_client', 'Client authentication failed.');
    };

    if (request.method !== 'POST') return fail('invalid_request', 'The token endpoint accepts POST only.', { Allow: 'POST' }, 405);
    const type = header(request, 'content-type');
    if (typeof type !== 'string' || !/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return fail('invalid_request', 'The body must be application/x-www-form-urlencoded.');
    const text = request.body === undefined ? '' : typeof request.body === 'string' ? request.body : request.body.toString('utf8');
    const form = new URLSearchParams(text);
    const params: Record<string, string> = {};
    for (const [name, value] of form) {
      if (!KNOWN_PARAMS.has(name)) continue;
      if (name in params) return fail('invalid_request', `The parameter ${name} was sent more than once.`);
      params[name] = value;
    }

    const grant = params['grant_type'];
    if (grant === undefined || grant === '') return fail('invalid_request', 'The grant_type parameter is missing.');
    if (grant !== 'client_credentials') return fail('unsupported_grant_type', 'Only the client_credentials grant is supported.');

    const auth = header(request, 'authorization');
    if (auth === null) return fail('invalid_request', 'The Authorization header was sent more than once.');
    let clientId: string | undefined;
    let secret: string | undefined;
    if (auth !== undefined) {
      if (params['client_secret'] !== undefined) return fail('invalid_request', 'Use one client authentication method, not two.');
      const basic = basicCredentials(auth);
      if (!basic) return clientFailed();
      if (params['client_id'] !== undefined && params['client_id'] !== basic.id) return clientFailed();
      ({ id: clientId, secret } = basic);
    } else if (params['client_secret'] !== undefined) {
      clientId = params['client_id'];
      secret = params['client_secret'];
      if (!clientId) return fail('invalid_request', 'The client_id parameter is missing.');
    } else {
      return fail('invalid_client', 'Client authentication is required.');
    }

    let record: KeyRecord | undefined;
    try {
      record = deps.keys.isWellFormed(secret!) ? await deps.keys.lookup(secret!) : undefined;
    } catch {
      return fail('temporarily_unavailable', 'The key store is unavailable.');
    }
    const idMatches = safeEqual(record?.id ?? '', clientId!);
    // The same status rules as the pipeline, key policy included (a key past its maximum age exchanges nothing).
    if (!record || !idMatches || isRefusal(keyStatus(record, now, deps.keys.policy))) return clientFailed(record && idMatches ? record : undefined);

    let scopes: readonly string[] = record.scopes;
    const requested = params['scope'];
    if (requested !== undefined && requested.trim() !== '') {
      const list = [...new Set(requested.trim().split(/ +/))];
      if (!list.every(isValidScope)) return fail('invalid_scope', 'The scope parameter is malformed.');
      if (!list.every((s) => holds(record!.scopes, s))) return fail('invalid_scope', 'The requested scope exceeds the scopes of the key.');
      scopes = list;
    }

    // The exchange is a request of the key: charged to its limits before the signature it costs.
    let charged: KeyChargeResult | undefined;
    if (limits) {
      charged = await limits.charge({ record, request, clientAddress, now, requestId });
      const denied = charged.denied;
      if (denied) {
        if (events.active) events.emit(requestEvent(request, requestId, clientAddress, { type: 'access.denied', status: denied.status, reason: denied.code, keyId: record.id, owner: record.owner }));
        // `temporarily_unavailable`, as for a blocked address: the client authenticated, and may retry after `Retry-After`.
        return fail('temporarily_unavailable', denied.problem.detail ?? denied.problem.title, limitHeaders(denied.headers), denied.status);
      }
    }

    const notAfter = Math.min(record.expiresAt ?? Infinity, record.graceEndsAt ?? Infinity);
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
      charged?.done(200, Buffer.byteLength(body));
      return { status: 200, headers: { 'Content-Type': 'application/json', ...NO_STORE, ...(charged ? charged.headers : {}) }, body };
    } catch (error) {
      if (isKeywardError(error, 'TOKEN_ISSUE_FAILED') && Number.isFinite(notAfter) && notAfter - now < 2000) return fail('invalid_client', 'Client authentication failed.');
      return fail('server_error', 'The token could not be issued.');
    }
  };
}
