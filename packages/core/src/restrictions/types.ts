/**
 * Restrictions stored with a key or carried by a token (IP/CIDR, referrer, user agent, time windows, countries,
 * routes). Filled in by the access-restrictions feature; unknown fields are kept as given.
 */
export interface KeyRestrictions {
  readonly [name: string]: unknown;
}
