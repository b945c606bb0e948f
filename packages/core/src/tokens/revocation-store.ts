import { checkString } from '../keys/validate';

/**
 * Where revoked token ids (`jti`) live until the token would have expired anyway. The memory implementation is in
 * the core; Redis and PostgreSQL implement the same interface in their packages.
 */
export interface RevocationStore {
  /**
   * Marks `jti` revoked until `untilMs` (ms since epoch); after that the entry may disappear. keyward passes its own
   * time as `nowMs` (its `clock`, which need not be the machine's): a store that expires entries by a time-to-live
   * counts it from `nowMs`, so the entry lasts as long as keyward's clock says the revocation does.
   */
  revoke(jti: string, untilMs: number, nowMs?: number): Promise<void>;
  /** True when `jti` is revoked at time `nowMs`; false for a `jti` no revocation can name (not a string, or with a NUL). */
  isRevoked(jti: string, nowMs: number): Promise<boolean>;
  /** Releases connections the store opened itself (never an injected client). */
  close?(): Promise<void>;
}

/**
 * The check every {@link RevocationStore}'s `revoke` makes before it stores anything, so the stores refuse alike: a
 * `jti` that is not a non-empty string of at most 512 characters, or that holds text not every store keeps as it is
 * (a NUL character, an unpaired surrogate: PostgreSQL refuses the first, and a revocation that one store keeps and
 * another cannot is a revocation lost on a change of store), and an `untilMs` that is not a finite time (`NaN` once
 * revoked a token id forever in memory).
 *
 * @throws TypeError naming `jti` or `untilMs`
 */
export function checkRevocation(jti: unknown, untilMs: unknown): void {
  checkString(jti, 'jti', 512);
  if (typeof untilMs !== 'number' || !Number.isFinite(untilMs)) throw new TypeError('keyward: "untilMs" must be a time in ms since the epoch');
}
