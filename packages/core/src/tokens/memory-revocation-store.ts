import { checkRevocation, type RevocationStore } from './revocation-store';
import { systemClock, type Clock } from '../util/clock';

/**
 * A revocation store that can also answer at once, without a promise (one in this process's memory). The token
 * verifier uses `isRevokedSync` when it is there, so a cached token is authenticated without a microtask; it must
 * answer exactly as `isRevoked` does.
 */
export interface SyncRevocationStore extends RevocationStore {
  /** True when `jti` is revoked at time `nowMs`; answers at once. Throws only when the store cannot answer. */
  isRevokedSync(jti: string, nowMs: number): boolean;
}

/** True when `store` offers the synchronous check ({@link SyncRevocationStore}). */
export function answersSynchronously(store: RevocationStore): store is SyncRevocationStore {
  return typeof (store as Partial<SyncRevocationStore>).isRevokedSync === 'function';
}

/**
 * Revoked token ids in this process's memory. Entries disappear once the token would have expired anyway, so memory
 * is bounded by the tokens revoked within one token lifetime. For several instances use the Redis or PostgreSQL
 * store. It answers synchronously too ({@link SyncRevocationStore}); a subclass that changes `isRevoked` must change
 * `isRevokedSync` alike, which the token verifier prefers.
 *
 * @example
 * ```ts
 * const store = new MemoryRevocationStore({ clock });
 * await store.revoke('jti-1', Date.now() + 15 * 60_000);
 * ```
 */
export class MemoryRevocationStore implements SyncRevocationStore {
  private readonly entries = new Map<string, number>();
  private sweepAt = 1024;
  private readonly clock: Clock;

  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async revoke(jti: string, untilMs: number): Promise<void> {
    checkRevocation(jti, untilMs);
    const prev = this.entries.get(jti);
    this.entries.set(jti, prev === undefined ? untilMs : Math.max(prev, untilMs));
    if (this.entries.size >= this.sweepAt) this.sweep(this.clock());
  }

  async isRevoked(jti: string, nowMs: number): Promise<boolean> {
    return this.isRevokedSync(jti, nowMs);
  }

  /** {@link isRevoked}, answered at once (the token verifier's path for cached tokens). */
  isRevokedSync(jti: string, nowMs: number): boolean {
    const until = this.entries.get(jti);
    if (until === undefined) return false;
    if (until <= nowMs) {
      this.entries.delete(jti);
      return false;
    }
    return true;
  }

  /** Number of entries held (expired ones included until the next sweep). */
  get size(): number {
    return this.entries.size;
  }

  /** Drops every entry that expired before `nowMs`. */
  sweep(nowMs: number): void {
    for (const [jti, until] of this.entries) if (until <= nowMs) this.entries.delete(jti);
    this.sweepAt = Math.max(1024, this.entries.size * 2);
  }
}
