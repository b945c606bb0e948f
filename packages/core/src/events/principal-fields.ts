import type { Principal } from '../model';
import { redactCredentials } from './redact';

/** The longest principal field (`subject`, `owner`, `keyId`, `plan`) an event carries of a token (a longer one is cut). */
export const MAX_EVENT_PRINCIPAL_FIELD = 256;

/**
 * Characters that could forge or hide a line in a text log: C0 and C1 controls, DEL, the Unicode line and paragraph
 * separators, and the bidirectional overrides and isolates (which reorder what a terminal shows).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
const HAS_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

/**
 * A claim's text as an event carries it: each unsafe character replaced by U+FFFD, credentials redacted
 * ({@link redactCredentials}: key-shaped and JWT-shaped text), then cut to {@link MAX_EVENT_PRINCIPAL_FIELD} (never
 * through a surrogate pair). Text that needs none of it is returned as it is.
 */
export function eventText(value: string): string {
  const clean = HAS_UNSAFE.test(value) ? value.replace(UNSAFE, '\uFFFD') : value;
  const redacted = redactCredentials(clean);
  if (redacted.length <= MAX_EVENT_PRINCIPAL_FIELD) return redacted;
  const high = redacted.charCodeAt(MAX_EVENT_PRINCIPAL_FIELD - 1);
  return redacted.slice(0, high >= 0xd800 && high <= 0xdbff ? MAX_EVENT_PRINCIPAL_FIELD - 1 : MAX_EVENT_PRINCIPAL_FIELD);
}

/** A token principal's fields as events carry them. */
export interface TokenEventFields {
  /** The token id (`jti`), or the subject when it has none. */
  readonly keyId: string;
  readonly owner: string | undefined;
  readonly subject: string | undefined;
  readonly plan: string | undefined;
}

/** Per token principal (frozen and shared by the requests of a cached token), its fields as events carry them. */
const fieldsOfTokens = new WeakMap<Principal, TokenEventFields>();

/**
 * A token principal's `keyId` (its `jti`, else its id), `owner`, `subject` and `plan` as events carry them. They come
 * from the claims of whoever signed the token (an external issuer's `sub`, owner or plan claim, `jti`): any text, a
 * control character that forges a log line or a credential among it, so they go through {@link eventText} — once per
 * principal, remembered while it lives. The principal itself keeps the claims as they are. (A key's fields come from
 * its record, which the application wrote, and go to events as they are.)
 */
export function tokenEventFields(p: Principal): TokenEventFields {
  let fields = fieldsOfTokens.get(p);
  if (fields === undefined) {
    fields = {
      keyId: eventText(p.keyId ?? p.id),
      owner: p.owner === undefined ? undefined : eventText(p.owner),
      subject: p.subject === undefined ? undefined : eventText(p.subject),
      plan: p.plan === undefined ? undefined : eventText(p.plan),
    };
    fieldsOfTokens.set(p, fields);
  }
  return fields;
}
