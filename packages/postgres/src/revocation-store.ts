import { checkRevocation, fieldsOf, refuseUnknownInput, systemClock, type Clock, type RevocationStore } from '@keyward/core';
import { checkPool, quoteSchema, warnIfNoErrorListener, type Queryable } from './pg';

/** Options of {@link PostgresRevocationStore}. */
export interface PostgresRevocationStoreOptions {
  /** A `pg` Pool (never closed by the store). Run {@link migrate} once before use. */
  pool: Queryable;
  /** Schema holding the tables (default `public`). */
  schema?: string;
  /**
   * The time {@link PostgresRevocationStore.purge} counts from when given none (default: the machine's). Pass keyward's
   * `clock` when it is not the machine's, or a default `purge()` deletes revocations keyward still has in force.
   */
  clock?: Clock;
}

/** Every field of {@link PostgresRevocationStoreOptions}. */
const OPTIONS = fieldsOf<PostgresRevocationStoreOptions>({ pool: true, schema: true, clock: true });

/**
 * The PostgreSQL {@link RevocationStore}: one row per revoked token id with the time until which it is revoked.
 * Revoking twice keeps the later time. Call {@link PostgresRevocationStore.purge} now and then (e.g. hourly) to delete
 * entries that no longer matter.
 */
export class PostgresRevocationStore implements RevocationStore {
  private readonly pool: Queryable;
  private readonly table: string;
  private readonly clock: Clock;

  constructor(options: PostgresRevocationStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('keyward: PostgresRevocationStore takes an options object');
    refuseUnknownInput(options, OPTIONS, 'PostgresRevocationStore()');
    this.pool = checkPool(options.pool);
    warnIfNoErrorListener(this.pool, 'PostgresRevocationStore');
    this.table = `${quoteSchema(options.schema)}.keyward_revoked_tokens`;
    if (options.clock !== undefined && typeof options.clock !== 'function') throw new TypeError('keyward: option "clock" must be a function returning the time in ms since the epoch');
    this.clock = options.clock ?? systemClock;
  }

  async revoke(jti: string, untilMs: number): Promise<void> {
    checkRevocation(jti, untilMs);
    await this.pool.query(
      `INSERT INTO ${this.table} AS t (jti, until_ms) VALUES ($1, $2) ON CONFLICT (jti) DO UPDATE SET until_ms = GREATEST(t.until_ms, EXCLUDED.until_ms)`,
      [jti, Math.ceil(untilMs)],
    );
  }

  async isRevoked(jti: string, nowMs: number): Promise<boolean> {
    // No revocation names a non-string, nor (PostgreSQL text holds none) a NUL: not revoked, without a failing query.
    if (typeof jti !== 'string' || jti.includes('\u0000')) return false;
    const { rows } = await this.pool.query(`SELECT 1 FROM ${this.table} WHERE jti = $1 AND until_ms > $2`, [jti, Math.floor(nowMs)]);
    return rows.length > 0;
  }

  /** Deletes entries revoked until before `nowMs` (default: now by the `clock` option); returns how many. */
  async purge(nowMs: number = this.clock()): Promise<number> {
    const { rowCount } = await this.pool.query(`DELETE FROM ${this.table} WHERE until_ms <= $1`, [Math.floor(nowMs)]);
    return rowCount ?? 0;
  }
}
