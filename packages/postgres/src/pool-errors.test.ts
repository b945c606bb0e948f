/**
 * A pool with no 'error' listener: PostgreSQL closing an idle connection (a restart, a failover) would end the
 * process. The stores warn once; with a listener, the same event is harmless and keyward keeps answering.
 */
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { createKeyward } from '@keyward/core';
import { PostgresKeyStore } from './key-store';
import { PostgresRevocationStore } from './revocation-store';
import { migrate } from './migrate';

const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

it('warns once about a pool with no error listener; with one, an idle connection killed by the server does no harm', async () => {
  const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
  const name = `kw_poolerr_${process.pid}_${randomBytes(4).toString('hex')}`;
  const pool = new Pool({ connectionString: DATABASE_URL, max: 2, application_name: name });
  const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
  admin.on('error', () => {});
  try {
    const errors: Error[] = [];
    pool.on('error', (error) => errors.push(error));
    new PostgresKeyStore({ pool, schema: name });
    new PostgresRevocationStore({ pool, schema: name });
    expect(warn).not.toHaveBeenCalled();

    const bare = new Pool({ connectionString: DATABASE_URL, max: 1 });
    new PostgresKeyStore({ pool: bare });
    new PostgresRevocationStore({ pool: bare });
    await bare.end();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/^keyward: the pg pool given to PostgresKeyStore has no 'error' listener: .*pool\.on\('error', …\)/);
    expect(warn.mock.calls[0]![1]).toMatchObject({ code: 'KEYWARD_PG_POOL_ERRORS' });

    await migrate(admin, { schema: name });
    const kw = createKeyward({ store: new PostgresKeyStore({ pool, schema: name }) });
    const { key } = await kw.keys.create({ owner: 'acme' });
    expect(pool.idleCount).toBeGreaterThan(0);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [name]);
    const end = Date.now() + 2000;
    while (errors.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(errors.length).toBeGreaterThan(0); // what would have ended the process without the listener
    expect((await kw.check({ method: 'GET', path: '/docs', headers: { 'x-api-key': key } })).ok).toBe(true);
    await kw.close();
  } finally {
    warn.mockRestore();
    await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    await admin.end();
    await pool.end();
  }
});
