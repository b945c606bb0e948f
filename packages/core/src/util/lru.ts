import { inspect } from 'node:util';
/**
 * A bounded cache with a per-entry time to live. Despite the name, not an LRU: reads do not refresh an entry, so
 * when it is full the oldest-inserted (or longest-ago re-set) entry is evicted first, whether or not it was read
 * recently. Entries also expire with their TTL. Reads stay one `Map` lookup on the hot request path; with short TTLs,
 * the eviction order matters only when more than `max` entries are live at once. Memory is bounded by `max`
 * whatever the traffic.
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, { value: V; expires: number }>();

  /** What `console.log(kw)` and `util.inspect` show: the size, never the entries (key records, looked up by hash). */
  [inspect.custom](): string {
    return `LruCache { entries: ${this.map.size}, max: ${this.max} }`;
  }

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** The value, if present and not expired. Does not change the entry's place in the eviction order. */
  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    // No reordering on the hot path: eviction stays oldest-inserted first (entries live at most their TTL anyway).
    return e.value;
  }

  /**
   * Stores a value (a re-set entry moves to the newest place); `ttlMs` may shorten (never lengthen) the default time
   * to live. When more than `max` entries are held, the oldest-inserted are evicted.
   */
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
