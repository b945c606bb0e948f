/**
 * A key change that every instance must hear about: the key's id, which is all a receiver needs (caches find their
 * entries by id). keyward never sends a key's hash between instances.
 */
export interface KeyChange {
  readonly id: string;
  /**
   * @deprecated Never sent by keyward (a hash broadcast on a channel is a hash exposed to every subscriber) and never
   * read: receivers drop a cached record by `id`. Kept so that channels written against the old shape still compile.
   */
  readonly hash?: string;
}

/**
 * Carries key changes between instances so each drops its cache entry (the Redis package implements it with
 * pub/sub). `subscribe`'s `reset` callback is called when the channel reconnected after missing messages: the
 * instance then drops its whole cache.
 */
export interface InvalidationChannel {
  publish(change: KeyChange): Promise<void>;
  subscribe(onChange: (change: KeyChange) => void, onReset: () => void): Promise<() => void>;
}
