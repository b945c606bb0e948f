import type { KeywardEvent } from '../events/schema';
import { redactCredentials } from '../events/redact';

/** What one audit event contributes to a key's metrics. */
export interface Observation {
  /**
   * Whose use it is: the key's id (also for a token exchanged for the key, which acts as it); for any other token
   * `token:<sub>` (its `jti` when it has no `sub`), apart from every key whatever its `sub`, and for a token of one of
   * several trusted issuers (an event with `issuer`) `token:<sub>@"<iss>"`, since a `sub` is unique only within its
   * issuer.
   */
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
  /** The client address (not filled for `authenticated`, like `userAgent` and `endpoint`: only completions and refusals count them). */
  readonly address?: string;
  /** Truncated to 128 characters. */
  readonly userAgent?: string;
  /** `METHOD /path`, query removed, key- and JWT-shaped substrings `[REDACTED]`, truncated to 128 characters. */
  readonly endpoint?: string;
}

/**
 * Turns an audit event into a metrics observation, or `undefined` when the event says nothing about a key's use
 * (lifecycle events, failures with no identified key). Shared by the in-memory and the Redis aggregators.
 */
export function observationOf(event: KeywardEvent): Observation | undefined {
  // Metrics and anomaly detection both observe every event, one right after the other: build it once.
  if (event === lastEvent) return lastObservation;
  lastObservation = observe(event);
  lastEvent = event;
  return lastObservation;
}

let lastEvent: KeywardEvent | undefined;
let lastObservation: Observation | undefined;

/**
 * The name an event's use is counted under ({@link Observation.keyId}), or `undefined` when it names none: the key's
 * id, also for a token exchanged for the key (its events name the key, by id and hint); for any other token
 * `token:<sub>` (its `jti` without a `sub`), and `token:<sub>@"<iss>"` for a token of one of several trusted issuers
 * (an event with `issuer`). Per-key metrics, anomaly detection and the Prometheus `key_id` label all name by it.
 */
export function observedKeyId(event: KeywardEvent): string | undefined {
  const keyId = event.keyId;
  if (keyId === undefined || event.principalType !== 'token' || event.hint !== undefined) return keyId;
  // A token's events name its `jti`, a new one with every token: counted by it, a user's use was scattered over rows
  // (never warmed up, for anomaly detection) and fresh tokens pushed the keys out of `maxKeys`. It counts under its
  // subject, never as a key's whatever its `sub` (an identity provider's `sub` may be a key's id). With several trusted
  // issuers, a `sub` is unique only within its issuer: the event's `issuer` qualifies it.
  const sub = event.subject ?? keyId;
  const issuer = event.issuer;
  if (sub === lastSubject && issuer === lastIssuer) return lastName; // a principal's events share their strings
  lastSubject = sub;
  lastIssuer = issuer;
  lastName = issuer === undefined ? `token:${sub}` : `token:${sub}@${JSON.stringify(issuer)}`;
  return lastName;
}

let lastSubject: string | undefined;
let lastIssuer: string | undefined;
let lastName = '';

function observe(event: KeywardEvent): Observation | undefined {
  const keyId = observedKeyId(event);
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
  const time = parseTime(event.time);
  // A successful authentication only counts (`authOk`); what was called, from where and by what is counted once, from
  // the request's completion. Every request has both events, so this halves the redaction and string work.
  if (kind === 'authenticated') return { keyId, owner: event.owner, plan: event.plan, time, kind, status: undefined, bytes: undefined, durationMs: undefined, reason: undefined, authFailed: undefined, address: undefined, userAgent: undefined, endpoint: undefined };
  // One object literal of one shape (fields that do not apply are undefined): this runs for every event.
  return {
    keyId,
    owner: event.owner,
    plan: event.plan,
    time,
    kind,
    status: event.status,
    bytes: byteCount(event.bytes),
    durationMs: event.durationMs,
    reason: kind === 'refused' ? event.reason : undefined,
    authFailed: event.type === 'auth.failed' ? true : undefined,
    address: event.clientAddress,
    userAgent: event.userAgent === undefined ? undefined : event.userAgent.length > 128 ? event.userAgent.slice(0, 128) : event.userAgent,
    endpoint: event.path !== undefined && event.method !== undefined ? endpointOf(event.method, event.path) : undefined,
  };
}

/**
 * A response's byte count as counted: a caller of `done()` may hand anything (`Number(res.getHeader('content-length'))`
 * is NaN when the header is absent, a string when it is set as one), and one NaN, negative, infinite or string count made a window's bytes NaN for as long as
 * the window lasts, and a key's bytes baseline NaN for good (no `BYTES_SPIKE` ever again). Such a count is none.
 */
const byteCount = (bytes: number | undefined): number | undefined => (bytes === undefined || (typeof bytes === 'number' && bytes >= 0 && bytes !== Infinity) ? bytes : 0);

let lastTime = '';
let lastMs = 0;
let secondPrefix = '\u0000'; // matches no time until a first one is parsed
let secondMs = 0;
/**
 * The time of an event in ms. keyward's own event times (`YYYY-MM-DDTHH:MM:SS.mmmZ`) change second only once a
 * second: the second is parsed once and the milliseconds read from the last four characters. Anything else goes
 * through `Date.parse`.
 */
function parseTime(time: string): number {
  if (time === lastTime) return lastMs;
  if (time.length === 24 && time.charCodeAt(23) === 90 /* Z */ && time.startsWith(secondPrefix)) {
    const d0 = time.charCodeAt(20) - 48;
    const d1 = time.charCodeAt(21) - 48;
    const d2 = time.charCodeAt(22) - 48;
    if (d0 >= 0 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9) {
      lastTime = time;
      lastMs = secondMs + d0 * 100 + d1 * 10 + d2;
      return lastMs;
    }
  }
  const ms = Date.parse(time);
  if (!Number.isFinite(ms)) return Date.now();
  lastTime = time;
  lastMs = ms;
  if (time.length === 24 && time.charCodeAt(19) === 46 /* . */ && time.charCodeAt(23) === 90) {
    secondPrefix = time.slice(0, 20);
    secondMs = Math.floor(ms / 1000) * 1000;
  }
  return ms;
}

/**
 * The path without its query, with anything shaped like a credential replaced (events from this instance are redacted
 * already; events from elsewhere, or from older versions, may not be). Before the 128-character cut, so no part of a
 * key survives it.
 */
const pathOnly = (path: string): string => {
  const q = path.indexOf('?');
  return redactCredentials(q === -1 ? path : path.slice(0, q));
};

/**
 * The last endpoint's method, path and label, until the next completion. Paths of keyward's own events are redacted
 * already; any other event's path is redacted here before it becomes a label.
 */
let lastMethod = '';
let lastPath = '\u0000'; // matches no path until a first one is seen
let lastEndpoint = '';

/**
 * `METHOD /path` of an event's method and path (query and credentials removed, cut at 128 characters). The last one
 * is remembered: consecutive completions of one endpoint then share one string, with no redaction pass or join, and
 * the sketches find it by a hash already computed.
 */
const endpointOf = (method: string, path: string): string => {
  if (path === lastPath && method === lastMethod) return lastEndpoint;
  const e = `${method} ${pathOnly(path)}`;
  lastMethod = method;
  lastPath = path;
  lastEndpoint = e.length > 128 ? e.slice(0, 128) : e;
  return lastEndpoint;
};

/** Index 0–4 of a status class (1xx–5xx), or -1. */
export function statusClass(status: number | undefined): number {
  if (status === undefined || status < 100 || status > 599) return -1;
  return Math.floor(status / 100) - 1;
}
