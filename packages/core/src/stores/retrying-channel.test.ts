import { createKeyward, MemoryKeyStore, type InvalidationChannel, type KeyChange } from '../index';
import { RetryingChannel } from './retrying-channel';

/** A channel between instances of this process that can be cut, as a Redis blip cuts the publisher's connection. */
function localChannel() {
  const listeners = new Set<(change: KeyChange) => void>();
  const state = { down: false, attempts: 0 };
  const channel = (): InvalidationChannel => ({
    async publish(change) {
      state.attempts++;
      if (state.down) throw new Error('Stream isn\'t writeable and enableOfflineQueue options is false');
      for (const l of listeners) l(change);
    },
    async subscribe(onChange) {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
  });
  return { channel, state };
}

const until = async (probe: () => boolean | Promise<boolean>, ms = 3000) => {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('invalidation whose publish failed', () => {
  it('a revocation made while the publishing connection was down reaches the other instances once it is back, not after the cache TTL', async () => {
    const { channel, state } = localChannel();
    const store = new MemoryKeyStore(); // shared by two instances, each with its own cache
    const a = createKeyward({ store, invalidation: channel(), cache: { ttl: '1h' } });
    const b = createKeyward({ store, invalidation: channel(), cache: { ttl: '1h' } });
    const failures: unknown[] = [];
    a.on('store.error', (e) => {
      failures.push(e.reason);
    });
    const { key, record } = await a.keys.create({ owner: 'acme' });
    const check = () => b.check({ method: 'GET', path: '/docs', headers: { 'x-api-key': key } });
    expect((await check()).ok).toBe(true); // cached on b for an hour

    state.down = true;
    await a.keys.revoke(record.id); // the revocation is stored; its message fails
    await until(() => failures.length > 0); // events are delivered asynchronously
    await new Promise((r) => setTimeout(r, 350));
    expect(state.attempts).toBeGreaterThan(2); // tried again meanwhile, with backoff
    expect((await check()).ok).toBe(true); // b has not heard yet

    state.down = false; // the connection is back
    await until(async () => !(await check()).ok);
    expect(await check()).toMatchObject({ code: 'KEY_REVOKED' });
    expect(failures).toEqual(['INVALIDATION_PUBLISH_FAILED']); // the retries are not reported each time
    await a.close();
    await b.close();
  });

  it('stops retrying when closed, and holds each id once', async () => {
    const { channel, state } = localChannel();
    const retrying = new RetryingChannel(channel());
    state.down = true;
    for (let i = 0; i < 3; i++) await expect(retrying.publish({ id: 'key_1' })).rejects.toThrow('Stream');
    await expect(retrying.publish({ id: 'key_2' })).rejects.toThrow('Stream');
    expect(retrying.waiting).toBe(2);
    retrying.close();
    expect(retrying.waiting).toBe(0);
    const attempts = state.attempts;
    await new Promise((r) => setTimeout(r, 250));
    expect(state.attempts).toBe(attempts);
  });
});
