/**
 * The start-up checks of PostgresKeyStore and of the package's other options objects, against a real PostgreSQL
 * (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { createEncryption, createKeyward } from '@keyward/core';
import { PostgresKeyStore } from './key-store';
import { PostgresRevocationStore } from './revocation-store';
import { migrate, migrations } from './migrate';

const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const NOT_ENCRYPTION = 'keyward: option "encryption" of PostgresKeyStore must be an Encryption made by createEncryption() or encryptionFromEnv() of @keyward/core';
const encryption = createEncryption({ keys: [{ id: 'k1', key: createHash('sha256').update('a test master key').digest() }] });

const pool = new Pool({ connectionString: DATABASE_URL, max: 2 });
pool.on('error', () => {}); // as the README asks of every pool
const schema = `kw_ks_${process.pid}_${randomBytes(4).toString('hex')}`;
afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

describe('PostgresKeyStore options', () => {
  it('refuses an "encryption" that is not an Encryption when it is built, not at the first write', () => {
    const masterKey = randomBytes(32);
    for (const encryption of [{ keys: [{ id: 'k1', key: masterKey }] }, masterKey, 'k1', null, { currentKeyId: 'k1', seal: () => '' }]) {
      expect(() => new PostgresKeyStore({ pool, schema, encryption: encryption as never })).toThrow(new TypeError(NOT_ENCRYPTION));
    }
  });

  it('takes an Encryption: encryptsAtRest, and a recoverable key is sealed and revealed through a real PostgreSQL', async () => {
    await migrate(pool, { schema });
    const store = new PostgresKeyStore({ pool, schema, encryption });
    expect(store.encryptsAtRest).toBe(true);
    expect(new PostgresKeyStore({ pool, schema }).encryptsAtRest).toBe(false);
    const kw = createKeyward({ store });
    const { key, record } = await kw.keys.create({ owner: 'acme', recoverable: true });
    expect(await kw.keys.reveal(record.id)).toBe(key);
    const { rows } = await pool.query<{ data: unknown }>(`SELECT data FROM "${schema}".keyward_keys WHERE id = $1`, [record.id]);
    expect(JSON.stringify(rows[0]!.data)).not.toContain(key);
    await kw.close();
  });
});

describe('PostgreSQL options: an unknown field is a TypeError naming it, before any query', () => {
  it('migrate: a misspelt "schema" is refused before connecting, instead of migrating "public"', async () => {
    const fresh = new Pool({ connectionString: DATABASE_URL, max: 1 });
    try {
      await expect(migrate(fresh, { shema: schema } as never)).rejects.toThrow('keyward: migrate() has an unknown field "shema" (did you mean "schema"? known: schema)');
      expect(fresh.totalCount).toBe(0);
    } finally {
      await fresh.end();
    }
    await expect(migrate(pool, { schema })).resolves.toEqual(expect.any(Array));
    const { rows } = await pool.query<{ version: number }>(`SELECT version FROM "${schema}".keyward_migrations ORDER BY version`);
    expect(rows.map((r) => Number(r.version))).toEqual(migrations().map((m) => m.version));
  });

  it('migrate: a pg Client is refused before any query, whether connected or not (it has no connection to lend)', async () => {
    const notYet = new Client({ connectionString: DATABASE_URL });
    const connected = new Client({ connectionString: DATABASE_URL });
    await connected.connect();
    const other = `${schema}_client`;
    try {
      const refusal = 'keyward: option "pool" of migrate() must be a pg Pool, not a Client: the migration takes a connection of its own for its transaction';
      await expect(migrate(notYet, { schema: other })).rejects.toThrow(new TypeError(refusal));
      await expect(migrate(connected, { schema: other })).rejects.toThrow(new TypeError(refusal));
      const { rows } = await connected.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [other]);
      expect(rows).toEqual([]); // nothing was migrated outside a transaction
    } finally {
      await connected.query(`DROP SCHEMA IF EXISTS "${other}" CASCADE`);
      await connected.end();
    }
  });
  it('PostgresKeyStore: a misspelt "encryption" does not store keys in the clear', () => {
    expect(() => new PostgresKeyStore({ pool, schema, encrypton: encryption } as never)).toThrow('keyward: PostgresKeyStore() has an unknown field "encrypton" (did you mean "encryption"? known: pool, schema, encryption, sealedFields)');
    expect(new PostgresKeyStore({ pool, schema, encryption, sealedFields: ['name', 'sealed'] }).encryptsAtRest).toBe(true);
  });

  it('PostgresKeyStore.reencrypt(): an unknown field is refused; a known one runs on a real PostgreSQL', async () => {
    await migrate(pool, { schema });
    const store = new PostgresKeyStore({ pool, schema, encryption });
    await expect(store.reencrypt({ batch: 10 } as never)).rejects.toThrow('keyward: reencrypt() has an unknown field "batch" (known: batchSize)');
    await expect(store.reencrypt({ batchSize: 0 })).rejects.toThrow('keyward: option "batchSize" of reencrypt() must be an integer from 1 to 100,000');
    await expect(store.reencrypt({ batchSize: 10 })).resolves.toMatchObject({ rewritten: 0 });
  });

  it('PostgresRevocationStore: a misspelt "schema" does not put revocations in "public"', async () => {
    expect(() => new PostgresRevocationStore({ pool, Schema: schema } as never)).toThrow('keyward: PostgresRevocationStore() has an unknown field "Schema" (did you mean "schema"? known: pool, schema, clock)');
    await migrate(pool, { schema });
    const store = new PostgresRevocationStore({ pool, schema });
    await store.revoke('jti-opts', Date.now() + 60_000);
    expect(await store.isRevoked('jti-opts', Date.now())).toBe(true);
  });
});
