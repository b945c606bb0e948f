import { likelyMeant, shownName } from '../config/fields';
import { redactCredentials } from './redact';

/** Version tag carried by every event. Bump when a field changes meaning. */
export const EVENT_SCHEMA = 'keyward.event/v1' as const;

/** The longest `userAgent` an event carries (a longer one is cut). */
export const MAX_EVENT_USER_AGENT = 256;

/** The last user agent in which {@link redactCredentials} found nothing: clients repeat theirs on every request. */
let cleanUserAgent = '';

/**
 * The `userAgent` field of an event from a request's `user-agent` header, `undefined` unless one string. Credentials
 * are redacted first ({@link redactCredentials}: key-shaped and JWT-shaped text, base64 that decodes to either — HTTP
 * Basic credentials — and `credential`, the value presented with the request), since a misconfigured client may send its key there and events are logged; then it is cut to
 * {@link MAX_EVENT_USER_AGENT}, so no cut can leave part of a credential behind. The header of the previous call,
 * when it held no credential, costs a comparison.
 */
export function eventUserAgent(header: string | readonly string[] | undefined, credential?: string): string | undefined {
  if (typeof header !== 'string') return undefined;
  let ua = header;
  if (ua !== cleanUserAgent || (credential !== undefined && credential.length <= ua.length && ua.includes(credential))) {
    const redacted = redactCredentials(ua, credential);
    if (redacted === ua) cleanUserAgent = ua;
    else ua = redacted;
  }
  return ua.length > MAX_EVENT_USER_AGENT ? ua.slice(0, MAX_EVENT_USER_AGENT) : ua;
}

/** Every event type keyward emits. */
export const EVENT_TYPES = [
  'auth.succeeded',
  'auth.failed',
  'access.denied',
  'request.completed',
  'key.created',
  'key.updated',
  'key.revoked',
  'key.disabled',
  'key.enabled',
  'key.deleted',
  'key.revealed',
  'key.rotated',
  'key.expiring',
  'key.expired',
  'key.idle',
  'key.suspended',
  'token.issued',
  'token.revoked',
  'anomaly.detected',
  'auth.blocked',
  'store.error',
  'audit.dropped',
] as const;

/** Every event type keyward emits (one of {@link EVENT_TYPES}). */
export type KeywardEventType = (typeof EVENT_TYPES)[number];

const KNOWN_TYPES: ReadonlySet<unknown> = new Set(EVENT_TYPES);

/** True when `value` is one of {@link EVENT_TYPES}: how `on()` and the sinks' `types` options check a type. */
export function isEventType(value: unknown): value is KeywardEventType {
  return KNOWN_TYPES.has(value);
}

/**
 * The words naming an unknown event type in an error: the type as {@link shownName} shows a name (never a long or
 * key-like one), the type it was likely meant to be, and the known ones. `wildcard` adds `'*'` to the known ones.
 */
export function unknownEventType(type: unknown, wildcard: boolean): string {
  const meant = typeof type === 'string' ? likelyMeant(type, EVENT_TYPES) : undefined;
  return `unknown event type ${shownName(type)} (${meant === undefined ? '' : `did you mean "${meant}"? `}one of ${EVENT_TYPES.join(', ')}${wildcard ? ", or '*'" : ''})`;
}

/**
 * One audit event. Fields that do not apply are absent. Never carries a credential, a hash or a secret:
 * keys are named by `keyId` and `hint`.
 */
export interface KeywardEvent {
  /** Schema version, {@link EVENT_SCHEMA}. */
  readonly schema: typeof EVENT_SCHEMA;
  readonly type: KeywardEventType;
  /** ISO 8601 time of the event. */
  readonly time: string;
  readonly requestId?: string;
  readonly keyId?: string;
  readonly hint?: string;
  readonly owner?: string;
  readonly subject?: string;
  readonly plan?: string;
  readonly principalType?: 'key' | 'token';
  /**
   * The issuer (`iss`) of a token, when keyward trusts several issuers and the token is not its own (a `jti` or a `sub`
   * is unique only within its issuer): `keyId` and `issuer` together name the token. Absent for keys, for keyward's own
   * tokens and for a single trusted issuer's.
   */
  readonly issuer?: string;
  readonly clientAddress?: string;
  readonly method?: string;
  /** Path and query, with credential-like query parameters, the presented credential and anything key- or JWT-shaped `[REDACTED]`. */
  readonly path?: string;
  readonly status?: number;
  readonly durationMs?: number;
  readonly bytes?: number;
  /** Denial code or reason, e.g. `KEY_REVOKED`. */
  readonly reason?: string;
  readonly userAgent?: string;
  readonly country?: string;
  /** Extra structured data (never secrets). */
  readonly data?: Readonly<Record<string, unknown>>;
}

/** What a producer passes to `emit`: everything but `schema` and (optionally) `time`. */
export type EventInput = Omit<KeywardEvent, 'schema' | 'time'> & { time?: string };

/** A subscriber. Called off the request path; its errors never reach the request. */
export type EventListener = (event: KeywardEvent) => void | Promise<void>;
