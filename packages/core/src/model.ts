import type { CompiledScopes } from './scopes/match';

/**
 * The framework-free request the core decides on. Adapters build it from their framework's request;
 * the core never sees a framework object.
 */
export interface AuthRequest {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** Path without the query string, e.g. `/v1/docs/42`. */
  readonly path: string;
  /** Raw query string without `?` (may be empty). Only read when query credentials are enabled. */
  readonly query?: string;
  /**
   * Headers with lower-case names. A header sent more than once is an array of its values
   * (Node's `headersDistinct`), so repeated credentials can be refused.
   */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The socket's peer address, as the server saw it. */
  readonly remoteAddress?: string;
  /**
   * True when the client's connection had closed before the request was read, so the socket no longer knew its peer
   * and `remoteAddress` is missing (Node forgets it with the socket; an async middleware in front of keyward gives the
   * client time to close). Such a request cannot be tied to an address and nobody can read its answer: it is refused
   * (403 `IP_FORBIDDEN`) instead of passing address rules, limits and the audit trail as an unknown address.
   * `toAuthRequest` sets it; an adapter of its own should too.
   */
  readonly closed?: boolean;
}

/** Who is calling: the result of authenticating a credential. */
export interface Principal {
  /** What kind of credential authenticated the caller. */
  readonly type: 'key' | 'token';
  /** Key id (for keys) or token subject (for tokens). Safe to log. */
  readonly id: string;
  /** The key's id when `type` is `'key'`, or the token's `jti` when there is one. */
  readonly keyId?: string;
  /** The owner (an account, a team, a client id). */
  readonly owner?: string;
  /** The subject of a token, or the owner of a key. */
  readonly subject?: string;
  /**
   * The issuer (`iss`) of a token: which trusted issuer signed it. A `sub` is unique only within its issuer, so a token
   * principal is `issuer` and `id` together. Absent for keys.
   */
  readonly issuer?: string;
  /** Scopes granted (exact or wildcard like `users:*`). */
  readonly scopes: readonly string[];
  /** Plan tier, e.g. `free` or `pro`. */
  readonly plan?: string;
  /** The key's human name. */
  readonly name?: string;
  /** A display hint such as `kw_live_…a1B2`; never the secret. */
  readonly hint?: string;
  /** Free-form metadata stored with the key, or token claims mapped by option. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** When the credential expires (ms since epoch), if it does. */
  readonly expiresAt?: number;
}

/** What a route requires: nothing, a list of scopes that must all be held, or a parsed expression. */
export type ScopeRequirement = string | readonly string[] | CompiledScopes | undefined;

/** Per-call requirements given to `check()`. */
export interface Requirements {
  /** Scopes required: an array (all must be held) or an expression such as `(a OR b) AND c`. */
  readonly scopes?: ScopeRequirement;
  /**
   * Weighted cost of this request for rate limits (default 1, rounded up). Anything but a non-negative finite number
   * makes the check fail with a `TypeError` naming `cost` when limits or quotas apply to the caller.
   */
  readonly cost?: number;
}

/** What the adapter reports when the response has finished. */
export interface CompletionInfo {
  /** The status sent. */
  readonly status: number;
  /** Response body bytes sent. */
  readonly bytes: number;
}

/** Response headers the adapter must set. */
export type ResponseHeaders = Record<string, string>;

/** RFC 9457 problem details with keyward's stable `code`. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly code: string;
  readonly [extension: string]: unknown;
}

/** The request may proceed. */
export interface AllowDecision {
  readonly ok: true;
  /** The caller; `undefined` when the request was skipped (public path or CORS preflight). */
  readonly principal: Principal | undefined;
  /** True when the request was not authenticated because it is public or a preflight. */
  readonly skipped: boolean;
  /** Headers to set on the response (rate-limit state, deprecation, …). */
  readonly headers: ResponseHeaders;
  /** Correlation id of this request in events. */
  readonly requestId: string;
  /** Client address as resolved by the core (trusted proxies applied). */
  readonly clientAddress: string | undefined;
  /**
   * True when the core needs {@link AllowDecision.done} (someone listens to events, or a byte quota, metrics or
   * anomaly detection counts the response). Adapters skip tracking the response otherwise, which saves its cost.
   */
  readonly tracked: boolean;
  /** Call once when the response has finished; feeds metrics, byte quotas and the audit trail. */
  done(info: CompletionInfo): void;
}

/** The request is refused. A denial is a value, never a thrown error. */
export interface DenyDecision {
  readonly ok: false;
  /** Stable denial code. */
  readonly code: DenialCode;
  /** HTTP status, from the one table in `denials.ts`. */
  readonly status: number;
  /** Headers to send: `WWW-Authenticate`, `Retry-After`, rate-limit headers, `Content-Type`. */
  readonly headers: ResponseHeaders;
  /** The `application/problem+json` body. */
  readonly problem: ProblemDetails;
  /** Correlation id of this request in events. */
  readonly requestId: string;
}

/** The core's answer for a request. */
export type Decision = AllowDecision | DenyDecision;

/** Every denial code. Each maps to exactly one status (see `DENIAL_TABLE`). */
export type DenialCode =
  | 'CREDENTIALS_MISSING'
  | 'CREDENTIALS_INVALID'
  | 'CREDENTIALS_AMBIGUOUS'
  | 'KEY_EXPIRED'
  | 'KEY_REVOKED'
  | 'KEY_DISABLED'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  | 'INSUFFICIENT_SCOPE'
  | 'IP_FORBIDDEN'
  | 'REFERRER_FORBIDDEN'
  | 'USER_AGENT_FORBIDDEN'
  | 'OUTSIDE_TIME_WINDOW'
  | 'COUNTRY_FORBIDDEN'
  | 'ROUTE_FORBIDDEN'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED'
  | 'AUTH_BLOCKED'
  | 'OVERLOADED'
  | 'STORE_UNAVAILABLE';
