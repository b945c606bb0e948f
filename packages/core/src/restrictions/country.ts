import { checkFields, invalid, optionalBool, stringList, type Namer } from './invalid';

/** A compiled country restriction: true when the country (upper-case code, or `undefined` if unknown) may call. */
export type CountryCheck = (country: string | undefined) => boolean;

const CODE_RE = /^[A-Z][A-Z0-9]$/;

/** Normalises a country code from a lookup or a header: two upper-case characters, `undefined` otherwise or for `XX`. */
export function normaliseCountry(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length !== 2) return undefined;
  const code = value.toUpperCase();
  return CODE_RE.test(code) && code !== 'XX' ? code : undefined;
}

/**
 * Compiles a `countries` restriction once. Deny wins. An unknown country follows `allowUnknown`, which defaults to
 * refusing when an allow-list is set and letting through otherwise; `allowUnknown: false` without a list refuses only
 * unknown countries.
 *
 * @throws TypeError naming the code that is not valid
 */
export function compileCountries(value: unknown, name: Namer, path: string): CountryCheck | undefined {
  const v = checkFields(value, ['allow', 'deny', 'allowUnknown'], name, path);
  const codes = (field: 'allow' | 'deny') => {
    const list = stringList(v[field], name, `${path}.${field}`, 300, 2);
    return list && new Set(list.map((c, i) => {
      const code = c.toUpperCase();
      if (!CODE_RE.test(code)) throw invalid(name(`${path}.${field}[${i}]`), 'must be an ISO 3166-1 alpha-2 country code such as "US"');
      // No country is ever "XX" (normaliseCountry makes it unknown) or "UK": in a list either would match nothing, silently.
      if (code === 'XX') throw invalid(name(`${path}.${field}[${i}]`), 'must be a country: "XX" stands for an unknown country, which "allowUnknown" decides');
      if (code === 'UK') throw invalid(name(`${path}.${field}[${i}]`), 'must be a country code: the United Kingdom is "GB" (ISO 3166-1), which lookups and CDNs answer, never "UK"');
      return code;
    }));
  };
  const allow = codes('allow');
  const deny = codes('deny');
  const allowUnknown = optionalBool(v.allowUnknown, name, `${path}.allowUnknown`) ?? !allow;
  if (!allow && !deny) return allowUnknown ? undefined : (country) => country !== undefined; // `allowUnknown: false` alone
  return (country) => {
    if (country === undefined) return allowUnknown;
    if (deny && deny.has(country)) return false;
    return !allow || allow.has(country);
  };
}
