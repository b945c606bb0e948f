/** PostgresKeyStore's start-up checks, against a real PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test). */
import { createHash, randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { createEncryption, createKeyward } from '@keyward/core';
import { PostgresKeyStore } from './key-store';
import { migrate } from './migrate';

const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const NOT_ENCRYPTION = 'keyward: option "encryption" of PostgresKeyStore must be an Encryption made by createEncryption() or encryptionFromEnv() of @keyward/core';

describe('PostgresKeyStore options', () => {
  const pool = new Pool({ connectionString: DATABASE_URL, max: 2 });
  const schema = `kw_ks_${process.pid}_${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('refuses an "encryption" that is not an Encryption when it is built, not at the first write', () => {
    const masterKey = randomBytes(32);
    for (const encryption of [{ keys: [{ id: 'k1', key: masterKey }] }, masterKey, 'k1', null, { currentKeyId: 'k1', seal: () => '' }]) {
      expect(() => new PostgresKeyStore({ pool, schema, encryption: encryption as never })).toThrow(new TypeError(NOT_ENCRYPTION));
    }
  });

  it('takes an Encryption: encryptsAtRest, and a recoverable key is sealed and revealed through a real PostgreSQL', async () => {
    await migrate(pool, { schema });
    const encryption = createEncryption({ keys: [{ id: 'k1', key: createHash('sha256').update('a test master key').digest() }] });
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
