import { KeywardError } from '../errors';
import { raceDeadline } from '../util/deadline';
import type { KeyPatch, KeyRecord } from '../keys/record';
import type { KeyStore, Page, PageQuery, UpdateCondition } from './key-store';
import { storeFailure } from './store-failure';

/**
 * A key store whose reads — `findByHash` and `get`, the look-ups of the request path (a key, the key of an exchanged
 * token) — answer within `timeoutMs` or reject with `KeywardError` `STORE_TIMEOUT`, which the pipeline answers with
 * 503 `STORE_UNAVAILABLE` and `Retry-After`. A request then never waits on a store that hangs, whatever the
 * client's own settings (a Redis client with an offline queue or no command timeout, a PostgreSQL pool with no
 * statement timeout). Writes, lists and deletes pass straight through: they are not on the request path, and a write
 * cut short would leave its outcome unknown. A late answer is dropped; a late failure is ignored, never unhandled.
 * Every failure of the inner store reaches the caller as {@link storeFailure} makes it: a `KeywardError`
 * `STORE_FAILURE` that does not carry the client's command (which names a key's hash).
 *
 * `createKeyward` wraps the `store` option in one (option `storeTimeout`), so `kw.config.store` is this wrapper; the
 * store given is {@link DeadlineKeyStore.inner}.
 */
export class DeadlineKeyStore implements KeyStore {
  /**
   * @param inner - the store given to `createKeyward`
   * @param timeoutMs - how long a read may take, in ms (at least 1)
   */
  constructor(
    readonly inner: KeyStore,
    readonly timeoutMs: number,
  ) {}

  /** The inner store's `encryptsAtRest` (recoverable keys need it). */
  get encryptsAtRest(): boolean {
    return (this.inner as { encryptsAtRest?: unknown }).encryptsAtRest === true;
  }

  findByHash(hash: string): Promise<KeyRecord | undefined> {
    return this.deadline(() => this.inner.findByHash(hash));
  }

  get(id: string): Promise<KeyRecord | undefined> {
    return this.deadline(() => this.inner.get(id));
  }

  create(record: KeyRecord): Promise<void> {
    return failing(() => this.inner.create(record));
  }

  list(query: PageQuery): Promise<Page<KeyRecord>> {
    return failing(() => this.inner.list(query));
  }

  update(id: string, patch: KeyPatch, condition?: UpdateCondition): Promise<KeyRecord | undefined> {
    return failing(() => (condition === undefined ? this.inner.update(id, patch) : this.inner.update(id, patch, condition)));
  }

  delete(id: string): Promise<boolean> {
    return failing(() => this.inner.delete(id));
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  /** One read raced against its deadline ({@link raceDeadline}): one promise and one timer (a cache miss on every request goes through here). */
  private deadline(read: () => Promise<KeyRecord | undefined>): Promise<KeyRecord | undefined> {
    return new Promise((resolve, reject) =>
      raceDeadline(read, this.timeoutMs, resolve, (error) => reject(storeFailure(error)), () => reject(new KeywardError('STORE_TIMEOUT', `the key store did not answer within ${this.timeoutMs} ms`))),
    );
  }
}

/** A write, list or delete of the inner store, its failure (a rejection, or a throw) made a {@link storeFailure}. */
async function failing<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw storeFailure(error);
  }
}
