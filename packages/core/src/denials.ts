import type { DenialCode, DenyDecision, ProblemDetails, ResponseHeaders } from './model';

/** The one table: each denial code, its status, title and whether it is an authentication failure. */
export const DENIAL_TABLE: Readonly<Record<DenialCode, { status: number; title: string; auth: boolean }>> = {
  CREDENTIALS_MISSING: { status: 401, title: 'Credentials missing', auth: true },
  CREDENTIALS_INVALID: { status: 401, title: 'Invalid credentials', auth: true },
  CREDENTIALS_AMBIGUOUS: { status: 400, title: 'Ambiguous credentials', auth: true },
  KEY_EXPIRED: { status: 401, title: 'Key expired', auth: true },
  KEY_REVOKED: { status: 401, title: 'Key revoked', auth: true },
  KEY_DISABLED: { status: 401, title: 'Key disabled', auth: true },
  TOKEN_INVALID: { status: 401, title: 'Invalid token', auth: true },
  TOKEN_EXPIRED: { status: 401, title: 'Token expired', auth: true },
  INSUFFICIENT_SCOPE: { status: 403, title: 'Insufficient scope', auth: false },
  IP_FORBIDDEN: { status: 403, title: 'Client address not allowed', auth: false },
  REFERRER_FORBIDDEN: { status: 403, title: 'Referrer not allowed', auth: false },
  USER_AGENT_FORBIDDEN: { status: 403, title: 'User agent not allowed', auth: false },
  OUTSIDE_TIME_WINDOW: { status: 403, title: 'Outside the allowed time window', auth: false },
  COUNTRY_FORBIDDEN: { status: 403, title: 'Country not allowed', auth: false },
  ROUTE_FORBIDDEN: { status: 403, title: 'Route not allowed for this credential', auth: false },
  RATE_LIMITED: { status: 429, title: 'Too many requests', auth: false },
  QUOTA_EXCEEDED: { status: 429, title: 'Quota exceeded', auth: false },
  AUTH_BLOCKED: { status: 429, title: 'Too many failed authentication attempts', auth: false },
  OVERLOADED: { status: 503, title: 'Service overloaded', auth: false },
  STORE_UNAVAILABLE: { status: 503, title: 'Service temporarily unavailable', auth: false },
};

/** Problem type URI of a code, e.g. `urn:keyward:problem:credentials-missing`. */
export function problemType(code: DenialCode): string {
  return `urn:keyward:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}

/** The status of a denial code. */
export function statusOf(code: DenialCode): number {
  return DENIAL_TABLE[code].status;
}

/** Options for {@link deny}. */
export interface DenyOptions {
  /** Human explanation; must never contain a credential. */
  detail?: string;
  /** Extra headers (e.g. `Retry-After`). */
  headers?: ResponseHeaders;
  /** Extra problem members (e.g. `violated-policies`). */
  extensions?: Record<string, unknown>;
  /** Overrides the problem type URI (e.g. the IANA quota-exceeded type). */
  type?: string;
  /** Scopes to name in `insufficient_scope` challenges. */
  scope?: readonly string[];
}

/** The realm in `WWW-Authenticate` challenges. */
export interface ChallengeConfig {
  readonly realm: string;
  readonly schemes: readonly string[];
}

const quote = (s: string) => s.replace(/["\\]/g, '');

/**
 * Builds the `WWW-Authenticate` header for a denial (RFC 6750 §3): no `error` when no credential was sent,
 * `invalid_token` for a bad one, `invalid_request` for repeated or conflicting ones, `insufficient_scope` with
 * the required scopes.
 */
export function challengeFor(code: DenialCode, challenge: ChallengeConfig, scope?: readonly string[]): string | undefined {
  let error: string | undefined;
  let description: string | undefined;
  switch (code) {
    case 'CREDENTIALS_MISSING':
      break;
    case 'CREDENTIALS_AMBIGUOUS':
      error = 'invalid_request';
      break;
    case 'INSUFFICIENT_SCOPE':
      error = 'insufficient_scope';
      break;
    default:
      if (!DENIAL_TABLE[code].auth || DENIAL_TABLE[code].status !== 401) return undefined;
      error = 'invalid_token';
      description = DENIAL_TABLE[code].title;
  }
  return challenge.schemes
    .map((scheme) => {
      let v = `${scheme} realm="${quote(challenge.realm)}"`;
      if (error) v += `, error="${error}"`;
      if (description) v += `, error_description="${quote(description)}"`;
      if (error === 'insufficient_scope' && scope && scope.length > 0) v += `, scope="${quote(scope.join(' '))}"`;
      return v;
    })
    .join(', ');
}

/**
 * Builds a denial value. The only way the core refuses a request.
 *
 * @example
 * ```ts
 * return deny('RATE_LIMITED', requestId, challenge, { headers: { 'Retry-After': '10' } });
 * ```
 */
export function deny(code: DenialCode, requestId: string, challenge: ChallengeConfig, options: DenyOptions = {}): DenyDecision {
  const { status, title } = DENIAL_TABLE[code];
  const problem: ProblemDetails = {
    type: options.type ?? problemType(code),
    title,
    status,
    ...(options.detail !== undefined ? { detail: options.detail } : {}),
    code,
    ...(options.extensions ?? {}),
  };
  const headers: ResponseHeaders = { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store', ...(options.headers ?? {}) };
  const www = challengeFor(code, challenge, options.scope);
  if (www !== undefined && (status === 401 || status === 403 || status === 400)) headers['WWW-Authenticate'] = www;
  return { ok: false, code, status, headers, problem, requestId };
}
