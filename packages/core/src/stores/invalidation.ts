/** A key change that every instance must hear about. */
export interface KeyChange {
  readonly id: string;
  /** The key's hash (used only as a cache key between instances; never logged). */
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
