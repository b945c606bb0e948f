/** PostgresRevocationStore against a real PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test): purge() follows keyward's clock. */
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { createKeyward, manualClock } from '@keyward/core';
import { PostgresRevocationStore } from './revocation-store';
import { migrate } from './migrate';

const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const ISSUERS = [{ issuer: 'https://auth.example.com/', audience: 'api://docs', secret: 'an-hmac-secret-that-is-long-enough-0123456789', algorithms: ['HS256'] }];

const pool = new Pool({ connectionString: DATABASE_URL, max: 2 });
pool.on('error', () => {}); // as the README asks of every pool
const schema = `kw_rv_${process.pid}_${randomBytes(4).toString('hex')}`;
beforeAll(() => migrate(pool, { schema }));
afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

describe('PostgresRevocationStore purge()', () => {
  it('counts from keyward\'s clock given as "clock", so a clock behind the machine\'s does not purge a revocation in force', async () => {
    const clock = manualClock(Date.now() - 3_600_000); // keyward's clock an hour behind the machine's
    const store = new PostgresRevocationStore({ pool, schema, clock });
    const kw = createKeyward({ clock, tokens: { issuers: ISSUERS, revocationStore: store } });
    try {
      await kw.tokens.revoke('jti-behind', clock() + 600_000);
      expect(await store.purge()).toBe(0);
      expect(await kw.tokens.isRevoked('jti-behind')).toBe(true);
      clock.advance(3_600_000); // well past the revocation (and its grace)
      expect(await store.purge()).toBe(1);
    } finally {
      await kw.close();
    }
  });

  it('refuses a "clock" that is not a function, naming the option', () => {
    expect(() => new PostgresRevocationStore({ pool, schema, clock: Date.now() } as never)).toThrow(new TypeError('keyward: option "clock" must be a function returning the time in ms since the epoch'));
  });
});
