import { createKeyward, isKeywardError, MemoryKeyStore, type KeyRecord, type KeyStore } from '../index';
import { DeadlineKeyStore } from './deadline-key-store';

/** An in-memory store whose reads can be made to hang (never answer) or to answer late. */
class StallingStore extends MemoryKeyStore {
  stall: 'no' | 'forever' | number = 'no';
  encryptsAtRest = false;
  private later<T>(answer: () => Promise<T>): Promise<T> {
    if (this.stall === 'no') return answer();
    if (this.stall === 'forever') return new Promise<T>(() => {});
    const ms = this.stall;
    return new Promise<T>((resolve, reject) => setTimeout(() => answer().then(resolve, reject), ms));
  }
  override findByHash(hash: string): Promise<KeyRecord | undefined> {
    return this.later(() => super.findByHash(hash));
  }
  override get(id: string): Promise<KeyRecord | undefined> {
    return this.later(() => super.get(id));
  }
}

const TIMEOUT = 100;

describe('storeTimeout: a deadline on key-store reads', () => {
  const request = (key: string) => ({ method: 'GET', path: '/docs', headers: { 'x-api-key': key } });

  it('a look-up that hangs is 503 STORE_UNAVAILABLE with Retry-After once the timeout is up, never later', async () => {
    const store = new StallingStore();
    const kw = createKeyward({ store, storeTimeout: `${TIMEOUT}ms`, cache: false });
    const { key, record } = await kw.keys.create({ owner: 'acme' });
    expect((await kw.check(request(key))).ok).toBe(true);

    store.stall = 'forever';
    const started = performance.now();
    const d = await kw.check(request(key));
    const took = performance.now() - started;
    expect(d).toMatchObject({ ok: false, status: 503, code: 'STORE_UNAVAILABLE', headers: { 'Retry-After': '1' } });
    expect(took).toBeGreaterThanOrEqual(TIMEOUT - 5);
    expect(took).toBeLessThan(TIMEOUT + 150);
    // kw.keys reads go through the same deadline: a KeywardError without the key or its hash
    const error = await kw.keys.get(record.id).catch((e: unknown) => e);
    expect(isKeywardError(error, 'STORE_TIMEOUT')).toBe(true);
    expect((error as Error).message).toBe(`the key store did not answer within ${TIMEOUT} ms`);

    store.stall = 'no';
    expect((await kw.check(request(key))).ok).toBe(true);
    await kw.close();
  });

  it('an answer within the deadline is used; a late one is dropped, and the next request is fine', async () => {
    const store = new StallingStore();
    const kw = createKeyward({ store, storeTimeout: `${TIMEOUT}ms`, cache: false });
    const { key } = await kw.keys.create({ owner: 'acme' });
    store.stall = 20;
    expect((await kw.check(request(key))).ok).toBe(true);
    store.stall = TIMEOUT + 50;
    expect(await kw.check(request(key))).toMatchObject({ ok: false, code: 'STORE_UNAVAILABLE' });
    await new Promise((r) => setTimeout(r, 100)); // the late answer arrives and goes nowhere
    store.stall = 'no';
    expect((await kw.check(request(key))).ok).toBe(true);
    await kw.close();
  });

  it('passes failures, writes and encryptsAtRest through; leaves an in-memory store unwrapped', async () => {
    const store = new StallingStore();
    const kw = createKeyward({ store });
    expect(kw.config.store).toBeInstanceOf(DeadlineKeyStore);
    expect((kw.config.store as DeadlineKeyStore).inner).toBe(store);
    expect((kw.config.store as DeadlineKeyStore).timeoutMs).toBe(500); // the default
    expect((kw.config.store as { encryptsAtRest?: boolean }).encryptsAtRest).toBe(false);
    store.encryptsAtRest = true;
    expect((kw.config.store as { encryptsAtRest?: boolean }).encryptsAtRest).toBe(true);
    const { record } = await kw.keys.create({ owner: 'acme' });
    expect(await store.get(record.id)).toMatchObject({ id: record.id });
    const failing: KeyStore = Object.assign(new MemoryKeyStore(), { findByHash: () => Promise.reject(new Error('down')) });
    await expect(new DeadlineKeyStore(failing, 50).findByHash('x')).rejects.toThrow('down');
    const throwing: KeyStore = Object.assign(new MemoryKeyStore(), { get: () => { throw new Error('sync'); } });
    await expect(new DeadlineKeyStore(throwing, 50).get('x')).rejects.toThrow('sync');
    await kw.close();

    const memory = new MemoryKeyStore();
    expect(createKeyward({ store: memory }).config.store).toBe(memory);
    expect(createKeyward({}).config.store).toBeInstanceOf(MemoryKeyStore);
  });

  it('a failing store is STORE_FAILURE with the client\'s message; what the client attached to its error is not kept', async () => {
    const hash = 'ab'.repeat(32);
    const clientError = () => Object.assign(new Error('OOM command not allowed'), { name: 'ReplyError', code: 'OOM', command: { name: 'evalsha', args: [`k:${hash}`, hash] } });
    const broken: KeyStore = Object.assign(new MemoryKeyStore(), {
      create: () => Promise.reject(clientError()),
      findByHash: () => Promise.reject(clientError()),
      update: () => { throw clientError(); },
    });
    const store = new DeadlineKeyStore(broken, 50);
    for (const call of [() => store.create({} as KeyRecord), () => store.findByHash(hash), () => store.update('id', {})]) {
      const error = await call().catch((e: unknown) => e);
      expect(isKeywardError(error, 'STORE_FAILURE')).toBe(true);
      expect((error as Error).message).toBe('the key store failed: OOM command not allowed');
      expect((error as Error).cause).toMatchObject({ name: 'ReplyError', message: 'OOM command not allowed', code: 'OOM' });
      expect(JSON.stringify(Object.entries((error as Error).cause as object))).not.toContain(hash);
    }
    // a conflict, a timeout or an argument the store refused is not a store failure: passed as it is
    const conflict = Object.assign(new MemoryKeyStore(), { delete: () => Promise.reject(new TypeError('keyward: bad id')) });
    await expect(new DeadlineKeyStore(conflict, 50).delete('x')).rejects.toThrow(new TypeError('keyward: bad id'));
  });

  it.each([['0ms'], ['soon'], [-1], ['2m']])('refuses storeTimeout %p, naming the option', (storeTimeout) => {
    expect(() => createKeyward({ storeTimeout })).toThrow(TypeError);
    expect(() => createKeyward({ storeTimeout })).toThrow('"storeTimeout"');
  });
});
