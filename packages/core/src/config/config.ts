import type { KeywardOptions } from './options';
import { MemoryKeyStore } from '../stores/memory-key-store';
import { DeadlineKeyStore } from '../stores/deadline-key-store';
import type { KeyStore } from '../stores/key-store';
import { systemClock, type Clock } from '../util/clock';
import { parseDuration } from '../util/duration';
import { readSecret } from '../util/secret';
import { warnOnce } from '../util/warn';
import { PREFIX_RE, isValidEnv } from '../keys/format';
import { statelessRegExp } from '../util/regexp';
import type { ExtractionConfig } from '../credentials/extract';
import { fieldsOf, refuseUnknownFields } from './fields';
import { warnMisspeltEnvironment } from './environment';

/** The options after parsing: every default filled in, every value checked. Internal. */
export interface KeywardConfig {
  /** The `store` option behind a {@link DeadlineKeyStore} of `storeTimeout` (an in-memory store as it is). */
  readonly store: KeyStore;
  /** `storeTimeout`: how long a read of a remote store on the request path may take (key look-ups, token revocation checks), in ms. */
  readonly storeTimeoutMs: number;
  readonly prefix: string;
  readonly env: string;
  readonly randomBits: number;
  /** Not enumerable: never written out with the config or the instance (`util.inspect`, `JSON.stringify`, a spread). */
  readonly pepper: string | undefined;
  /** Peppers keys may still be stored under (`pepper.previous`, `KEYWARD_PEPPER_PREVIOUS`), newest first. Not enumerable, as `pepper`. */
  readonly previousPeppers: readonly string[];
  readonly extraction: ExtractionConfig;
  readonly realm: string;
  /**
   * The schemes a `WWW-Authenticate` challenge names (RFC 9110 §11.6.1): the `Authorization` schemes accepted, as
   * configured (`Bearer` first); `ApiKey` when none is (a key only in the `header` or the query).
   */
  readonly challengeSchemes: readonly string[];
  readonly cache: { readonly max: number; readonly ttlMs: number };
  readonly publicPaths: readonly ((path: string) => boolean)[];
  readonly skipPreflight: boolean;
  readonly clock: Clock;
  readonly requestIdHeader: string | false;
  readonly trackLastUsedMs: number | false;
}

const HEADER_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Every top-level option of `createKeyward`: one that is not here is refused, so a misspelt one cannot silently leave
 * a default in force. Adapters add their mount options (`keyward`, `scopes`, `cost`) to it.
 */
export const OPTIONS = fieldsOf<KeywardOptions>({
  store: true, storeTimeout: true, prefix: true, env: true, randomBits: true, pepper: true, header: true, bearer: true, schemes: true,
  queryParam: true, maxCredentialLength: true, realm: true, cache: true, publicPaths: true, skipPreflight: true, clock: true,
  requestIdHeader: true, trackLastUsed: true, invalidation: true, onListenerError: true, environment: true,
  keyPolicy: true, legacyKeys: true, metrics: true, anomalies: true, limits: true, authFailures: true, loadShedding: true,
  trustProxy: true, proxyHeader: true, restrictions: true, countryLookup: true, countryHeader: true, restrictionsClaim: true,
  tokens: true,
});
const CACHE_FIELDS = fieldsOf<Exclude<KeywardOptions['cache'], false | undefined>>({ max: true, ttl: true });

function bool(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`keyward: option "${name}" must be a boolean`);
  return value;
}

/** Checks that an injected object has its interface's methods, naming the option and the first one missing. */
function requireMethods(value: unknown, option: string, name: string, methods: readonly string[]): void {
  const o = value as Record<string, unknown> | null;
  for (const m of methods) {
    if (typeof o?.[m] !== 'function') throw new TypeError(`keyward: option "${option}" must implement ${name} (missing ${m}())`);
  }
}

function pathMatcher(p: unknown, i: number): (path: string) => boolean {
  if (p instanceof RegExp) {
    // A copy without `g`/`y`: the caller's RegExp keeps its lastIndex, and every request gets the same answer.
    const re = statelessRegExp(p);
    return (path) => re.test(path);
  }
  if (typeof p !== 'string' || !p.startsWith('/')) throw new TypeError(`keyward: option "publicPaths[${i}]" must be a path starting with "/" or a RegExp`);
  // `/public*` or `/v1/*/docs` would be taken as the literal path and leave the routes meant by it protected, or
  // (worse, for a deny-list habit) suggest a wildcard keyward does not have: only a trailing `/*` is one.
  if (p.slice(0, p.endsWith('/*') ? -2 : undefined).includes('*')) throw new TypeError(`keyward: option "publicPaths[${i}]" may end in "/*" (the path and everything below it) but has no other wildcard; use a RegExp`);
  if (p.endsWith('/*')) {
    const base = p.slice(0, -2);
    return (path) => path === base || path.startsWith(base + '/');
  }
  return (path) => path === p;
}

const PEPPER_FIELDS = fieldsOf<Exclude<KeywardOptions['pepper'], string | undefined>>({ current: true, previous: true });

/**
 * The `pepper` option: a string, or `{ current, previous }` while keys stored under older peppers are rotated. Without
 * it, `KEYWARD_PEPPER` (or `KEYWARD_PEPPER_FILE`) and `KEYWARD_PEPPER_PREVIOUS` (or its `_FILE`; comma- or
 * newline-separated). Never shows a pepper in a message.
 */
function parsePepper(option: KeywardOptions['pepper'], env: NodeJS.ProcessEnv): { pepper: string | undefined; previousPeppers: string[] } {
  let pepper: string | undefined;
  let previous: string[];
  let previousName: string;
  if (typeof option === 'object' && option !== null) {
    refuseUnknownFields(option, PEPPER_FIELDS, 'pepper');
    pepper = readSecret(option.current, 'KEYWARD_PEPPER', 'pepper.current', {});
    if (pepper === undefined) throw new TypeError('keyward: option "pepper.current" must be a non-empty string');
    const list: unknown = option.previous ?? [];
    if (!Array.isArray(list) || list.some((p) => typeof p !== 'string' || p.length === 0)) throw new TypeError('keyward: option "pepper.previous" must be an array of non-empty strings');
    previous = list as string[];
    previousName = 'option "pepper.previous"';
  } else {
    pepper = readSecret(option, 'KEYWARD_PEPPER', 'pepper', env);
    const text = readSecret(undefined, 'KEYWARD_PEPPER_PREVIOUS', 'pepper.previous', env);
    previous = text === undefined ? [] : text.split(/\r?\n|,/).filter((p) => p.length > 0);
    previousName = 'KEYWARD_PEPPER_PREVIOUS';
  }
  if (previous.length > 0 && pepper === undefined) {
    throw new TypeError(`keyward: ${previousName} needs a current pepper too ("pepper.current", or KEYWARD_PEPPER): new keys are hashed with it`);
  }
  if (pepper !== undefined && Buffer.byteLength(pepper) < 32) {
    warnOnce('KEYWARD_SHORT_PEPPER', 'keyward: the key-hashing pepper is shorter than 32 bytes; generate one with `keyward secret`.');
  }
  return { pepper, previousPeppers: [...new Set(previous)].filter((p) => p !== pepper) };
}

/**
 * Parses {@link KeywardOptions} once into a fully defaulted config. Never mutates the input.
 *
 * @throws TypeError naming the option for every mistake
 */
export function parseOptions(options: KeywardOptions = {}): KeywardConfig {
  if (typeof options !== 'object' || options === null) throw new TypeError('keyward: options must be an object');
  refuseUnknownFields(options, OPTIONS);
  // `null` is no option's value: `?? default` would quietly take it for "left out" (`clock: null`, the system clock;
  // `restrictions: null`, no policy), so a value that failed to load is refused by name instead.
  for (const [name, value] of Object.entries(options)) {
    if (value === null) throw new TypeError(`keyward: option "${name}" must not be null; leave it out for its default`);
  }
  const env = options.environment ?? process.env;
  if (typeof env !== 'object' || env === null) throw new TypeError('keyward: option "environment" must be an object of environment variables, like process.env');
  // Called when a listener throws, from the event queue: a value that is not a function would throw there instead.
  if (options.onListenerError !== undefined && typeof options.onListenerError !== 'function') throw new TypeError('keyward: option "onListenerError" must be a function');

  const prefix = options.prefix ?? 'kw';
  if (typeof prefix !== 'string' || !PREFIX_RE.test(prefix)) throw new TypeError('keyward: option "prefix" must be 1–16 lower-case letters or digits, starting with a letter');
  const defaultEnv = options.env ?? 'live';
  if (typeof defaultEnv !== 'string' || !isValidEnv(defaultEnv)) throw new TypeError('keyward: option "env" must be 1–16 lower-case letters or digits');
  const randomBits = options.randomBits ?? 192;
  if (!Number.isInteger(randomBits) || randomBits < 128 || randomBits > 512) throw new TypeError('keyward: option "randomBits" must be an integer from 128 to 512');

  const { pepper, previousPeppers } = parsePepper(options.pepper, env);

  let header: string | false = 'x-api-key';
  if (options.header !== undefined) {
    if (options.header === false) header = false;
    else if (typeof options.header === 'string' && HEADER_RE.test(options.header)) header = options.header.toLowerCase();
    else throw new TypeError('keyward: option "header" must be a header name or false');
  }
  if (header === 'authorization') throw new TypeError('keyward: option "header" cannot be "authorization"; use "bearer" or "schemes"');
  const schemes: string[] = [];
  const challengeSchemes: string[] = [];
  if (bool(options.bearer, 'bearer', true)) {
    schemes.push('bearer');
    challengeSchemes.push('Bearer');
  }
  if (options.schemes !== undefined) {
    if (!Array.isArray(options.schemes)) throw new TypeError('keyward: option "schemes" must be an array of scheme names');
    options.schemes.forEach((s: unknown, i: number) => {
      if (typeof s !== 'string' || !HEADER_RE.test(s)) throw new TypeError(`keyward: option "schemes[${i}]" must be a scheme name`);
      if (!schemes.includes(s.toLowerCase())) {
        schemes.push(s.toLowerCase());
        challengeSchemes.push(s);
      }
    });
  }
  if (challengeSchemes.length === 0) challengeSchemes.push('ApiKey');
  let queryParam: string | false = false;
  if (options.queryParam !== undefined && options.queryParam !== false) {
    if (typeof options.queryParam !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(options.queryParam)) throw new TypeError('keyward: option "queryParam" must be a parameter name or false');
    queryParam = options.queryParam;
    warnOnce('KEYWARD_QUERY_CREDENTIALS', 'keyward: credentials in the query string end up in access logs, proxies and browser history; prefer a header.');
  }
  if (header === false && schemes.length === 0 && queryParam === false) throw new TypeError('keyward: options "header", "bearer", "schemes" and "queryParam" leave no way to send a credential');
  const maxLength = options.maxCredentialLength ?? 8192;
  if (!Number.isInteger(maxLength) || maxLength < 32 || maxLength > 65536) throw new TypeError('keyward: option "maxCredentialLength" must be an integer from 32 to 65536');

  const realm = options.realm ?? 'keyward';
  if (typeof realm !== 'string' || /["\\\r\n]/.test(realm)) throw new TypeError('keyward: option "realm" must be a string without quotes or line breaks');

  let cache = { max: 10_000, ttlMs: 5_000 };
  if (options.cache === false) cache = { max: 0, ttlMs: 0 };
  else if (options.cache !== undefined) {
    if (typeof options.cache !== 'object' || options.cache === null) throw new TypeError('keyward: option "cache" must be an object or false');
    refuseUnknownFields(options.cache, CACHE_FIELDS, 'cache');
    const max = options.cache.max ?? 10_000;
    if (!Number.isInteger(max) || max < 0) throw new TypeError('keyward: option "cache.max" must be a non-negative integer');
    cache = { max, ttlMs: options.cache.ttl === undefined ? 5_000 : parseDuration(options.cache.ttl, 'cache.ttl') };
  }

  if (options.publicPaths !== undefined && !Array.isArray(options.publicPaths)) throw new TypeError('keyward: option "publicPaths" must be an array');
  const publicPaths = (options.publicPaths ?? []).map(pathMatcher);

  const clock = options.clock ?? systemClock;
  if (typeof clock !== 'function') throw new TypeError('keyward: option "clock" must be a function returning ms since the epoch');

  let requestIdHeader: string | false = 'x-request-id';
  if (options.requestIdHeader !== undefined) {
    if (options.requestIdHeader === false) requestIdHeader = false;
    else if (typeof options.requestIdHeader === 'string' && HEADER_RE.test(options.requestIdHeader)) requestIdHeader = options.requestIdHeader.toLowerCase();
    else throw new TypeError('keyward: option "requestIdHeader" must be a header name or false');
  }

  const trackLastUsedMs = options.trackLastUsed === false ? false : parseDuration(options.trackLastUsed ?? 60_000, 'trackLastUsed');

  if (options.store !== undefined) requireMethods(options.store, 'store', 'KeyStore', ['create', 'get', 'findByHash', 'list', 'update', 'delete']);
  const storeTimeoutMs = parseDuration(options.storeTimeout ?? 500, 'storeTimeout');
  if (storeTimeoutMs < 1 || storeTimeoutMs > 60_000) throw new TypeError('keyward: option "storeTimeout" must be from 1 ms to 1 minute');
  // Reads of any other store get a deadline of keyward's own; the in-memory store (not a subclass) answers at once.
  const store = options.store === undefined ? new MemoryKeyStore() : options.store.constructor === MemoryKeyStore ? options.store : new DeadlineKeyStore(options.store, storeTimeoutMs);
  // Without publish() and subscribe(), a revocation made here would silently never reach the other instances.
  if (options.invalidation !== undefined) requireMethods(options.invalidation, 'invalidation', 'InvalidationChannel', ['publish', 'subscribe']);
  warnMisspeltEnvironment(env, options.tokens);

  const config: Omit<KeywardConfig, 'pepper' | 'previousPeppers'> = {
    store,
    storeTimeoutMs,
    prefix,
    env: defaultEnv,
    randomBits,
    extraction: { header, schemes, queryParam, maxLength },
    realm,
    challengeSchemes,
    cache,
    publicPaths,
    skipPreflight: bool(options.skipPreflight, 'skipPreflight', true),
    clock,
    requestIdHeader,
    trackLastUsedMs,
  };
  // The pepper is a secret and `kw.config` is public: as a field it was written out by `console.log(kw)`,
  // `JSON.stringify(kw.config)` or a logger handed the instance. A getter that is not enumerable is skipped by all three.
  Object.defineProperty(config, 'pepper', { get: () => pepper, enumerable: false });
  Object.defineProperty(config, 'previousPeppers', { get: () => previousPeppers, enumerable: false });
  return config as KeywardConfig;
}
