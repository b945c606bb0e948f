/**
 * `@keyward/geo`: resolves client addresses to countries with geoip-lite, for keyward's country restrictions and
 * anomaly detection. geoip-lite reads its whole database (~150 MB in memory) when it is first required, so this
 * package requires it only when a lookup is first needed — which the core does when a country rule applies, and, with
 * anomaly detection on, for every audited request of a key or token that has a client address — or when you call
 * `preload()` at start-up to keep that cost off the first request.
 *
 * @packageDocumentation
 */
import { fieldsOf, parseIp, refuseUnknownInput, warnOnce, type CountryLookup, type IpAddress } from '@keyward/core';

type GeoipLite = typeof import('geoip-lite');

/** A country lookup backed by geoip-lite, loaded on first use. */
export interface GeoipCountryLookup extends CountryLookup {
  /** Loads the database now (synchronously) instead of on the first lookup. */
  preload(): void;
  /** True once the database is loaded. */
  readonly loaded: boolean;
}

/** Options of {@link geoipCountryLookup}. */
export interface GeoipCountryLookupOptions {
  /** Load the database at once rather than on the first lookup (default `false`). */
  preload?: boolean;
  /** How to load geoip-lite (default `require('geoip-lite')`); for bundlers that need an explicit import. */
  load?: () => GeoipLite;
}

/** Every field of {@link GeoipCountryLookupOptions}. */
const OPTIONS = fieldsOf<GeoipCountryLookupOptions>({ preload: true, load: true });

let shared: GeoipLite | undefined;

/**
 * The text geoip-lite reads correctly: dotted-quad IPv4, or IPv6 with all eight groups. Its own IPv6 parser shifts the
 * groups after `::` right but leaves them in place too, so a compressed address whose `::` falls in the first 64 bits
 * (`2620::300:1:1:1`) is looked up as another network (`2620:0:300:1::`), one its holder picks with the interface id.
 */
function geoipText(address: IpAddress): string {
  return address.kind() === 'ipv4' ? address.toString() : address.toNormalizedString();
}

/**
 * Creates a country lookup: `(address) => 'US' | … | undefined`. Addresses without data (private, reserved,
 * unallocated) and anything `parseIp` does not accept as an address resolve to `undefined`. It never throws: when
 * geoip-lite cannot be loaded (its data files missing), every address resolves to `undefined` and a
 * `KEYWARD_GEOIP_UNAVAILABLE` warning is emitted once (`preload()` throws the loading error instead).
 *
 * @example
 * ```ts
 * import { createKeyward } from '@keyward/core';
 * import { geoipCountryLookup } from '@keyward/geo';
 * const kw = createKeyward({ countryLookup: geoipCountryLookup(), restrictions: { countries: { deny: ['KP'] } } });
 * ```
 * @throws TypeError for an unknown field of `options` (`preloda`), before anything is loaded
 */
export function geoipCountryLookup(options: GeoipCountryLookupOptions = {}): GeoipCountryLookup {
  refuseUnknownInput(options, OPTIONS, 'geoipCountryLookup()');
  // 'false' from an environment variable is truthy: it would load the ~150 MB database at start-up, blocking the process.
  if (options.preload !== undefined && typeof options.preload !== 'boolean') throw new TypeError('keyward: option "preload" must be a boolean');
  if (options.load !== undefined && typeof options.load !== 'function') throw new TypeError('keyward: option "load" must be a function returning the geoip-lite module');
  let geoip: GeoipLite | undefined = options.load ? undefined : shared;
  const load = (): GeoipLite => {
    if (!geoip) {
      geoip = options.load ? options.load() : (shared ??= require('geoip-lite') as GeoipLite);
    }
    return geoip;
  };
  const lookup = ((text: string) => {
    const address = parseIp(text); // strict: what keyward accepts as an address, IPv4-mapped IPv6 as IPv4
    if (address === undefined) return undefined;
    let geoipLite: GeoipLite;
    try {
      geoipLite = load();
    } catch (error) {
      // Every country is now unknown: a deny-list refuses no one. Said once, loudly, rather than never.
      const reason = (error as { message?: unknown } | null)?.message; // Node's fs errors may come from another realm
      warnOnce('KEYWARD_GEOIP_UNAVAILABLE', `keyward: geoip-lite could not be loaded (${typeof reason === 'string' ? reason : String(error)}), so every country is unknown: country deny-lists refuse no one, and allow-lists refuse everyone unless "allowUnknown" is set. Reinstall geoip-lite (its data/ files must ship with it) or run its updatedb script; geoipCountryLookup({ preload: true }) makes this fail at start-up instead.`);
      return undefined;
    }
    try {
      const country = geoipLite.lookup(geoipText(address))?.country;
      return typeof country === 'string' && /^[A-Z]{2}$/.test(country) ? country : undefined;
    } catch {
      return undefined;
    }
  }) as GeoipCountryLookup;
  lookup.preload = () => void load();
  Object.defineProperty(lookup, 'loaded', { get: () => geoip !== undefined, enumerable: true });
  if (options.preload) lookup.preload();
  return lookup;
}
