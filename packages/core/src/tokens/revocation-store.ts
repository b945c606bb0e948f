/**
 * Where revoked token ids (`jti`) live until the token would have expired anyway. The memory implementation is in
 * the core; Redis and PostgreSQL implement the same interface in their packages.
 */
export interface RevocationStore {
  /** Marks `jti` revoked until `untilMs` (ms since epoch); after that the entry may disappear. */
  revoke(jti: string, untilMs: number): Promise<void>;
  /** True when `jti` is revoked at time `nowMs`. */
  isRevoked(jti: string, nowMs: number): Promise<boolean>;
  /** Releases connections the store opened itself (never an injected client). */
  close?(): Promise<void>;
}
