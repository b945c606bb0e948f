import { parseDuration } from '../util/duration';
import { statelessRegExp } from '../util/regexp';
import { fieldsOf, optionObject } from '../config/fields';

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
   * Let keys imported with `keys.import()` in another format (UUIDs, base64 strings) authenticate. `true` looks up any
   * credential of 16–512 characters (fewer when `maxCredentialLength` is shorter) that does not start with `<prefix>_`
   * (the instance's key prefix); a RegExp looks up only values of at most that length that it matches and that do not
   * start with `<prefix>_` (its `g` and `y` flags are ignored). Default false: anything that is not a keyward key is
   * refused before any store lookup. `keys.import()` refuses a plaintext legacy key that this rule would never look up
   * (see {@link legacyLookupRefusal}).
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
  /** The `legacyKeys` RegExp (a copy without `g`/`y`) when the option is one: `legacy` then tests values against it. */
  readonly legacyPattern?: RegExp;
  /** The longest legacy key looked up: 512, or `maxCredentialLength` when that is shorter (longer values never arrive). */
  readonly legacyMaxLength?: number;
}

/** The shortest value `legacyKeys: true` looks up. */
export const LEGACY_MIN_LENGTH = 16;
/** The longest value looked up as a legacy key (and imported as one). */
export const LEGACY_MAX_LENGTH = 512;

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

const KEY_POLICY_FIELDS = fieldsOf<KeyPolicyOptions>({ maxAge: true, expiringLead: true, idleAfter: true, autoExpire: true, gracePeriod: true, rotationDocs: true });

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
export function parseKeyPolicy(options: KeyLifecycleOptions, prefix: string, maxCredentialLength: number = LEGACY_MAX_LENGTH): KeyPolicy {
  const p = options.keyPolicy;
  if (p !== undefined) optionObject(p, 'keyPolicy', KEY_POLICY_FIELDS);
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
  return { maxAgeMs, expiringLeadMs, idleAfterMs, autoExpire, gracePeriodMs, deprecationLink, ...legacyRule(options.legacyKeys, prefix, Math.min(LEGACY_MAX_LENGTH, maxCredentialLength)) };
}

function legacyRule(option: unknown, prefix: string, max: number): Pick<KeyPolicy, 'legacy' | 'legacyPattern' | 'legacyMaxLength'> {
  if (option === undefined || option === false) return { legacy: undefined, legacyMaxLength: max };
  const ours = `${prefix}_`;
  if (option === true) return { legacy: (v) => v.length >= LEGACY_MIN_LENGTH && v.length <= max && !v.startsWith(ours), legacyMaxLength: max };
  if (option instanceof RegExp) {
    const re = statelessRegExp(option);
    return { legacy: (v) => v.length <= max && !v.startsWith(ours) && re.test(v), legacyPattern: re, legacyMaxLength: max };
  }
  throw new TypeError('keyward: option "legacyKeys" must be a boolean or a RegExp');
}

/**
 * Why look-up would never find the plaintext `value` as a legacy key on an instance with this policy and key `prefix`,
 * or `undefined` when it can: `keys.import()` refuses such a key rather than store one that can never authenticate.
 * The rule is the look-up's ({@link KeyLifecycleOptions.legacyKeys}): never a value starting with `<prefix>_`, at most
 * 512 characters (or `maxCredentialLength`), and under a `legacyKeys` RegExp only values it matches; under
 * `legacyKeys: true`, and while the option is off (the key authenticates once it is turned on), at least 16
 * characters. The reason never contains `value`.
 */
export function legacyLookupRefusal(value: string, policy: KeyPolicy, prefix: string): string | undefined {
  const ours = `${prefix}_`;
  if (value.startsWith(ours)) return `it starts with "${ours}" but is not a valid key of this deployment (length, characters or checksum), and look-up never takes such a value for a legacy key`;
  const max = policy.legacyMaxLength ?? LEGACY_MAX_LENGTH;
  if (value.length > max) return `it is longer than ${max} characters${max < LEGACY_MAX_LENGTH ? ' ("maxCredentialLength")' : ''}`;
  if (policy.legacyPattern === undefined && value.length < LEGACY_MIN_LENGTH) {
    return `it is shorter than ${LEGACY_MIN_LENGTH} characters (look-up takes legacy keys of ${LEGACY_MIN_LENGTH}–${LEGACY_MAX_LENGTH} characters, or those a "legacyKeys" RegExp matches)`;
  }
  if (policy.legacy !== undefined && !policy.legacy(value)) return 'the "legacyKeys" RegExp of this instance does not match it';
  return undefined;
}

/** The time a key stops working at: its own expiry, or its maximum age when `autoExpire` is on. */
export function effectiveExpiry(record: { readonly createdAt: number; readonly expiresAt?: number }, policy: KeyPolicy): number | undefined {
  if (!policy.autoExpire || policy.maxAgeMs === undefined) return record.expiresAt;
  const byAge = record.createdAt + policy.maxAgeMs;
  return record.expiresAt === undefined ? byAge : Math.min(record.expiresAt, byAge);
}
