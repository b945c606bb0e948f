/** RedisRevocationStore against a real Redis (127.0.0.1:6379, or REDIS_URL): the expiry follows keyward's clock. */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { createKeyward, manualClock } from '@keyward/core';
import { boundedRedisOptions } from './client';
import { RedisRevocationStore } from './revocation-store';

const URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const ISSUERS = [{ issuer: 'https://auth.example.com/', audience: 'api://docs', secret: 'an-hmac-secret-that-is-long-enough-0123456789', algorithms: ['HS256'] }];

let client: Redis;
beforeAll(async () => {
  client = new Redis(URL, { ...boundedRedisOptions(), lazyConnect: true });
  await client.connect();
});
afterAll(() => client.disconnect());

describe('RedisRevocationStore expiry', () => {
  it('counts the Redis expiry from keyward\'s clock, so a clock behind the machine\'s does not lose the revocation early', async () => {
    const prefix = `kwtest_revclock_${randomBytes(6).toString('hex')}`;
    const clock = manualClock(Date.now() - 3_600_000); // keyward's clock an hour behind the machine's
    const kw = createKeyward({ clock, tokens: { issuers: ISSUERS, revocationStore: new RedisRevocationStore({ client, prefix }) } });
    try {
      await kw.tokens.revoke('jti-behind', clock() + 600_000);
      // revoked for 10 minutes of keyward's time (plus its grace), kept in Redis 60 s past that
      const ttl = await client.pttl(`${prefix}:revoked:jti-behind`);
      expect(ttl).toBeGreaterThan(600_000 + 60_000 - 5_000);
      clock.advance(590_000);
      expect(await kw.tokens.isRevoked('jti-behind')).toBe(true);
    } finally {
      await client.del(`${prefix}:revoked:jti-behind`);
      await kw.close();
    }
  });

  it('without keyward\'s time it counts from the machine\'s clock', async () => {
    const prefix = `kwtest_revclock_${randomBytes(6).toString('hex')}`;
    const store = new RedisRevocationStore({ client, prefix, graceMs: 0 });
    await store.revoke('jti-direct', Date.now() + 120_000);
    const ttl = await client.pttl(`${prefix}:revoked:jti-direct`);
    expect(ttl).toBeGreaterThan(110_000);
    expect(ttl).toBeLessThanOrEqual(120_001);
    await client.del(`${prefix}:revoked:jti-direct`);
  });

  it('refuses a graceMs Redis cannot take as an expiry, at construction, naming the option', async () => {
    for (const graceMs of [1e21, Number.MAX_SAFE_INTEGER, 366 * 86_400_000, -1, 1.5, NaN, '60000']) {
      expect(() => new RedisRevocationStore({ client, graceMs } as never)).toThrow(new TypeError('keyward: option "graceMs" must be an integer from 0 to 31,536,000,000 (one year)'));
    }
    const prefix = `kwtest_revgrace_${randomBytes(6).toString('hex')}`;
    const store = new RedisRevocationStore({ client, prefix, graceMs: 365 * 86_400_000 }); // the largest allowed still works
    await store.revoke('jti-year', Date.now() + 1_000);
    expect(await store.isRevoked('jti-year', Date.now())).toBe(true);
    await client.del(`${prefix}:revoked:jti-year`);
  });
});
