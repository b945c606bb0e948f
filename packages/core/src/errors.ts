/**
 * Codes carried by {@link KeywardError}. A code names a real failure (a store that fails, a misconfiguration,
 * a missing record) — never a denial, which is a value (see {@link DenyDecision}).
 */
export type KeywardErrorCode =
  | 'INVALID_OPTIONS'
  | 'KEY_NOT_FOUND'
  | 'KEY_CONFLICT'
  | 'KEY_REVOKED'
  | 'KEY_EXPIRED'
  | 'STORE_FAILURE'
  | 'STORE_TIMEOUT'
  | 'INVALID_ARGUMENT'
  | 'INVALID_KEY_FORMAT'
  | 'NOT_AUTHENTICATED'
  | 'CLOSED'
  | 'TOKEN_ISSUE_FAILED'
  | 'TOKEN_TOO_LARGE'
  | 'DECRYPTION_FAILED';

/**
 * The one error class of keyward. Callers switch on `code`, never on the message.
 * Messages never contain a credential, a hash or a secret.
 *
 * @example
 * ```ts
 * try { await kw.keys.revoke(id) } catch (e) {
 *   if (e instanceof KeywardError && e.code === 'KEY_NOT_FOUND') { ... }
 * }
 * ```
 */
export class KeywardError extends Error {
  /** Stable UPPER_SNAKE code. */
  readonly code: KeywardErrorCode;

  constructor(code: KeywardErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeywardError';
    this.code = code;
  }
}

/** True when `value` is a {@link KeywardError}, optionally with the given code. */
export function isKeywardError(value: unknown, code?: KeywardErrorCode): value is KeywardError {
  return value instanceof KeywardError && (code === undefined || value.code === code);
}
