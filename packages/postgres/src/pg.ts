import type { Encryption } from '@keyward/core';

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

/** Checks the `encryption` option of a store: absent, or an `Encryption` of `@keyward/core`. */
export function checkEncryption(value: unknown, store: string): Encryption | undefined {
  const e = value as Partial<Record<keyof Encryption, unknown>> | null | undefined;
  const isEncryption = typeof e === 'object' && e !== null && typeof e.currentKeyId === 'string' && [e.seal, e.open, e.isSealed, e.keyIdOf].every((f) => typeof f === 'function');
  if (e !== undefined && !isEncryption) throw new TypeError(`keyward: option "encryption" of ${store} must be an Encryption made by createEncryption() or encryptionFromEnv() of @keyward/core`);
  return e as Encryption | undefined;
}

/** Checks that `value` has a `query` function. */
export function checkPool(value: unknown, option = 'pool'): PoolLike {
  if (typeof value !== 'object' || value === null || typeof (value as { query?: unknown }).query !== 'function') {
    throw new TypeError(`keyward: option "${option}" must be a pg Pool`);
  }
  return value as PoolLike;
}
