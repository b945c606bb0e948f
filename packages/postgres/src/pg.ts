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
