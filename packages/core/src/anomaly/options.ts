import { parseDuration } from '../util/duration';
import { fieldsOf, refuseUnknownFields } from '../config/fields';

/** The kinds of anomaly detected per key. */
export type AnomalyKind = 'NEW_ADDRESS' | 'NEW_COUNTRY' | 'RATE_SPIKE' | 'ERROR_BURST' | 'AUTH_FAILURE_BURST' | 'BYTES_SPIKE' | 'MANY_ADDRESSES';

/** Every anomaly kind. */
export const ANOMALY_KINDS: readonly AnomalyKind[] = ['NEW_ADDRESS', 'NEW_COUNTRY', 'RATE_SPIKE', 'ERROR_BURST', 'AUTH_FAILURE_BURST', 'BYTES_SPIKE', 'MANY_ADDRESSES'];

/** Resolves a client address to an ISO 3166-1 alpha-2 country code (e.g. from `@keyward/geo`). */
export type CountryLookup = (address: string) => string | undefined | null;

/**
 * Options of per-key anomaly detection (`anomalies: true` or an object). A key is judged only after its warm-up:
 * it has been in use for `warmup` and made `warmupRequests` requests. Rates are per clock minute; baselines are an
 * exponentially weighted mean over the key's active minutes.
 */
export interface AnomalyOptions {
  /** How long a key must be in use before it is judged (default `'1h'`). */
  warmup?: number | string;
  /** Requests a key must have made before it is judged (default 100). */
  warmupRequests?: number;
  /** `RATE_SPIKE`: requests in a minute at least this many times the baseline (default 10)… */
  rateFactor?: number;
  /** …and at least this many (default 100). */
  minRate?: number;
  /** `BYTES_SPIKE`: response bytes in a minute at least this many times the baseline (default 10)… */
  bytesFactor?: number;
  /** …and at least this many (default 10 MB). */
  minBytes?: number;
  /** `ERROR_BURST`: 4xx/5xx responses in a minute (default 50)… */
  errorBurst?: number;
  /** …making at least this share of the minute's requests (default 0.5). */
  errorRatio?: number;
  /**
   * `AUTH_FAILURE_BURST`: authentication failures naming the key in a minute (default 10): refusals for the key's own
   * status, and of its verified tokens as revoked or expired (a token's own, for `token:<sub>`).
   */
  authFailureBurst?: number;
  /** `MANY_ADDRESSES`: distinct client addresses in a minute, at least (default 20; and `rateFactor` × baseline). */
  maxAddresses?: number;
  /**
   * Distinct client addresses counted per key and minute, at most (default 256, or `maxAddresses` when larger; at
   * most 4096): the memory bound of the minute's count, whatever the traffic. A minute that fills it is reported as
   * `MANY_ADDRESSES` (the threshold never exceeds it), with `capped: true` in the evidence when more addresses came.
   */
  maxMinuteAddresses?: number;
  /** The same kind is reported for the same key at most once per this (default `'15m'`). */
  cooldown?: number | string;
  /** Kinds to detect (default all). A list in `suspend` must name detected kinds only. */
  detect?: readonly AnomalyKind[];
  /**
   * Disable the key automatically (with `keys.disable` and a `key.suspended` event) on any anomaly (`true`) or on
   * these kinds. Default `false`. A token exchanged for a key counts as its key (the key is suspended, which stops its
   * tokens); any other token is never suspended (revoke its `jti` instead). No key is suspended on the evidence of a
   * request refused for the key's own status (disabled, revoked, expired): such an anomaly is reported only, so
   * `AUTH_FAILURE_BURST`, whose failures are all such refusals, never suspends.
   */
  suspend?: boolean | readonly AnomalyKind[];
  /**
   * Country of an address, for `NEW_COUNTRY` (an event's own `country` wins: the one a trusted proxy's `countryHeader`
   * gave the request, which the country rules decide with too).
   */
  countryLookup?: CountryLookup;
  /** Most keys tracked (default 2000, at most 1,000,000; the least recently active is dropped). */
  maxKeys?: number;
  /** Addresses remembered per key (default 256, at most 4096; least recently seen dropped). */
  maxKnownAddresses?: number;
}

/** Parsed anomaly options. */
export interface AnomalyConfig {
  readonly warmupMs: number;
  readonly warmupRequests: number;
  readonly rateFactor: number;
  readonly minRate: number;
  readonly bytesFactor: number;
  readonly minBytes: number;
  readonly errorBurst: number;
  readonly errorRatio: number;
  readonly authFailureBurst: number;
  readonly maxAddresses: number;
  readonly maxMinuteAddresses: number;
  readonly cooldownMs: number;
  readonly detect: ReadonlySet<AnomalyKind>;
  readonly suspend: ReadonlySet<AnomalyKind>;
  readonly countryLookup: CountryLookup | undefined;
  readonly maxKeys: number;
  readonly maxKnownAddresses: number;
}

/** The largest per-key address bound (`maxMinuteAddresses`, `maxKnownAddresses`, and so `maxAddresses`). */
export const MAX_ADDRESS_BOUND = 4096;

/** The most keys tracked (`maxKeys`): as `metrics.maxKeys`; at about 21 KB a key, some 21 GB at most. */
export const MAX_TRACKED_KEYS = 1_000_000;

function num(value: unknown, name: string, min: number, fallback: number, integer = true): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new TypeError(`keyward: option "anomalies.${name}" must be ${integer ? 'an integer' : 'a number'} of at least ${min}`);
  }
  return value;
}

/** A memory bound: an integer from `min` to `max` ({@link MAX_ADDRESS_BOUND} for an address bound). */
function bound(value: unknown, name: string, min: number, fallback: number, max = MAX_ADDRESS_BOUND): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`keyward: option "anomalies.${name}" must be an integer from ${min} to ${max}`);
  }
  return value;
}

function kinds(value: unknown, name: string): Set<AnomalyKind> {
  if (!Array.isArray(value) || !value.every((k) => ANOMALY_KINDS.includes(k as AnomalyKind))) {
    throw new TypeError(`keyward: option "anomalies.${name}" must be a list of ${ANOMALY_KINDS.join(', ')}`);
  }
  return new Set(value as AnomalyKind[]);
}

const ANOMALY_FIELDS = fieldsOf<AnomalyOptions>({
  warmup: true, warmupRequests: true, rateFactor: true, minRate: true, bytesFactor: true, minBytes: true, errorBurst: true, errorRatio: true,
  authFailureBurst: true, maxAddresses: true, maxMinuteAddresses: true, cooldown: true, detect: true, suspend: true, countryLookup: true,
  maxKeys: true, maxKnownAddresses: true,
});

/** Parses `anomalies` options once; throws a `TypeError` naming the option. */
export function parseAnomalyOptions(options: AnomalyOptions | true, fallbackLookup?: CountryLookup): AnomalyConfig {
  const o: AnomalyOptions = options === true ? {} : options;
  if (typeof o !== 'object' || o === null) throw new TypeError('keyward: option "anomalies" must be true or an object');
  refuseUnknownFields(o, ANOMALY_FIELDS, 'anomalies');
  if (o.countryLookup !== undefined && typeof o.countryLookup !== 'function') throw new TypeError('keyward: option "anomalies.countryLookup" must be a function');
  const suspend = o.suspend === undefined || o.suspend === false ? new Set<AnomalyKind>() : o.suspend === true ? new Set(ANOMALY_KINDS) : kinds(o.suspend, 'suspend');
  const errorRatio = num(o.errorRatio, 'errorRatio', 0, 0.5, false);
  if (errorRatio > 1) throw new TypeError('keyward: option "anomalies.errorRatio" must be a number from 0 to 1');
  const maxAddresses = bound(o.maxAddresses, 'maxAddresses', 2, 20);
  const maxMinuteAddresses = bound(o.maxMinuteAddresses, 'maxMinuteAddresses', 2, Math.max(256, maxAddresses));
  if (maxAddresses > maxMinuteAddresses) throw new TypeError('keyward: option "anomalies.maxAddresses" must be at most "anomalies.maxMinuteAddresses"');
  const detect = o.detect === undefined ? new Set(ANOMALY_KINDS) : kinds(o.detect, 'detect');
  // A kind suspended on but not detected would never suspend: a security setting silently doing nothing.
  const undetected = o.suspend === true ? undefined : [...suspend].find((k) => !detect.has(k));
  if (undetected !== undefined) throw new TypeError(`keyward: option "anomalies.suspend" names ${undetected}, which "anomalies.detect" leaves out`);
  return {
    warmupMs: parseDuration(o.warmup ?? '1h', 'anomalies.warmup'),
    warmupRequests: num(o.warmupRequests, 'warmupRequests', 0, 100),
    rateFactor: num(o.rateFactor, 'rateFactor', 1, 10, false),
    minRate: num(o.minRate, 'minRate', 1, 100),
    bytesFactor: num(o.bytesFactor, 'bytesFactor', 1, 10, false),
    minBytes: num(o.minBytes, 'minBytes', 1, 10 * 1024 * 1024),
    errorBurst: num(o.errorBurst, 'errorBurst', 1, 50),
    errorRatio,
    authFailureBurst: num(o.authFailureBurst, 'authFailureBurst', 1, 10),
    maxAddresses,
    maxMinuteAddresses,
    cooldownMs: parseDuration(o.cooldown ?? '15m', 'anomalies.cooldown'),
    detect,
    suspend,
    countryLookup: o.countryLookup ?? fallbackLookup,
    maxKeys: bound(o.maxKeys, 'maxKeys', 1, 2000, MAX_TRACKED_KEYS),
    maxKnownAddresses: bound(o.maxKnownAddresses, 'maxKnownAddresses', 1, 256),
  };
}

/** What anomaly detection adds to keyward's options. */
export interface AnomalyFeatureOptions {
  /** Per-key anomaly detection: `true` or {@link AnomalyOptions}. Off by default. */
  anomalies?: boolean | AnomalyOptions;
}
