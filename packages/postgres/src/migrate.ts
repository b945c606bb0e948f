import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fieldsOf, refuseUnknownInput } from '@keyward/core';
import { checkPool, quoteSchema } from './pg';

/** Directory of the shipped migration files (`NNN_name.sql`). */
export const MIGRATIONS_DIR = join(__dirname, '..', 'sql');

/** One migration file. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The shipped migrations, in order. */
export function migrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f.slice(4, -4), sql: readFileSync(join(MIGRATIONS_DIR, f), 'utf8') }));
}

/** Every field of `migrate`'s options: a misspelt `schema` must not migrate `public` instead. */
const OPTIONS = fieldsOf<NonNullable<Parameters<typeof migrate>[1]>>({ schema: true });

/**
 * Creates or upgrades keyward's tables: applies, in one transaction under an advisory lock (so concurrent instances
 * do not race), every shipped migration not yet recorded in `keyward_migrations`. Idempotent.
 *
 * @example
 * ```ts
 * import { Pool } from 'pg';
 * const pool = new Pool({ connectionString: process.env.DATABASE_URL });
 * await migrate(pool);                       // schema "public"
 * await migrate(pool, { schema: 'auth' });   // creates the schema if needed
 * ```
 * @returns the versions applied now
 * @throws TypeError (a rejection) for an unknown field of `options`, or a `pool` that is a pg Client, before connecting
 */
export async function migrate(pool: unknown, options: { schema?: string } = {}): Promise<number[]> {
  const p = checkPool(pool);
  // A pg Client has query() but no connections to lend: its connect() connects it (or fails, once connected), so the
  // migration would run outside its transaction and end on a baffling "client.release is not a function".
  if (typeof p.connect !== 'function' || 'connectionParameters' in p) throw new TypeError('keyward: option "pool" of migrate() must be a pg Pool, not a Client: the migration takes a connection of its own for its transaction');
  refuseUnknownInput(options, OPTIONS, 'migrate()');
  const schema = quoteSchema(options.schema);
  const client = await p.connect();
  const applied: number[] = [];
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('keyward.migrate'))`);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`SET LOCAL search_path TO ${schema}`);
    await client.query('CREATE TABLE IF NOT EXISTS keyward_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM keyward_migrations')).rows.map((r) => Number(r.version)));
    for (const m of migrations()) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO keyward_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
  return applied;
}
