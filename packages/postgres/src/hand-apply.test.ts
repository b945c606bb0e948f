/**
 * The README's way to apply the migration by hand, followed word for word against a real PostgreSQL (DATABASE_URL,
 * default postgres://postgres@127.0.0.1:5432/test), with a schema name in mixed case as the `schema` option allows.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { PostgresRevocationStore } from './revocation-store';

const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const pool = new Pool({ connectionString: DATABASE_URL, max: 2 });
pool.on('error', () => {});
const schema = `KwHand_${process.pid}_${randomBytes(4).toString('hex')}`;
afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`); // its case-folded twin, had the tables landed there
  await pool.end();
});

describe('applying the migration by hand, as the README says', () => {
  it('puts the tables where a store given the same (mixed-case) schema reads them', async () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8').replace(/\s+/g, ' ');
    const step = /To apply by hand: `(SET search_path TO [^`]*;)`/.exec(readme);
    expect(step).not.toBeNull();
    await pool.query(`CREATE SCHEMA "${schema}"`);
    const client = await pool.connect();
    try {
      await client.query(step![1]!.replace('<schema>', schema));
      await client.query(readFileSync(join(__dirname, '..', 'sql', '001_init.sql'), 'utf8'));
    } finally {
      await client.query('RESET search_path').catch(() => undefined);
      client.release();
    }
    const store = new PostgresRevocationStore({ pool, schema });
    await store.revoke('hand-applied', Date.now() + 60_000);
    expect(await store.isRevoked('hand-applied', Date.now())).toBe(true);
  });
});
