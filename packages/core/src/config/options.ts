import type { KeyStore } from '../stores/key-store';
import type { InvalidationChannel } from '../stores/invalidation';
import type { Clock } from '../util/clock';
import type { FeatureOptions } from '../features/options';

/**
 * Options of {@link createKeyward}. Every field is optional; the defaults are safe. A mistake throws a `TypeError`
 * at start-up that names the option.
 */
export interface KeywardOptions extends FeatureOptions {
  /** Where keys live. Default: a new in-memory store. */
  store?: KeyStore;
  /**
   * Longest a key-store read may take (`findByHash`, `get`: a key's look-up on a cache miss, the key of an exchanged
   * token, and `kw.keys` reads), whatever the store's client does; past it the request gets 503 `STORE_UNAVAILABLE`
   * with `Retry-After` (and `kw.keys` rejects with `STORE_TIMEOUT`). Default `'500ms'`, from 1 ms to `'1m'`. Not
   * applied to a `MemoryKeyStore` (a subclass is wrapped too), which answers at once.
   */
  storeTimeout?: number | string;
  /** Key prefix, lower-case letters and digits starting with a letter (default `kw`). */
  prefix?: string;
  /** Environment label for new keys (default `live`). */
  env?: string;
  /** Random bits per key, 128–512 (default 192). */
  randomBits?: number;
  /**
   * HMAC pepper for key hashes. Default: `KEYWARD_PEPPER`, or the file named by `KEYWARD_PEPPER_FILE`; without one,
   * keys are stored as SHA-256. Under 32 bytes warns. To change it, give `{ current, previous: [old] }` (or set
   * `KEYWARD_PEPPER_PREVIOUS`, comma-separated): new keys are hashed with `current`, and keys stored under a previous
   * pepper still authenticate, each reported once per instance by a `key.expiring` event with reason
   * `PREVIOUS_PEPPER` (and one process warning) until it is rotated; then drop the old pepper.
   *
   * @example
   * ```ts
   * createKeyward({ pepper: { current: process.env.NEW_PEPPER!, previous: [process.env.OLD_PEPPER!] } });
   * ```
   */
  pepper?: string | { current: string; previous?: readonly string[] };
  /** API key header name (default `x-api-key`); `false` to accept keys only in `Authorization`. */
  header?: string | false;
  /** Accept `Authorization: Bearer <key or token>` (default true). */
  bearer?: boolean;
  /** Further `Authorization` schemes that carry a key, e.g. `['ApiKey']`. */
  schemes?: readonly string[];
  /** Query parameter that may carry a key, e.g. `'api_key'`. Off by default; enabling it warns once. */
  queryParam?: string | false;
  /** Longest credential accepted, in characters (default 8192). */
  maxCredentialLength?: number;
  /** Realm in `WWW-Authenticate` (default `keyward`). */
  realm?: string;
  /**
   * Cache of key look-ups in front of the store: entries at most (default 10,000) and how long one may live
   * (default 5 s) — the bound on how long a change made on another instance without invalidation can go unseen.
   * `false` disables it.
   */
  cache?: { max?: number; ttl?: number | string } | false;
  /** Paths that need no credential: exact (`/health`), prefix (`/docs/*`) or RegExp. */
  publicPaths?: readonly (string | RegExp)[];
  /** Let CORS preflight requests (OPTIONS with `Origin` and `Access-Control-Request-Method`) through (default true). */
  skipPreflight?: boolean;
  /** The clock (default `Date.now`). Inject one in tests. */
  clock?: Clock;
  /** Header carrying a request id to correlate events (default `x-request-id`; `false` always generates one). */
  requestIdHeader?: string | false;
  /** Record `lastUsedAt` at most this often per key (default `'1m'`; `false` never). */
  trackLastUsed?: number | string | false;
  /** Cross-instance cache invalidation (the Redis package provides one). */
  invalidation?: InvalidationChannel;
  /** Called when an event listener throws (default: a process warning). */
  onListenerError?: (error: unknown) => void;
  /** Environment to read secrets from (default `process.env`). */
  environment?: NodeJS.ProcessEnv;
}
