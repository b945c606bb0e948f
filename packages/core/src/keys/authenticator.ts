import type { KeyManager } from './manager';
import type { KeyRecord } from './record';
import type { AuthOutcome, Authenticator, PipelineContext } from '../pipeline/context';
import type { Principal, ResponseHeaders } from '../model';
import type { KeyStore } from '../stores/key-store';
import { frozenCopy } from '../util/freeze';
import { DEFAULT_KEY_POLICY, effectiveExpiry, type KeyPolicy } from './policy';

const INVALID = { code: 'CREDENTIALS_INVALID', detail: 'The credential is not valid.' } as const;
const UNAVAILABLE = { code: 'STORE_UNAVAILABLE', detail: 'The key store is unavailable.' } as const;
/** The headers of a key in good standing: none (shared, so the common case allocates nothing). */
const NO_HEADERS: ResponseHeaders = Object.freeze({}) as ResponseHeaders;

/**
 * Builds the principal of a key record, with the record's own scopes and metadata unless others are given (the
 * shared principal's frozen copies).
 */
export function principalOf(record: KeyRecord, scopes: readonly string[] = record.scopes, metadata: Readonly<Record<string, unknown>> = record.metadata): Principal {
  return {
    type: 'key',
    id: record.id,
    keyId: record.id,
    owner: record.owner,
    subject: record.owner,
    scopes,
    ...(record.plan !== undefined ? { plan: record.plan } : {}),
    ...(record.name !== undefined ? { name: record.name } : {}),
    hint: record.hint,
    metadata,
    ...(record.expiresAt !== undefined ? { expiresAt: record.expiresAt } : {}),
  };
}

const principals = new WeakMap<KeyRecord, Principal>();

/**
 * The principal of a cached record, built once per record object and frozen (scopes and metadata too), so every
 * request of that key shares it and no handler can change what a later request sees. A record read again from the
 * store is a new object and gets a new principal.
 */
export function sharedPrincipalOf(record: KeyRecord): Principal {
  let p = principals.get(record);
  if (!p) {
    // Built in one literal, not copied with a spread: a spread's copy got a hidden class of its own each time the
    // record was read again (every cache TTL), so the pipeline's reads of principals went megamorphic within
    // seconds (`node --log-ic`; ~12 such reads a request with an audit listener).
    p = Object.freeze(principalOf(record, Object.freeze([...record.scopes]), frozenCopy(record.metadata)));
    principals.set(record, p);
  }
  return p;
}

/**
 * Checks a key record's status at time `now`: revoked, disabled, expired (its own expiry, or its maximum age under
 * `keyPolicy.autoExpire`), or past its rotation grace period. Inside a grace period it answers with the headers of a
 * deprecated key: `Deprecation` (RFC 9745, a structured-field date `@<epoch seconds>`: when the key was rotated),
 * `Sunset` (RFC 8594, an HTTP-date: when the grace period ends) and, with `keyPolicy.rotationDocs`,
 * `Link: <url>; rel="deprecation"`.
 */
export function keyStatus(record: KeyRecord, now: number, policy: KeyPolicy = DEFAULT_KEY_POLICY): AuthOutcome | ResponseHeaders {
  if (record.status === 'revoked') return { code: 'KEY_REVOKED', detail: 'The key has been revoked.', keyId: record.id };
  if (record.status === 'disabled') return { code: 'KEY_DISABLED', detail: 'The key is disabled.', keyId: record.id };
  const expiresAt = effectiveExpiry(record, policy);
  if (expiresAt !== undefined && expiresAt <= now) return { code: 'KEY_EXPIRED', detail: 'The key has expired.', keyId: record.id };
  if (record.graceEndsAt !== undefined) {
    if (record.graceEndsAt <= now) return { code: 'KEY_REVOKED', detail: 'The key was rotated and its grace period has ended.', keyId: record.id };
    const headers: Record<string, string> = {
      Deprecation: `@${Math.floor((record.deprecatedAt ?? record.updatedAt ?? now) / 1000)}`,
      Sunset: new Date(record.graceEndsAt).toUTCString(),
    };
    if (policy.deprecationLink !== undefined) headers['Link'] = policy.deprecationLink;
    return headers;
  }
  return NO_HEADERS;
}

/** True when {@link keyStatus} refused the key (rather than answering with the headers of a usable key). */
export function isRefusal(status: AuthOutcome | ResponseHeaders): status is Extract<AuthOutcome, { code: string }> {
  return 'code' in status && typeof status.code === 'string' && 'detail' in status;
}

/** True when a record may be used at `now`: what authenticating the key itself would decide. */
export function inGoodStanding(record: KeyRecord, now: number, policy: KeyPolicy): boolean {
  return !isRefusal(keyStatus(record, now, policy));
}

/**
 * The API-key authenticator: prefix and checksum first (garbage never reaches the store), then hash, cache, store,
 * then status. Unknown, malformed and wrong-checksum keys get the same answer. Values in another format are looked
 * up only when `legacyKeys` accepts them, and then match only records imported as legacy.
 */
export function keyAuthenticator(keys: KeyManager, store: KeyStore, trackLastUsedMs: number | false): Authenticator {
  const lastTouched = new Map<string, number>();
  const touch = (record: KeyRecord, at: number) => {
    if (trackLastUsedMs === false) return;
    const prev = lastTouched.get(record.id) ?? record.lastUsedAt ?? 0;
    if (at - prev < trackLastUsedMs) return;
    lastTouched.set(record.id, at);
    if (lastTouched.size > 100_000) lastTouched.clear();
    store.update(record.id, { lastUsedAt: at }).then(undefined, () => {});
  };
  const judge = (record: KeyRecord | undefined, ctx: PipelineContext): AuthOutcome => {
    if (!record) return INVALID;
    const status = keyStatus(record, ctx.now, keys.policy);
    if (isRefusal(status)) return status;
    touch(record, ctx.now);
    return { principal: sharedPrincipalOf(record), record, headers: status as ResponseHeaders };
  };
  return {
    name: 'api-key',
    accepts: () => true,
    authenticate(credential, ctx: PipelineContext): AuthOutcome | Promise<AuthOutcome> {
      const hit = keys.cached(credential.value); // a key seen before: its shape was checked when it was cached
      if (hit) return judge(hit, ctx);
      const found = keys.findPresented(credential.value);
      return found === undefined ? INVALID : found.then((record) => judge(record, ctx), () => UNAVAILABLE);
    },
  };
}
