/**
 * Recoverable keys: with encryption at rest the store keeps an AES-256-GCM copy of the plaintext so the owner can see
 * it again (`keys.reveal`); the hash is unchanged and still the only thing look-ups use.
 */
import { createKeyward, sha256Hex, type KeywardEvent } from '@keyward/core';
import { RedisKeyStore } from '@keyward/redis';
import { PostgresKeyStore } from '@keyward/postgres';
import { deleteMatching, pgSchema, redisClient, testEncryption, uniqueName } from './support';

describe('recoverable keys', () => {
  it('refused without encryption at rest', async () => {
    const kw = createKeyward();
    await expect(kw.keys.create({ owner: 'acme', recoverable: true })).rejects.toThrow('keyward: "recoverable" keys need a store with encryption at rest');
    await expect(kw.keys.create({ owner: 'acme', recoverable: 'yes' as never })).rejects.toThrow('keyward: "recoverable" must be a boolean');
    await kw.close();
  });

  it.each(['redis', 'postgres'])('%s: reveal returns the plaintext; the raw data holds only its hash and a ciphertext', async (name) => {
    let raw: () => Promise<string>;
    let cleanup: () => Promise<void>;
    let store;
    if (name === 'redis') {
      const client = await redisClient();
      const prefix = uniqueName('kwtest_recover');
      store = new RedisKeyStore({ client, prefix, encryption: testEncryption() });
      raw = async () => {
        const [, keys] = await client.scan('0', 'MATCH', `{${prefix}}*`, 'COUNT', 1000);
        return JSON.stringify(await Promise.all(keys.map(async (k) => ((await client.type(k)) === 'hash' ? client.hgetall(k) : k))));
      };
      cleanup = async () => { await deleteMatching(client, `{${prefix}}*`); client.disconnect(); };
    } else {
      const db = await pgSchema('recover');
      store = new PostgresKeyStore({ pool: db.pool, schema: db.schema, encryption: testEncryption() });
      raw = async () => JSON.stringify((await db.pool.query(`SELECT * FROM "${db.schema}".keyward_keys`)).rows);
      cleanup = () => db.drop();
    }
    const kw = createKeyward({ store });
    const events: KeywardEvent[] = [];
    kw.on('key.revealed', (e) => { events.push(e); });
    const { key, record } = await kw.keys.create({ owner: 'acme', recoverable: true, scopes: ['docs:read'] });
    const plain = await kw.keys.create({ owner: 'acme' });
    expect(await kw.keys.reveal(record.id)).toBe(key);
    expect(await kw.keys.reveal(plain.record.id)).toBeUndefined();
    const dump = await raw();
    expect(dump).not.toContain(key.slice(8));
    expect(dump).toContain(sha256Hex(key));
    expect(JSON.stringify(await kw.keys.get(record.id))).not.toContain(key.slice(8));
    const decision = await kw.check({ method: 'GET', path: '/', headers: { 'x-api-key': key } });
    expect(decision.ok).toBe(true);
    await kw.flushEvents();
    expect(events.map((e) => [e.type, e.keyId])).toEqual([['key.revealed', record.id]]);
    await kw.close();
    await cleanup();
  });
});
