import type { RevocationStore } from './revocation-store';
import { systemClock, type Clock } from '../util/clock';

/**
 * Revoked token ids in this process's memory. Entries disappear once the token would have expired anyway, so memory
 * is bounded by the tokens revoked within one token lifetime. For several instances use the Redis or PostgreSQL
 * store.
 *
 * @example
 * ```ts
 * const store = new MemoryRevocationStore({ clock });
 * await store.revoke('jti-1', Date.now() + 15 * 60_000);
 * ```
 */
export class MemoryRevocationStore implements RevocationStore {
  private readonly entries = new Map<string, number>();
  private sweepAt = 1024;
  private readonly clock: Clock;

  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async revoke(jti: string, untilMs: number): Promise<void> {
    const prev = this.entries.get(jti);
    this.entries.set(jti, prev === undefined ? untilMs : Math.max(prev, untilMs));
    if (this.entries.size >= this.sweepAt) this.sweep(this.clock());
  }

  async isRevoked(jti: string, nowMs: number): Promise<boolean> {
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
