/**
 * A bounded map with a per-entry time to live, evicting the oldest insertion first (entries are short-lived, so
 * this approximates LRU without reordering on every read). Memory is bounded by `max` whatever the traffic.
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, { value: V; expires: number }>();

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** The value, if present and not expired; refreshes its recency. */
  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    // Entries live at most their TTL, so insertion order is close enough to recency: no reordering on the hot path.
    return e.value;
  }

  /** Stores a value; `ttlMs` may shorten (never lengthen) the default time to live. */
  set(key: K, value: V, ttlMs: number = this.ttlMs): void {
    if (this.max <= 0) return;
    this.map.delete(key);
    this.map.set(key, { value, expires: this.now() + Math.min(ttlMs, this.ttlMs) });
    while (this.map.size > this.max) {
      const oldest = this.map.keys().next().value as K;
      this.map.delete(oldest);
    }
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  /** Deletes every entry whose value matches. */
  deleteWhere(predicate: (value: V, key: K) => boolean): void {
    for (const [k, e] of this.map) if (predicate(e.value, k)) this.map.delete(k);
  }

  get size(): number {
    return this.map.size;
  }
}
