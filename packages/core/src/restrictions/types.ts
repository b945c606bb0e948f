import type { CountryLookup } from '../anomaly/options';

/**
 * IP/CIDR allow and deny lists. Entries are addresses (`203.0.113.7`, `2001:db8::1`), CIDRs (`10.0.0.0/8`,
 * `2001:db8::/32`) or named ranges (`loopback`, `linklocal`, `uniquelocal`, `private`). Deny wins. IPv4 rules match
 * IPv4 clients and IPv4-mapped IPv6 clients (`::ffff:1.2.3.4`), never other IPv6 clients. An unknown client address
 * (see `trustProxy`) is refused whenever either list is set.
 */
export interface IpRestriction {
  /** When set, only these addresses may call. */
  readonly allow?: readonly string[];
  /** These addresses may never call (checked first). */
  readonly deny?: readonly string[];
}

/**
 * Which web origins may use the credential, checked against `Origin`, then `Referer`, both parsed as URLs (so
 * `https://example.com.evil.test`, `https://evil-example.com` and `https://example.com@evil.test` are not
 * `example.com`). A rule is `[scheme://]host[:port]`: `example.com` (that host, http or https, any port),
 * `*.example.com` (any subdomain, at any depth, not `example.com` itself), `https://app.example.com` (that exact
 * origin: https on port 443), `https://app.example.com:8443`. Rules hold no path.
 */
export interface ReferrerRestriction {
  /** Allowed origins. */
  readonly allow: readonly string[];
  /** What to do when neither `Origin` nor `Referer` is sent: `false` (default) refuses, `true` lets it through. */
  readonly allowMissing?: boolean;
}

/**
 * User-agent rules. A pattern without `*` matches anywhere in the user agent (`curl` matches `curl/8.5.0`); a
 * pattern with `*` is a glob over the whole user agent (`Mozilla/5.0 *`). Matching ignores case and runs in linear
 * time; regular expressions are not accepted (they could backtrack catastrophically on a long header), and a pattern
 * written as one (`^curl`, `.*bot.*`, `curl|wget`) is refused rather than read as text that matches nothing.
 */
export interface UserAgentRestriction {
  /** When set, the user agent must match one of these. */
  readonly allow?: readonly string[];
  /** A user agent matching one of these is refused (checked first). */
  readonly deny?: readonly string[];
  /** Refuse the built-in list of common bots, crawlers and scripting clients (`BOT_USER_AGENTS`). */
  readonly denyBots?: boolean;
  /** Refuse requests without a (non-empty) `User-Agent`. */
  readonly require?: boolean;
}

/** A day of the week: `'mon'` … `'sun'` (full names and any case accepted). */
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/**
 * A weekly window, in the local wall time of an IANA time zone (so 09:00 stays 09:00 across daylight-saving
 * changes). `from` is included, `to` is not; `to` may be `24:00`. When `to` is before `from` the window runs
 * overnight and belongs to the day it starts on (`fri 22:00–06:00` covers Saturday 05:59).
 */
export interface TimeWindow {
  /** Days the window starts on. Default: every day. */
  readonly days?: readonly (Weekday | string)[];
  /** Start, `HH:MM` (24-hour). */
  readonly from: string;
  /** End, `HH:MM` (24-hour, `24:00` allowed), exclusive. */
  readonly to: string;
  /** IANA time zone, e.g. `Europe/Berlin`. Default: the restriction's `timeZone`, else `UTC`. */
  readonly timeZone?: string;
}

/** Validity period and weekly windows, evaluated with the server clock (injectable). */
export interface TimeRestriction {
  /**
   * Not valid before this instant (ISO 8601 string or ms since the epoch). A string without `Z` or an offset
   * (`'2026-06-01T09:00'`, `'2026-06-01'`) is a wall time in `timeZone`, never in the server process's zone.
   */
  readonly notBefore?: string | number;
  /** Not valid from this instant on (ISO 8601 string or ms since the epoch; read as `notBefore` is). */
  readonly notAfter?: string | number;
  /** When set, requests must fall inside one of these windows. */
  readonly windows?: readonly TimeWindow[];
  /** Default time zone of the windows, and the zone of `notBefore`/`notAfter` strings without an offset (default `UTC`). */
  readonly timeZone?: string;
}

/**
 * Country allow and deny lists of ISO 3166-1 alpha-2 codes (`US`, `DE`), resolved from the client address with the
 * `countryLookup` option (`@keyward/geo`), or from a trusted proxy's `countryHeader`. Deny wins.
 */
export interface CountryRestriction {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
  /**
   * What to do when the country cannot be resolved (private address, no data, lookup failure). Default: refuse
   * when an allow-list is set, let through otherwise. `false` without a list refuses unknown countries only.
   */
  readonly allowUnknown?: boolean;
}

/**
 * A route the credential may call. Path patterns work on segments: a literal segment, `:name` or `*` (exactly one
 * segment), and a final `**` (any number of segments, including none). `/v1/docs/**` matches `/v1/docs` and
 * `/v1/docs/a/b`. Matching is case-sensitive; one trailing slash is ignored; paths with `.`/`..` segments or
 * encoded slashes never match.
 */
export interface RouteRule {
  /** Path pattern, starting with `/`. */
  readonly path: string;
  /** Methods allowed on it (default: all). `GET` also allows `HEAD`. */
  readonly methods?: readonly string[];
}

/**
 * Access restrictions. The same shape serves the global policy (option `restrictions`, replaceable at run time with
 * `kw.restrictions.setPolicy()`) and each key (`keys.create({ restrictions })` / `keys.update`); a request must
 * pass both. Every part is optional; an unknown field is refused (a typo must not silently lift a restriction).
 * The value is plain JSON so it can be stored with a key.
 *
 * @example
 * ```ts
 * await kw.keys.create({
 *   owner: 'acme',
 *   restrictions: {
 *     ip: { allow: ['203.0.113.0/24', '2001:db8::/32'] },
 *     referrers: { allow: ['*.acme.example'] },
 *     userAgents: { denyBots: true },
 *     time: { windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00', timeZone: 'Europe/Berlin' }] },
 *     countries: { allow: ['DE', 'AT'] },
 *     routes: [{ methods: ['GET'], path: '/v1/docs/**' }],
 *   },
 * });
 * ```
 */
export interface KeyRestrictions {
  readonly ip?: IpRestriction;
  readonly referrers?: ReferrerRestriction;
  readonly userAgents?: UserAgentRestriction;
  readonly time?: TimeRestriction;
  readonly countries?: CountryRestriction;
  /** When set, only these routes may be called. */
  readonly routes?: readonly RouteRule[];
}

/** The global policy: the same restrictions, applied to every credential. */
export type RestrictionPolicy = KeyRestrictions;

/**
 * Resolves an address to an ISO 3166-1 alpha-2 country code, or `undefined`/`null` when it cannot (synchronous; the
 * same function serves anomaly detection). The core calls it when a country rule applies and, with anomaly detection
 * on, for every audited request of a key or token that has a client address. `@keyward/geo` provides one built on
 * geoip-lite.
 */
export type { CountryLookup };

/** Options of the access restrictions (part of `createKeyward`'s options). */
export interface RestrictionsOptions {
  /** The global policy, applied to every authenticated request. Validated at start-up. */
  restrictions?: RestrictionPolicy;
  /** Country lookup for country rules, e.g. `geoipCountryLookup()` from `@keyward/geo`. */
  countryLookup?: CountryLookup;
  /**
   * A header carrying the client's country set by your proxy or CDN (e.g. `cf-ipcountry`). Believed only when the
   * request came through a trusted proxy (`trustProxy`); otherwise `countryLookup` is used. `XX` means unknown.
   */
  countryHeader?: string;
  /**
   * The token claim holding a token's own restrictions (default `restrictions`), read from `principal.metadata`, so
   * the token configuration must copy the claim there (`claims: { metadata: ['restrictions'] }`).
   */
  restrictionsClaim?: string;
}
