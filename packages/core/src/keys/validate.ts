import { shownName } from '../config/fields';
import { containsJwt, redactCredentials } from '../events/redact';
import { isValidScope } from '../scopes/expression';
import { isKeyShaped, keywardKeysIn } from './format';

/** Longest owner accepted. */
export const MAX_OWNER = 256;

/**
 * A NUL character, or half of a surrogate pair without the other half: text the stores do not keep alike
 * (PostgreSQL refuses the first and stores the second as U+FFFD, Redis and memory keep both), so a key's owner,
 * name or metadata would work on one store and fail, or no longer match, on another.
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when every store keeps `text` as it is (no NUL character, no unpaired surrogate). */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/** A non-empty string of at most `max` characters that every store keeps as it is, or a TypeError naming the field. */
export function checkString(value: unknown, name: string, max = 256): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new TypeError(`keyward: "${name}" must be a non-empty string of at most ${max} characters`);
  }
  if (!isStorableText(value)) throw new TypeError(`keyward: "${name}" must not contain a NUL character or an unpaired surrogate`);
  return value;
}

/**
 * True when `text` holds a keyward key of any prefix (its checksum verified, so a snake_case word is not one, also when
 * glued to the word before it) or a JWT. keyward stores no credential: one pasted into a key's name, a revocation
 * reason or its metadata would be kept in plain text and sent in events.
 */
export function holdsCredential(text: string): boolean {
  // A JWT as the redaction finds it, in linear time: a regex over `eyJ…` backtracked quadratically (63 KiB of metadata
  // repeating `eyJ` took seconds) and missed a header written with spaces (`{ "alg": … }` is `eyAi…`).
  return containsJwt(text) || keywardKeysIn(text).length > 0;
}

/**
 * Free text a key record keeps (owner, name, plan, a reason): {@link checkString}, and no credential in it
 * ({@link holdsCredential}); the message never shows the text.
 */
export function checkText(value: unknown, name: string, max = 256): string {
  const text = checkString(value, name, max);
  if (holdsCredential(text)) throw new TypeError(`keyward: "${name}" holds a key or a token (not shown): keyward never stores a credential`);
  return text;
}

/**
 * In JSON text, an escape `JSON.stringify` writes only for a NUL character or an unpaired surrogate (a pair is written
 * as it is), preceded by an even number of backslashes, so it is an escape and not escaped text.
 */
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})/;

/**
 * A key id as a message may show it: as it is when it looks like an id (`key_…`, up to 40 of `A-Za-z0-9_.:-` and no
 * run of 24 letters and digits), otherwise as {@link shownName} shows a name, never in full. The key itself, passed
 * where its id was wanted (a common slip: `keys.revoke(key)`), is named as such and not shown.
 *
 * @example
 * ```ts
 * shownKeyId('key_4fTqZ9') // 'key_4fTqZ9'
 * shownKeyId('kw_live_…') // '(a key was given, not its id: not shown; pass record.id, "key_…")'
 * ```
 */
export function shownKeyId(id: string): string {
  if (isKeyShaped(id)) return '(a key was given, not its id: not shown; pass record.id, "key_…")';
  return /^[A-Za-z0-9_.:-]{1,40}$/.test(id) && !/[0-9A-Za-z]{24}/.test(id) ? id : shownName(id);
}

/** Valid, de-duplicated scopes: at most {@link MAX_SCOPES}, none of them a credential. */
export function checkScopes(scopes: unknown): string[] {
  if (!Array.isArray(scopes)) throw new TypeError('keyward: "scopes" must be an array of scope strings');
  if (scopes.length > MAX_SCOPES) throw new TypeError(`keyward: "scopes" must hold at most ${MAX_SCOPES} scopes`);
  for (const s of scopes) {
    if (!isValidScope(s)) throw new TypeError(`keyward: "scopes" contains an invalid scope: ${JSON.stringify(redactCredentials(String(s))).slice(0, 80)}`);
    if (holdsCredential(s)) throw new TypeError('keyward: "scopes" holds a key or a token (not shown): keyward never stores a credential');
  }
  return [...new Set(scopes as string[])];
}

/** The most scopes a key holds: each is checked on its requests and kept in every cache entry. */
export const MAX_SCOPES = 1000;

/** A JSON deep copy of a plain object (so the caller's object is never stored or mutated), every string in it storable, no credential in it, at most `maxBytes` as JSON when given. */
export function checkObject(value: unknown, name: string, maxBytes?: number): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`keyward: "${name}" must be a plain object`);
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    throw new TypeError(`keyward: "${name}" must be JSON-serialisable`);
  }
  if (maxBytes !== undefined && Buffer.byteLength(text) > maxBytes) throw new TypeError(`keyward: "${name}" must be at most ${maxBytes / 1024} KiB as JSON`);
  // Looked for in the text, member names included, at any depth, without walking the copy.
  if (UNSTORABLE_ESCAPE.test(text)) throw new TypeError(`keyward: "${name}" must not contain a NUL character or an unpaired surrogate`);
  if (holdsCredential(text)) throw new TypeError(`keyward: "${name}" holds a key or a token (not shown): keyward never stores a credential`);
  const copy = JSON.parse(text) as unknown;
  // What is stored is the JSON form: an object with a toJSON() (a Date, say) is a string, null or an array there, and
  // a record holding one could never be rotated (rotation checks the inherited value again).
  if (typeof copy !== 'object' || copy === null || Array.isArray(copy)) throw new TypeError(`keyward: "${name}" must be a plain object (its JSON form is not an object)`);
  return copy as Record<string, unknown>;
}

/**
 * The most a key's `metadata` may hold, as JSON: every look-up cache entry carries it (10,000 entries by default), so
 * metadata a key's owner can set through a self-service page must not let them grow a server's memory at will.
 */
export const MAX_METADATA_BYTES = 64 * 1024;

/** The latest time a `Date` can hold (ms since the epoch, in the year 275760): a later one has no date, no ISO form. */
export const MAX_TIME = 8.64e15;

/** A Date or epoch milliseconds as epoch milliseconds, within what a `Date` can hold. */
export function toTime(value: Date | number, name: string): number {
  const t = value instanceof Date ? value.getTime() : value;
  if (typeof t !== 'number' || !Number.isFinite(t) || Math.abs(t) > MAX_TIME) throw new TypeError(`keyward: "${name}" must be a Date or a time in ms since the epoch`);
  return t;
}
