import type { ResponseHeaders } from '../model';
import type { RateLimitHeaderMode } from './types';

/**
 * The name of the failed-auth block's policy in the RateLimit headers of an `AUTH_BLOCKED` answer; no limit or quota
 * may take it (`limits` refuses it at start-up), so one name never stands for two policies.
 */
export const AUTH_BLOCK_POLICY = 'auth-failures';

/** The state of one policy for one request, as the headers report it. */
export interface PolicyState {
  /** Policy name (also the `violated-policies` entry). */
  readonly name: string;
  /** Quota: points, requests or bytes per window. */
  readonly limit: number;
  /** Window length in seconds. */
  readonly windowSeconds: number;
  /** Units left in this window (never negative). */
  readonly remaining: number;
  /** When the window ends (ms since epoch). */
  readonly resetAt: number;
  /** Quota unit (draft `qu`). */
  readonly unit: 'request' | 'content-bytes';
}

/** Seconds until `resetAt`, rounded up, at least 1 when in the future. */
export function secondsUntil(resetAt: number, now: number): number {
  return Math.max(0, Math.ceil((resetAt - now) / 1000));
}

/** The policy with the fewest units left (request units first); ties go to the later reset. */
export function tightest(states: readonly PolicyState[]): PolicyState | undefined {
  const requestUnits = states.filter((s) => s.unit === 'request');
  const pool = requestUnits.length > 0 ? requestUnits : states;
  let best: PolicyState | undefined;
  for (const s of pool) {
    if (!best || s.remaining < best.remaining || (s.remaining === best.remaining && s.resetAt > best.resetAt)) best = s;
  }
  return best;
}

/**
 * Writes the rate-limit headers into `headers`:
 * - `draft` (draft-ietf-httpapi-ratelimit-headers-10): `RateLimit-Policy: "burst";q=100;w=10, "egress";q=1000000;qu="content-bytes";w=86400`
 *   and `RateLimit: "burst";r=99;t=10, …`, one entry per policy, as Structured Field lists of Strings with parameters;
 * - `legacy`: `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (Unix time in seconds) of the
 *   tightest of `legacyFrom` (default: of all `states`; a refusal passes the policy that refused);
 * - `both`, or `false` for none.
 */
export function writeRateLimitHeaders(headers: ResponseHeaders, states: readonly PolicyState[], mode: RateLimitHeaderMode, now: number, legacyFrom: readonly PolicyState[] = states): void {
  if (mode === false || states.length === 0) return;
  if (mode === 'draft' || mode === 'both') {
    headers['RateLimit-Policy'] = states
      .map((s) => `"${s.name}";q=${s.limit}${s.unit === 'content-bytes' ? ';qu="content-bytes"' : ''};w=${s.windowSeconds}`)
      .join(', ');
    headers['RateLimit'] = states.map((s) => `"${s.name}";r=${s.remaining};t=${secondsUntil(s.resetAt, now)}`).join(', ');
  }
  if (mode === 'legacy' || mode === 'both') {
    const t = tightest(legacyFrom.length > 0 ? legacyFrom : states)!;
    headers['X-RateLimit-Limit'] = String(t.limit);
    headers['X-RateLimit-Remaining'] = String(t.remaining);
    headers['X-RateLimit-Reset'] = String(Math.ceil(t.resetAt / 1000));
  }
}
