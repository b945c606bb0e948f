import type { KeywardEvent } from '../events/schema';

/** What one audit event contributes to a key's metrics. */
export interface Observation {
  readonly keyId: string;
  readonly owner?: string;
  readonly plan?: string;
  /** Event time (ms since epoch). */
  readonly time: number;
  /** `completed`: a response finished; `refused`: a denial for an identified key; `authenticated`: auth succeeded. */
  readonly kind: 'completed' | 'refused' | 'authenticated';
  readonly status?: number;
  readonly bytes?: number;
  readonly durationMs?: number;
  /** Denial code, for refusals. */
  readonly reason?: string;
  /** True when the refusal was an authentication failure (revoked, disabled, expired key…). */
  readonly authFailed?: boolean;
  readonly address?: string;
  /** Truncated to 128 characters. */
  readonly userAgent?: string;
  /** `METHOD /path`, query removed, truncated to 128 characters. */
  readonly endpoint?: string;
}

/**
 * Turns an audit event into a metrics observation, or `undefined` when the event says nothing about a key's use
 * (lifecycle events, failures with no identified key). Shared by the in-memory and the Redis aggregators.
 */
export function observationOf(event: KeywardEvent): Observation | undefined {
  const keyId = event.keyId;
  if (keyId === undefined) return undefined;
  let kind: Observation['kind'];
  switch (event.type) {
    case 'request.completed':
      kind = 'completed';
      break;
    case 'access.denied':
    case 'auth.failed':
      kind = 'refused';
      break;
    case 'auth.succeeded':
      kind = 'authenticated';
      break;
    default:
      return undefined;
  }
  const time = Date.parse(event.time);
  const path = event.path === undefined ? undefined : event.path.split('?', 1)[0]!;
  return {
    keyId,
    ...(event.owner !== undefined ? { owner: event.owner } : {}),
    ...(event.plan !== undefined ? { plan: event.plan } : {}),
    time: Number.isFinite(time) ? time : Date.now(),
    kind,
    ...(event.status !== undefined ? { status: event.status } : {}),
    ...(event.bytes !== undefined ? { bytes: event.bytes } : {}),
    ...(event.durationMs !== undefined ? { durationMs: event.durationMs } : {}),
    ...(kind === 'refused' && event.reason !== undefined ? { reason: event.reason } : {}),
    ...(event.type === 'auth.failed' ? { authFailed: true } : {}),
    ...(event.clientAddress !== undefined ? { address: event.clientAddress } : {}),
    ...(event.userAgent !== undefined ? { userAgent: event.userAgent.slice(0, 128) } : {}),
    ...(path !== undefined && event.method !== undefined ? { endpoint: `${event.method} ${path}`.slice(0, 128) } : {}),
  };
}

/** Index 0–4 of a status class (1xx–5xx), or -1. */
export function statusClass(status: number | undefined): number {
  if (status === undefined || status < 100 || status > 599) return -1;
  return Math.floor(status / 100) - 1;
}
