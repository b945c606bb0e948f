/**
 * The start-up checks of RedisKeyStore and of the package's other options objects, against a real Redis
 * (127.0.0.1:6379, or REDIS_URL) through lazily connecting clients.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { type RedisOptions } from 'ioredis';
import { createEncryption, createKeyward } from '@keyward/core';
import { boundedRedisOptions } from './client';
import { RedisKeyStore } from './key-store';
import { RedisRevocationStore } from './revocation-store';
import { RedisInvalidationChannel } from './invalidation';
import { attachAuditStream, createAuditStream } from './audit-stream';

const URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const NOT_ENCRYPTION = 'keyward: option "encryption" of RedisKeyStore must be an Encryption made by createEncryption() or encryptionFromEnv() of @keyward/core';
const encryption = createEncryption({ keys: [{ id: 'k1', key: createHash('sha256').update('a test master key').digest() }] });

const clients: Redis[] = [];
const client = (options: RedisOptions = boundedRedisOptions()) => {
  const c = new Redis(URL, { ...options, lazyConnect: true });
  c.on('error', () => {});
  clients.push(c);
  return c;
};
afterAll(() => clients.forEach((c) => c.disconnect()));

describe('RedisKeyStore options', () => {
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

describe('Redis options: an unknown field is a TypeError naming it, before anything is connected, subscribed or warned', () => {
  it('RedisKeyStore: a misspelt "encryption" does not store keys in the clear', () => {
    expect(() => new RedisKeyStore({ client: client(), encrypton: encryption } as never)).toThrow('keyward: RedisKeyStore() has an unknown field "encrypton" (did you mean "encryption"? known: client, prefix, encryption, sealedFields)');
    // checked first: before the client is looked at (and so before the offline-queue warning)
    expect(() => new RedisKeyStore({ client: 'redis://', encrypton: encryption } as never)).toThrow('has an unknown field "encrypton"');
    const store = new RedisKeyStore({ client: client(), prefix: 'kwtest_opts', encryption, sealedFields: ['name', 'sealed'] });
    expect(store.encryptsAtRest).toBe(true);
  });

  it('RedisKeyStore.reencrypt(): an unknown field is refused; a known one runs on a real Redis', async () => {
    const c = client();
    await c.connect();
    const store = new RedisKeyStore({ client: c, prefix: `kwtest_opts_${process.pid}_${randomBytes(4).toString('hex')}`, encryption });
    await expect(store.reencrypt({ batchsize: 10 } as never)).rejects.toThrow('keyward: reencrypt() has an unknown field "batchsize" (did you mean "batchSize"? known: batchSize)');
    await expect(store.reencrypt({ batchSize: 0 })).rejects.toThrow('keyward: option "batchSize" of reencrypt() must be an integer from 1 to 100,000');
    await expect(store.reencrypt({ batchSize: -1 })).rejects.toThrow('"batchSize"');
    await expect(store.reencrypt({ batchSize: 10 })).resolves.toEqual({ scanned: 0, rewritten: 0 });
  });

  it('RedisRevocationStore', () => {
    expect(() => new RedisRevocationStore({ client: client(), graceMS: 0 } as never)).toThrow('keyward: RedisRevocationStore() has an unknown field "graceMS" (did you mean "graceMs"? known: client, prefix, graceMs)');
    expect(() => new RedisRevocationStore({ client: client(), prefix: 'kwtest_opts', graceMs: 0 })).not.toThrow();
  });

  it('RedisInvalidationChannel: a misspelt "channel" does not leave instances on different channels', () => {
    expect(() => new RedisInvalidationChannel({ client: client(), chanel: 'app:invalidate' } as never)).toThrow('keyward: RedisInvalidationChannel() has an unknown field "chanel" (did you mean "channel"? known: client, channel)');
    expect(new RedisInvalidationChannel({ client: client(), channel: 'app:invalidate' }).channel).toBe('app:invalidate');
  });

  it('createAuditStream and attachAuditStream: refused before listening to the client or the instance', async () => {
    const c = client();
    const ready = c.listenerCount('ready');
    expect(() => createAuditStream({ client: c, bufferSise: 10 } as never)).toThrow('keyward: createAuditStream() has an unknown field "bufferSise" (did you mean "bufferSize"? known: client, stream, maxLen, bufferSize, batchSize, retryMs, onDropped)');
    const kw = createKeyward();
    const on = jest.spyOn(kw, 'on');
    expect(() => attachAuditStream(kw, { client: c, maxlen: 10 } as never)).toThrow('keyward: attachAuditStream() has an unknown field "maxlen" (did you mean "maxLen"?');
    expect(on).not.toHaveBeenCalled();
    expect(c.listenerCount('ready')).toBe(ready);

    const sink = attachAuditStream(kw, { client: c, stream: 'kwtest:opts:audit', maxLen: 10, bufferSize: 10, batchSize: 5, retryMs: 50, onDropped: () => {} });
    expect(on).toHaveBeenCalledTimes(1);
    expect(c.listenerCount('ready')).toBe(ready + 1);
    await sink.close();
    expect(c.listenerCount('ready')).toBe(ready);
    await kw.close();
  });
});

describe('RedisKeyStore failures', () => {
  it('a Redis error reply reaches kw.keys as STORE_FAILURE, without the command that names the key hash', async () => {
    const c = client();
    await c.connect();
    const prefix = `kwtest_fail_${process.pid}_${randomBytes(4).toString('hex')}`;
    const kw = createKeyward({ store: new RedisKeyStore({ client: c, prefix }) });
    await c.set(`{${prefix}}:ids`, 'not a sorted set'); // every create now fails in Redis (WRONGTYPE)
    try {
      const error = await kw.keys.create({ owner: 'acme', name: 'billing' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'KeywardError', code: 'STORE_FAILURE', message: expect.stringMatching(/^the key store failed: WRONGTYPE /) });
      expect((error as Error).cause).toMatchObject({ name: 'ReplyError', message: expect.stringMatching(/^WRONGTYPE /) });
      const shown = inspect(error, { depth: 10 });
      expect(shown).not.toMatch(/[0-9a-f]{64}/); // ioredis's `command.args` held the key's hash and its record
      expect(shown).not.toContain('billing');
      await expect(kw.keys.list({ limit: 10 })).rejects.toMatchObject({ code: 'STORE_FAILURE' });
    } finally {
      await c.del(`{${prefix}}:ids`);
      await kw.close();
    }
  });
});

describe('RedisKeyStore on a Redis that evicts', () => {
  it('warns once when Redis may evict keys without an expiry (maxmemory-policy allkeys-*), and not on noeviction', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-evict-'));
    const path = join(dir, 'redis.sock');
    const server = spawn('redis-server', ['--port', '0', '--unixsocket', path, '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'allkeys-lru'], { stdio: 'ignore' });
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const evicting = new Redis({ ...boundedRedisOptions(), path, lazyConnect: true, retryStrategy: () => 20 });
    evicting.on('error', () => {});
    try {
      const safe = client();
      new RedisKeyStore({ client: safe });
      await safe.connect();
      await new Promise((r) => setTimeout(r, 100));
      expect(warn.mock.calls.filter(([, o]) => (o as { code?: string })?.code === 'KEYWARD_REDIS_EVICTION')).toEqual([]); // noeviction here

      new RedisKeyStore({ client: evicting }); // not connected yet: checked when it is ready
      new RedisKeyStore({ client: evicting });
      const end = Date.now() + 5000;
      const ready = () => evicting.status === 'ready';
      while (!ready() && Date.now() < end) {
        await evicting.connect().catch(() => {}); // the server may still be starting ('Connection is closed' on a busy machine)
        if (!ready()) await new Promise((r) => setTimeout(r, 50));
      }
      while (!warn.mock.calls.some(([, o]) => (o as { code?: string })?.code === 'KEYWARD_REDIS_EVICTION') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      const calls = warn.mock.calls.filter(([, o]) => (o as { code?: string })?.code === 'KEYWARD_REDIS_EVICTION');
      expect(calls).toHaveLength(1);
      expect(calls[0]![0]).toMatch(/^keyward: the Redis behind RedisKeyStore has maxmemory-policy allkeys-lru: .* use noeviction/);
    } finally {
      warn.mockRestore();
      evicting.disconnect();
      server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});


describe('RedisRevocationStore on a Redis that evicts', () => {
  it('warns once when Redis may evict revocations (volatile-*: they have an expiry), and not on noeviction', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-evict-rev-'));
    const path = join(dir, 'redis.sock');
    const server = spawn('redis-server', ['--port', '0', '--unixsocket', path, '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'volatile-lru'], { stdio: 'ignore' });
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const evicting = new Redis({ ...boundedRedisOptions(), path, lazyConnect: true, retryStrategy: () => 20 });
    evicting.on('error', () => {});
    const warned = () => warn.mock.calls.filter(([, o]) => (o as { code?: string })?.code === 'KEYWARD_REDIS_REVOCATION_EVICTION');
    try {
      const safe = client();
      new RedisRevocationStore({ client: safe });
      new RedisKeyStore({ client: evicting }); // volatile-* is fine for the key store: its keys have no expiry
      await safe.connect();
      await new Promise((r) => setTimeout(r, 100));
      expect(warned()).toEqual([]); // noeviction here

      new RedisRevocationStore({ client: evicting }); // not connected yet: checked when it is ready
      new RedisRevocationStore({ client: evicting });
      const end = Date.now() + 5000;
      const ready = () => evicting.status === 'ready';
      while (!ready() && Date.now() < end) {
        await evicting.connect().catch(() => {}); // the server may still be starting
        if (!ready()) await new Promise((r) => setTimeout(r, 50));
      }
      while (warned().length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(warned()).toHaveLength(1);
      expect(warned()[0]![0]).toMatch(/^keyward: the Redis behind RedisRevocationStore has maxmemory-policy volatile-lru: .* a revoked token is then accepted again; use noeviction/);
      expect(warn.mock.calls.filter(([, o]) => (o as { code?: string })?.code === 'KEYWARD_REDIS_EVICTION')).toEqual([]);
    } finally {
      warn.mockRestore();
      evicting.disconnect();
      server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('RedisKeyStore when an index is lost (evicted under allkeys-*, removed by hand)', () => {
  const check = (kw: ReturnType<typeof createKeyward>, key: string) => kw.check({ method: 'GET', path: '/x', headers: { 'x-api-key': key }, remoteAddress: '203.0.113.5' });

  it('a key that kw.keys cannot find any more (revoke, revokeOwner, revokeCreatedBefore) no longer authenticates', async () => {
    const c = client();
    await c.connect();
    const prefix = `kwtest_lost_${process.pid}_${randomBytes(4).toString('hex')}`;
    const tag = `{${prefix}}`;
    const kw = createKeyward({ store: new RedisKeyStore({ client: c, prefix }), cache: false });
    try {
      const lose: Record<string, (id: string) => Promise<unknown>> = {
        'id index': (id) => c.del(`${tag}:id:${id}`),
        ids: (id) => c.zrem(`${tag}:ids`, id),
        'owner index': (id) => c.zrem(`${tag}:owner:acme`, id),
      };
      const control = await kw.keys.create({ owner: 'acme' });
      for (const [what, remove] of Object.entries(lose)) {
        const { key, record } = await kw.keys.create({ owner: 'acme' });
        expect((await check(kw, key)).ok).toBe(true);
        await remove(record.id);
        expect([what, await check(kw, key)]).toEqual([what, expect.objectContaining({ ok: false, code: 'CREDENTIALS_INVALID' })]);
      }
      expect((await check(kw, control.key)).ok).toBe(true);
      const odd = await kw.keys.create({ owner: 'ac"me\\ \t ünï ✓ 𝄞 {x}:*' }); // the script finds its owner index too
      expect((await check(kw, odd.key)).ok).toBe(true);
      expect((await kw.keys.revokeOwner('acme')).ids).toContain(control.record.id);
      expect((await check(kw, control.key)).ok).toBe(false);
    } finally {
      for (const k of await c.keys(`${tag}:*`)) await c.del(k);
      await kw.close();
    }
  });
});

describe('RedisKeyStore when an index is lost: tokens exchanged from the key', () => {
  const signing = { issuer: 'https://api.example', audience: 'docs-api', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k1' }], ttl: '10m' };
  const bearer = (token: string) => ({ method: 'GET', path: '/x', headers: { authorization: `Bearer ${token}` }, remoteAddress: '203.0.113.5' });

  it('are refused as their key is (revokeOwner() and revokeCreatedBefore() can no longer reach it), and the key is still revocable by id', async () => {
    const c = client();
    await c.connect();
    const prefix = `kwtest_losttok_${process.pid}_${randomBytes(4).toString('hex')}`;
    const tag = `{${prefix}}`;
    const kw = createKeyward({ store: new RedisKeyStore({ client: c, prefix }), cache: false, tokens: { signing } });
    const exchange = async (id: string, key: string) => {
      const res = await kw.tokens.endpoint()({ method: 'POST', path: '/oauth/token', query: '', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${id}:${key}`).toString('base64')}` }, remoteAddress: '10.0.0.1', body: 'grant_type=client_credentials' });
      expect(res.status).toBe(200);
      return JSON.parse(String(res.body)).access_token as string;
    };
    try {
      // What each index loses, and the incident revocation that then misses the key.
      const lose: Record<string, [(id: string) => Promise<unknown>, () => Promise<{ ids: string[] }>]> = {
        ids: [(id) => c.zrem(`${tag}:ids`, id), () => kw.keys.revokeCreatedBefore(Date.now() + 60_000)],
        'owner index': [(id) => c.zrem(`${tag}:owner:acme`, id), () => kw.keys.revokeOwner('acme')],
      };
      for (const [what, [remove, incident]] of Object.entries(lose)) {
        const control = await kw.keys.create({ owner: 'acme' });
        const controlToken = await exchange(control.record.id, control.key);
        const { key, record } = await kw.keys.create({ owner: 'acme' });
        const token = await exchange(record.id, key);
        expect((await kw.check(bearer(token))).ok).toBe(true);
        await remove(record.id);
        const { ids } = await incident();
        expect(ids).toContain(control.record.id);
        expect(ids).not.toContain(record.id); // the lost index hides it
        expect(await kw.check(bearer(controlToken))).toMatchObject({ ok: false, code: 'TOKEN_INVALID' });
        expect([what, await kw.check(bearer(token))]).toEqual([what, expect.objectContaining({ ok: false, code: 'TOKEN_INVALID' })]);
        expect((await kw.keys.revoke(record.id)).status).toBe('revoked'); // by id, it is still reached
        const deleted: unknown[] = [];
        kw.on('key.deleted', (e) => { deleted.push(e.keyId); });
        expect(await kw.keys.delete(record.id)).toBe(true); // and deleted, with its event
        await kw.flushEvents();
        expect(deleted).toEqual([record.id]);
        expect(await c.exists(`${tag}:id:${record.id}`)).toBe(0);
      }
    } finally {
      for (const k of await c.keys(`${tag}:*`)) await c.del(k);
      await kw.close();
    }
  });
});

describe('RedisKeyStore on a client with an ioredis keyPrefix', () => {
  it('authenticates its keys (the look-up script names the indexes with the client\'s prefix too)', async () => {
    const c = client({ ...boundedRedisOptions(), keyPrefix: `kwtest_kp_${process.pid}:` });
    await c.connect();
    const prefix = `kwtest_kp_${randomBytes(4).toString('hex')}`;
    const kw = createKeyward({ store: new RedisKeyStore({ client: c, prefix }), cache: false });
    try {
      const { key, record } = await kw.keys.create({ owner: 'acme' });
      expect((await kw.check({ method: 'GET', path: '/x', headers: { 'x-api-key': key }, remoteAddress: '203.0.113.5' })).ok).toBe(true);
      expect(await kw.keys.delete(record.id)).toBe(true);
      // a record lost: delete finds its owner index by SCAN, whose pattern and answer hold the client's prefix
      const lost = await kw.keys.create({ owner: 'acme' });
      await c.del(`{${prefix}}:k:${await c.get(`{${prefix}}:id:${lost.record.id}`)}`);
      expect(await kw.keys.delete(lost.record.id)).toBe(false);
      expect(await c.exists(`{${prefix}}:owner:acme`)).toBe(0);
    } finally {
      await kw.close();
    }
  });
});

describe('RedisKeyStore delete of a key whose record or id index is lost', () => {
  it('removes every index entry of the id that is left', async () => {
    const c = client();
    await c.connect();
    const prefix = `kwtest_lostdel_${process.pid}_${randomBytes(4).toString('hex')}`;
    const tag = `{${prefix}}`;
    const store = new RedisKeyStore({ client: c, prefix });
    const kw = createKeyward({ store, cache: false });
    const left = async (id: string) => ({
      id: await c.exists(`${tag}:id:${id}`),
      ids: await c.zscore(`${tag}:ids`, id),
      owner: await c.zscore(`${tag}:owner:acme`, id),
    });
    const none = { id: 0, ids: null, owner: null };
    try {
      const control = await kw.keys.create({ owner: 'acme' });
      const noRecord = await kw.keys.create({ owner: 'acme' });
      await c.del(`${tag}:k:${await c.get(`${tag}:id:${noRecord.record.id}`)}`);
      expect(await kw.keys.delete(noRecord.record.id)).toBe(false);
      expect(await left(noRecord.record.id)).toEqual(none);

      const noIdIndex = await kw.keys.create({ owner: 'acme' });
      await c.del(`${tag}:id:${noIdIndex.record.id}`);
      expect(await store.delete(noIdIndex.record.id)).toBe(false);
      expect(await left(noIdIndex.record.id)).toEqual(none);

      const bothLeft = await kw.keys.create({ owner: 'acme' });
      await c.del(`${tag}:k:${await c.get(`${tag}:id:${bothLeft.record.id}`)}`);
      expect(await store.delete(bothLeft.record.id)).toBe(false); // was STORE_FAILURE ("kept changing")
      expect(await left(bothLeft.record.id)).toEqual(none);

      expect(await left(control.record.id)).toEqual({ id: 1, ids: '0', owner: '0' });
      expect(await kw.keys.delete(control.record.id)).toBe(true);
      expect(await left(control.record.id)).toEqual(none);
      expect(await store.delete('key_never_was')).toBe(false);
    } finally {
      for (const k of await c.keys(`${tag}:*`)) await c.del(k);
      await kw.close();
    }
  });
});
