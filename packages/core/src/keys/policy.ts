import { parseDuration } from '../util/duration';

/**
 * The key lifecycle policy: how old a key may get, when to warn, when a key counts as idle, and how rotation
 * announces itself. Part of {@link KeyLifecycleOptions}.
 *
 * @example
 * ```ts
 * createKeyward({ keyPolicy: { maxAge: '90d', expiringLead: '7d', idleAfter: '30d', autoExpire: true } });
 * ```
 */
export interface KeyPolicyOptions {
  /** Maximum key age (ms or `'90d'`). Keys near or past it are listed by `keys.dueForRotation()`. Default none. */
  maxAge?: number | string;
  /** How long before expiry (or the maximum age) a key counts as expiring (default `'7d'`). */
  expiringLead?: number | string;
  /** A key unused for this long is reported idle by `keys.sweep()` (`key.idle`). Default: never. */
  idleAfter?: number | string;
  /** Refuse keys older than `maxAge` (`KEY_EXPIRED`) even without their own expiry (default false). */
  autoExpire?: boolean;
  /** Grace period `keys.rotate()` uses when none is given (default `'24h'`). */
  gracePeriod?: number | string;
  /**
   * Page explaining the rotation, sent as `Link: <url>; rel="deprecation"` (RFC 9745) with responses to a key in
   * its grace period. Default none.
   */
  rotationDocs?: string;
}

/** Lifecycle options of {@link createKeyward} (part of `KeywardOptions`). */
export interface KeyLifecycleOptions {
  /** Key age, expiry warnings, idleness and rotation headers. */
  keyPolicy?: KeyPolicyOptions;
  /**
   * Let keys imported with `keys.import()` in another format (UUIDs, base64 strings) authenticate. `true` accepts any
   * credential of 16–512 visible characters that is not shaped like a keyward key; a RegExp accepts only values it
   * matches. Default false: anything that is not a keyward key is refused before any store lookup.
   */
  legacyKeys?: boolean | RegExp;
}

/** The parsed policy. Internal. */
export interface KeyPolicy {
  readonly maxAgeMs: number | undefined;
  readonly expiringLeadMs: number;
  readonly idleAfterMs: number | undefined;
  readonly autoExpire: boolean;
  readonly gracePeriodMs: number;
  /** The ready `Link` header value, when `rotationDocs` is set. */
  readonly deprecationLink: string | undefined;
  /** Decides whether a credential that is not a keyward key may be looked up as a legacy key. */
  readonly legacy: ((value: string) => boolean) | undefined;
}

/** The policy when nothing is configured. */
export const DEFAULT_KEY_POLICY: KeyPolicy = {
  maxAgeMs: undefined,
  expiringLeadMs: 7 * 86_400_000,
  idleAfterMs: undefined,
  autoExpire: false,
  gracePeriodMs: 86_400_000,
  deprecationLink: undefined,
  legacy: undefined,
};

const positive = (value: unknown, name: string): number => {
  const ms = parseDuration(value, name);
  if (ms <= 0) throw new TypeError(`keyward: option "${name}" must be a positive duration`);
  return ms;
};

/**
 * Parses the lifecycle options once. `prefix` is the key prefix: values shaped like keyward keys are never treated as
 * legacy keys, so a key with a bad checksum is still refused without a lookup.
 *
 * @throws TypeError naming the option for every mistake
 */
export function parseKeyPolicy(options: KeyLifecycleOptions, prefix: string): KeyPolicy {
  const p = options.keyPolicy;
  if (p !== undefined && (typeof p !== 'object' || p === null || Array.isArray(p))) throw new TypeError('keyward: option "keyPolicy" must be an object');
  const maxAgeMs = p?.maxAge === undefined ? undefined : positive(p.maxAge, 'keyPolicy.maxAge');
  const expiringLeadMs = p?.expiringLead === undefined ? DEFAULT_KEY_POLICY.expiringLeadMs : parseDuration(p.expiringLead, 'keyPolicy.expiringLead');
  const idleAfterMs = p?.idleAfter === undefined ? undefined : positive(p.idleAfter, 'keyPolicy.idleAfter');
  if (p?.autoExpire !== undefined && typeof p.autoExpire !== 'boolean') throw new TypeError('keyward: option "keyPolicy.autoExpire" must be a boolean');
  const autoExpire = p?.autoExpire ?? false;
  if (autoExpire && maxAgeMs === undefined) throw new TypeError('keyward: option "keyPolicy.autoExpire" needs "keyPolicy.maxAge"');
  const gracePeriodMs = p?.gracePeriod === undefined ? DEFAULT_KEY_POLICY.gracePeriodMs : parseDuration(p.gracePeriod, 'keyPolicy.gracePeriod');
  let deprecationLink: string | undefined;
  if (p?.rotationDocs !== undefined) {
    const url = p.rotationDocs;
    let ok = typeof url === 'string' && /^https?:\/\//i.test(url) && !/[\s<>"\x00-\x1f\x7f]/.test(url);
    if (ok) {
      try {
        new URL(url);
      } catch {
        ok = false;
      }
    }
    if (!ok) throw new TypeError('keyward: option "keyPolicy.rotationDocs" must be an absolute http(s) URL');
    deprecationLink = `<${url}>; rel="deprecation"; type="text/html"`;
  }
  return { maxAgeMs, expiringLeadMs, idleAfterMs, autoExpire, gracePeriodMs, deprecationLink, legacy: legacyMatcher(options.legacyKeys, prefix) };
}

function legacyMatcher(option: unknown, prefix: string): ((value: string) => boolean) | undefined {
  if (option === undefined || option === false) return undefined;
  const ours = `${prefix}_`;
  if (option === true) return (v) => v.length >= 16 && v.length <= 512 && !v.startsWith(ours);
  if (option instanceof RegExp) {
    const re = new RegExp(option.source, option.flags.replace(/[gy]/g, ''));
    return (v) => v.length <= 512 && !v.startsWith(ours) && re.test(v);
  }
  throw new TypeError('keyward: option "legacyKeys" must be a boolean or a RegExp');
}

/** The time a key stops working at: its own expiry, or its maximum age when `autoExpire` is on. */
export function effectiveExpiry(record: { readonly createdAt: number; readonly expiresAt?: number }, policy: KeyPolicy): number | undefined {
  if (!policy.autoExpire || policy.maxAgeMs === undefined) return record.expiresAt;
  const byAge = record.createdAt + policy.maxAgeMs;
  return record.expiresAt === undefined ? byAge : Math.min(record.expiresAt, byAge);
}
