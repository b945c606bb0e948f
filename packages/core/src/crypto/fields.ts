import type { Encryption } from './encryption';

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

/** Fields that are indexed or read unencrypted on every request: never sealed. */
export const NEVER_SEALED_FIELDS: readonly string[] = ['id', 'hash', 'hashVersion', 'owner', 'status'];

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
