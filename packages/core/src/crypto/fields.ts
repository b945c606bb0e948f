import type { Encryption } from './encryption';
import { warnOnce } from '../util/warn';

/**
 * Record fields a store encrypts by default when given an {@link Encryption}: free text and structures that may
 * describe customers or infrastructure, and `sealed` (a recoverable key's plaintext). Fields a store indexes or the
 * pipeline needs on every request unencrypted (id, hash, owner, status, scopes, times) are not in the list.
 */
export const DEFAULT_SEALED_FIELDS: readonly string[] = ['name', 'metadata', 'restrictions', 'revokedReason', 'disabledReason', 'sealed'];

/** The additional authenticated data binding a field's ciphertext to its record and field. */
export function fieldAad(recordId: string, field: string): string {
  return `keyward:key:${recordId}:${field}`;
}

/** Seals one field's JSON value. */
export function sealField(encryption: Encryption, recordId: string, field: string, value: unknown): string {
  return encryption.seal(JSON.stringify(value), fieldAad(recordId, field));
}

/**
 * Opens one field sealed by {@link sealField}.
 * @throws KeywardError `DECRYPTION_FAILED` when the envelope does not open (unknown key id, tampered, moved)
 */
export function openField(encryption: Encryption, recordId: string, field: string, envelope: string): unknown {
  return JSON.parse(encryption.open(envelope, fieldAad(recordId, field)));
}

/**
 * Fields that are indexed, read unencrypted on every request, or compared by a conditional update (`notified`, see
 * `UpdateCondition.equals`): never sealed.
 */
export const NEVER_SEALED_FIELDS: readonly string[] = ['id', 'hash', 'hashVersion', 'owner', 'status', 'notified'];

/**
 * Checks a store's `sealedFields` option and returns the set to seal (`sealed` always included).
 * @throws TypeError naming the option when it lists a field that must stay readable
 */
export function resolveSealedFields(value: unknown, option = 'sealedFields'): ReadonlySet<string> {
  if (value === undefined) return new Set([...DEFAULT_SEALED_FIELDS, 'sealed']);
  if (!Array.isArray(value) || value.some((f) => typeof f !== 'string' || NEVER_SEALED_FIELDS.includes(f))) {
    throw new TypeError(`keyward: option "${option}" must list record fields other than ${NEVER_SEALED_FIELDS.join(', ')}`);
  }
  return new Set([...(value as string[]), 'sealed']);
}

/** What {@link openListedField} found: the field's value, or nothing when it does not open. */
const UNREADABLE: unique symbol = Symbol('keyward.unreadableField');

/**
 * {@link openField} for a page of `list()` and for the record `update()` answers once its change is made: a field that does not open (no `encryption` given, a master key since
 * dropped, a tampered envelope) yields {@link UNREADABLE} and a warning naming the key id and the field, never a value,
 * instead of failing the whole page. One unreadable record must not stop `list()`, and so `revokeOwner()`,
 * `revokeCreatedBefore()`, `sweep()` and `due()`, in the middle of an incident: status, owner and times are never
 * sealed, so such a key can still be found and revoked. Single-record reads (`findByHash`, `findById`) still fail, closed.
 */
export function openListedField(encryption: Encryption | undefined, recordId: string, field: string, envelope: string): unknown {
  try {
    if (!encryption) throw new Error('no encryption');
    return openField(encryption, recordId, field, envelope);
  } catch {
    warnOnce('KEYWARD_UNREADABLE_FIELD', `keyward: key ${recordId} has a sealed field "${field}" that cannot be decrypted (a master key missing or dropped, or the value altered); list() and update() leave it out of the record they answer. Restore the master key, or rotate or revoke the key.`);
    return UNREADABLE;
  }
}

/** True for what {@link openListedField} returns for a field that does not open. */
export function isUnreadable(value: unknown): value is typeof UNREADABLE {
  return value === UNREADABLE;
}
