import type { KeyRestrictions } from '../restrictions/types';
import type { KeyLimitOverrides } from '../limits/types';

/** How a key's hash was computed. The tag lets the scheme change without breaking stored keys. */
export type HashVersion = 'sha256-v1' | 'hmac-sha256-v1';

/** A key's lifecycle state. Expiry is a time, not a status: it is checked on every request. */
export type KeyStatus = 'active' | 'disabled' | 'revoked';

/**
 * What a store holds for one key. Never the plaintext: only its hash (and, for recoverable keys with encryption at
 * rest, an encrypted copy).
 */
export interface KeyRecord {
  readonly id: string;
  /** Hex digest of the key under {@link HashVersion}. */
  readonly hash: string;
  readonly hashVersion: HashVersion;
  /** Display hint, e.g. `kw_live_…a1B2`. */
  readonly hint: string;
  readonly prefix: string;
  readonly env: string;
  readonly owner: string;
  readonly name?: string;
  readonly scopes: readonly string[];
  readonly plan?: string;
  readonly restrictions?: KeyRestrictions;
  readonly limits?: KeyLimitOverrides;
  readonly status: KeyStatus;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly expiresAt?: number;
  readonly lastUsedAt?: number;
  readonly revokedAt?: number;
  readonly revokedReason?: string;
  readonly disabledReason?: string;
  /** Id of the key this one replaced. */
  readonly rotatedFrom?: string;
  /** Id of the key that replaced this one. */
  readonly rotatedTo?: string;
  /** While set and in the future, the key works but is deprecated (rotation grace period). */
  readonly graceEndsAt?: number;
  /** When the key was deprecated by a rotation (the `Deprecation` header's date). */
  readonly deprecatedAt?: number;
  /** Lifetime in ms given at creation (`expiresIn`), inherited by rotation. */
  readonly lifetimeMs?: number;
  /** True for keys imported from another format (always due for rotation). */
  readonly legacy?: boolean;
  /**
   * When the key was first presented and found stored under a previous pepper (`pepper.previous`), by the injected
   * clock: it stops working once that pepper is dropped, so it is due for rotation (`keys.dueForRotation()`, reason
   * `previous-pepper`). Set once, in the store, by the instance that found it; its successor does not carry it.
   */
  readonly previousPepperAt?: number;
  /**
   * Lifecycle notices already sent by `keys.sweep()`, so each goes out once per key and condition: the value is the
   * reference time the notice was about (the expiry for `expiring`/`expired`, the last use for `idle`).
   */
  readonly notified?: Readonly<KeyNotices>;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Encrypted fields (encryption at rest), opaque to the core. */
  readonly sealed?: Readonly<Record<string, unknown>>;
}

/** See {@link KeyRecord.notified}. */
export interface KeyNotices {
  readonly expiring?: number;
  readonly expired?: number;
  readonly idle?: number;
}

/** A key record as shown to callers: everything but the hash. */
export type KeyInfo = Omit<KeyRecord, 'hash' | 'hashVersion' | 'sealed'>;

/** Strips the hash and sealed data from a record. */
export function toKeyInfo(record: KeyRecord): KeyInfo {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { hash, hashVersion, sealed, ...info } = record;
  return info;
}

/** A change to a key record; a field set to `undefined` is removed. */
export type KeyPatch = { -readonly [K in keyof Omit<KeyRecord, 'id' | 'hash'>]?: KeyRecord[K] | undefined };
