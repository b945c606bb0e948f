import { warnOnce } from '@keyward/core';

/**
 * The part of `pg`'s `Pool` keyward uses (so any compatible pool works). `connect` is used only by `migrate`.
 */
export interface Queryable {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** A pool: queries, plus a dedicated client for the migration transaction. */
export interface PoolLike extends Queryable {
  connect(): Promise<Queryable & { release(error?: Error | boolean): void }>;
}

const SCHEMA_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Checks a schema name and returns it quoted. */
export function quoteSchema(value: unknown, option = 'schema'): string {
  if (value === undefined) return '"public"';
  if (typeof value !== 'string' || !SCHEMA_RE.test(value)) throw new TypeError(`keyward: option "${option}" must be a schema name (letters, digits, underscores; at most 63)`);
  return `"${value}"`;
}

/** Checks that `value` has a `query` function. */
export function checkPool(value: unknown, option = 'pool'): PoolLike {
  if (typeof value !== 'object' || value === null || typeof (value as { query?: unknown }).query !== 'function') {
    throw new TypeError(`keyward: option "${option}" must be a pg Pool`);
  }
  return value as PoolLike;
}

/**
 * Warns once per process (`KEYWARD_PG_POOL_ERRORS`) when a store's pool has no `error` listener: when PostgreSQL
 * closes an idle connection (a restart, a failover, an administrator), `pg` emits `error` on the pool, and with no
 * listener that error ends the process, however well keyward answers the requests meanwhile.
 */
export function warnIfNoErrorListener(pool: unknown, store: string): void {
  const p = pool as { listenerCount?: (event: string) => number };
  if (typeof p.listenerCount !== 'function' || p.listenerCount('error') > 0) return;
  warnOnce('KEYWARD_PG_POOL_ERRORS', `keyward: the pg pool given to ${store} has no 'error' listener: when PostgreSQL closes an idle connection (a restart, a failover), the pool emits 'error' and the process exits; add pool.on('error', …) (log it: the pool replaces the connection by itself).`);
}
