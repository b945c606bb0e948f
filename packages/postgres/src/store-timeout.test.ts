/**
 * keyward's `storeTimeout` on a real PostgreSQL that stops answering: the keys table is locked by another session
 * (as a long migration would), so every look-up blocks in the server until the lock goes.
 */
import { randomBytes } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import { createKeyward, isKeywardError, type Keyward } from '@keyward/core';
import { PostgresKeyStore } from './key-store';
import { migrate } from './migrate';

const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const STORE_TIMEOUT = 200;
const MARGIN = 150; // timer and event-loop slack on a busy machine

describe('storeTimeout on PostgreSQL', () => {
  const pool = new Pool({ connectionString: DATABASE_URL, max: 4 });
  const admin = new Pool({ connectionString: DATABASE_URL, max: 2 });
  for (const p of [pool, admin]) p.on('error', () => {}); // as the README asks of every pool (a terminated backend is replaced)
  const schema = `kw_timeout_${process.pid}_${randomBytes(4).toString('hex')}`;
  let kw: Keyward;
  let locker: PoolClient | undefined;

  beforeAll(async () => {
    await migrate(admin, { schema });
    kw = createKeyward({ store: new PostgresKeyStore({ pool, schema }), storeTimeout: `${STORE_TIMEOUT}ms`, cache: false });
  });
  afterAll(async () => {
    await unlock();
    await kw.close();
    await pool.end();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  async function lock(): Promise<void> {
    locker = await admin.connect();
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE "${schema}".keyward_keys IN ACCESS EXCLUSIVE MODE`);
  }
  async function unlock(): Promise<void> {
    if (!locker) return;
    await locker.query('ROLLBACK');
    locker.release();
    locker = undefined;
  }
  const check = (key: string) => kw.check({ method: 'GET', path: '/docs', headers: { 'x-api-key': key } });

  it('look-ups blocked in the database get 503 STORE_UNAVAILABLE with Retry-After within the timeout; then 200 again', async () => {
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    expect((await check(key)).ok).toBe(true);

    await lock();
    // more requests than the pool has connections: the ones waiting for a connection are bounded too
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 8 }, async () => {
      const d = await check(key);
      return { d, took: performance.now() - started };
    }));
    for (const { d, took } of answers) {
      expect(d).toMatchObject({ ok: false, status: 503, code: 'STORE_UNAVAILABLE', headers: { 'Retry-After': '1' } });
      expect(took).toBeLessThan(STORE_TIMEOUT + MARGIN);
    }
    const error = await kw.keys.get(record.id).catch((e: unknown) => e);
    expect(isKeywardError(error, 'STORE_TIMEOUT')).toBe(true);

    await unlock(); // the blocked queries now finish, late: their answers go nowhere
    expect((await check(key)).ok).toBe(true);
    expect(await kw.keys.get(record.id)).toMatchObject({ id: record.id, status: 'active' });
  });
});
