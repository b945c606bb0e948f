/** RedisInvalidationChannel against a real Redis (127.0.0.1:6379, or REDIS_URL). */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { createKeyward, type KeyChange, type Keyward } from '@keyward/core';
import { boundedRedisOptions, whenReady } from './client';
import { RedisInvalidationChannel } from './invalidation';
import { RedisKeyStore } from './key-store';

const URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

async function eventually(probe: () => boolean | Promise<boolean>, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('RedisInvalidationChannel', () => {
  let client: Redis;
  let listener: Redis;
  const heard: string[] = [];
  const name = `kwtest_inv_${process.pid}_${randomBytes(4).toString('hex')}`;
  const closers: Array<() => Promise<void> | void> = [];
  const created: string[] = [];

  beforeAll(async () => {
    client = new Redis(URL, { ...boundedRedisOptions(), lazyConnect: true });
    await client.connect();
    listener = client.duplicate({ lazyConnect: true });
    await listener.connect();
    listener.on('message', (_channel: string, message: string) => heard.push(message));
    await listener.subscribe(name);
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    listener.disconnect();
    const store = new RedisKeyStore({ client, prefix: name });
    for (const id of created) await store.delete(id); // and with the last one, the indexes
    expect(await client.exists(`{${name}}:ids`)).toBe(0);
    client.disconnect();
  });

  function instance(): Keyward {
    const kw = createKeyward({ store: new RedisKeyStore({ client, prefix: name }), invalidation: new RedisInvalidationChannel({ client, channel: name }), cache: { ttl: '1h' } });
    closers.push(() => kw.close());
    return kw;
  }

  it('publishes ids only: no key hash on the channel, for any change', async () => {
    const kw = instance();
    const { record } = await kw.keys.create({ owner: 'acme' });
    created.push(record.id);
    const stored = await new RedisKeyStore({ client, prefix: name }).get(record.id);
    heard.length = 0;
    await kw.keys.update(record.id, { name: 'renamed' });
    await kw.keys.disable(record.id);
    await kw.keys.enable(record.id);
    await kw.keys.revoke(record.id);
    await eventually(() => heard.length >= 4);
    expect(heard).toEqual(Array(4).fill(JSON.stringify({ id: record.id })));
    expect(heard.join('\n')).not.toContain(stored!.hash);
  });

  it('an old instance\'s `{ id, hash }` message still drops the entry, and the hash is not passed on', async () => {
    const changes: KeyChange[] = [];
    let resets = 0;
    const unsubscribe = await new RedisInvalidationChannel({ client, channel: name }).subscribe((c) => changes.push(c), () => resets++);
    closers.push(unsubscribe);
    await eventually(() => resets === 1); // subscribed

    // an instance whose cache holds a key; the key is revoked in the store without a message from this version
    const subscribers = async () => Number((await client.pubsub('NUMSUB', name))[1]);
    const before = await subscribers();
    const app = instance();
    await eventually(async () => (await subscribers()) === before + 1);
    await new Promise((r) => setTimeout(r, 50)); // its reset on subscribing (which drops the cache) has run
    const store = new RedisKeyStore({ client, prefix: name });
    const key = await app.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    created.push(key.record.id);
    const check = () => app.check({ method: 'GET', path: '/docs', headers: { 'x-api-key': key.key } });
    expect((await check()).ok).toBe(true); // cached for an hour
    await store.update(key.record.id, { status: 'revoked' });
    expect((await check()).ok).toBe(true);

    await client.publish(name, JSON.stringify({ id: key.record.id, hash: 'f'.repeat(16) }));
    await eventually(async () => !(await check()).ok);
    await eventually(() => changes.length === 1);
    expect(changes).toEqual([{ id: key.record.id }]);

    await client.publish(name, 'not json'); // not ours: the safe answer is a reset
    await client.publish(name, 'null');
    await eventually(() => resets === 3);
    expect(changes.length).toBe(1);
  });

  it('an instance closed as soon as it is made leaves no subscriber behind (its connection would keep the process alive)', async () => {
    const channel = `${name}:closed`;
    const kw = createKeyward({ invalidation: new RedisInvalidationChannel({ client, channel }) });
    await kw.close();
    await new Promise((r) => setTimeout(r, 200)); // a subscriber left open would have connected and subscribed by now
    expect(Number((await client.pubsub('NUMSUB', channel))[1])).toBe(0);
  });

  it('a revocation published while the publisher was disconnected still reaches a connected instance once it is back', async () => {
    const subscribers = async () => Number((await client.pubsub('NUMSUB', name))[1]);
    const before = await subscribers();
    const receiving = instance(); // cached for an hour
    const offline = new Redis(URL, { ...boundedRedisOptions(), lazyConnect: true }); // not connected yet: a blip
    offline.on('error', () => {});
    const revoking = createKeyward({ store: new RedisKeyStore({ client, prefix: name }), invalidation: new RedisInvalidationChannel({ client: offline, channel: name }) });
    closers.push(async () => {
      await revoking.close();
      offline.disconnect();
    });
    await eventually(async () => (await subscribers()) === before + 2); // both subscribed
    await new Promise((r) => setTimeout(r, 100));
    const { key, record } = await revoking.keys.create({ owner: 'acme' });
    created.push(record.id);
    const check = () => receiving.check({ method: 'GET', path: '/docs', headers: { 'x-api-key': key } });
    expect((await check()).ok).toBe(true);
    const failed = new Promise((resolve) => revoking.on('store.error', resolve));
    await revoking.keys.revoke(record.id);
    expect(await failed).toMatchObject({ reason: 'INVALIDATION_PUBLISH_FAILED' });
    expect((await check()).ok).toBe(true); // not heard: the message was never sent
    await whenReady(offline); // back
    await eventually(async () => !(await check()).ok, 3000);
    expect(await check()).toMatchObject({ code: 'KEY_REVOKED' });
  });
});

