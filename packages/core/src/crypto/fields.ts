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
