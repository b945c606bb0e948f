/** RedisKeyStore's start-up checks, against a real Redis (127.0.0.1:6379, or REDIS_URL). */
import { createHash, randomBytes } from 'node:crypto';
import Redis, { type RedisOptions } from 'ioredis';
import { createEncryption, createKeyward } from '@keyward/core';
import { boundedRedisOptions } from './client';
import { RedisKeyStore } from './key-store';
import { RedisRevocationStore } from './revocation-store';

const URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const NOT_ENCRYPTION = 'keyward: option "encryption" of RedisKeyStore must be an Encryption made by createEncryption() or encryptionFromEnv() of @keyward/core';

describe('RedisKeyStore options', () => {
  const clients: Redis[] = [];
  const client = (options: RedisOptions = boundedRedisOptions()) => {
    const c = new Redis(URL, { ...options, lazyConnect: true });
    c.on('error', () => {});
    clients.push(c);
    return c;
  };
  afterAll(() => clients.forEach((c) => c.disconnect()));

  it('refuses an "encryption" that is not an Encryption when it is built, not at the first write', () => {
    const masterKey = randomBytes(32);
    const mistakes: unknown[] = [
      { keys: [{ id: 'k1', key: masterKey }] }, // the options of createEncryption, not its result
      masterKey,
      'k1',
      null,
      { currentKeyId: 'k1', seal: () => '', open: () => '' },
    ];
    for (const encryption of mistakes) {
      expect(() => new RedisKeyStore({ client: client(), encryption: encryption as never })).toThrow(new TypeError(NOT_ENCRYPTION));
    }
  });

  it('takes an Encryption: encryptsAtRest, and a recoverable key is sealed and revealed through a real Redis', async () => {
    const c = client();
    await c.connect();
    const prefix = `kwtest_ks_${process.pid}_${randomBytes(4).toString('hex')}`;
    const encryption = createEncryption({ keys: [{ id: 'k1', key: createHash('sha256').update('a test master key').digest() }] });
    const store = new RedisKeyStore({ client: c, prefix, encryption });
    expect(store.encryptsAtRest).toBe(true);
    expect(new RedisKeyStore({ client: c, prefix }).encryptsAtRest).toBe(false);
    const kw = createKeyward({ store });
    const { key, record } = await kw.keys.create({ owner: 'acme', recoverable: true });
    expect(await kw.keys.reveal(record.id)).toBe(key);
    expect(await store.delete(record.id)).toBe(true);
    await kw.close();
  });

  it('warns once when a store is given a client that queues commands while disconnected', () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      new RedisKeyStore({ client: client() }); // boundedRedisOptions: no offline queue
      new RedisRevocationStore({ client: client({ enableOfflineQueue: false }) });
      expect(warn).not.toHaveBeenCalled();
      new RedisKeyStore({ client: client({}) }); // ioredis's default
      new RedisRevocationStore({ client: client({}) });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![0]).toMatch(/^keyward: the Redis client given to RedisKeyStore has the offline queue enabled: .*boundedRedisOptions\(\)/);
      expect(warn.mock.calls[0]![1]).toMatchObject({ code: 'KEYWARD_REDIS_OFFLINE_QUEUE' });
    } finally {
      warn.mockRestore();
    }
  });
});
