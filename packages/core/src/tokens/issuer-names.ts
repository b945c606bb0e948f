import type { TokenOptions } from './options';

/**
 * What a token principal's issuer adds to the names of what is kept per principal (its rate-limit and quota buckets):
 * `@"<iss>":` (the issuer as a JSON string, so no two issuers' names can run together, whatever `:` they hold), or
 * `undefined` when the name needs none.
 */
export type IssuerQualifier = (issuer: string | undefined) => string | undefined;

/**
 * The {@link IssuerQualifier} of the `tokens` option (read before it is parsed, only the issuer names; the tokens
 * feature refuses a bad option at start-up anyway), or `undefined` when no token needs one. A `sub` (or an owner) is
 * unique only within its issuer (RFC 7519 §4.1.2): with several trusted issuers, a token of each issuer other than
 * keyward's own signing issuer is qualified by it, so two issuers' `user-1` are two principals. With one trusted
 * issuer nothing is qualified, and keyward's own tokens never are: their names are the ones they always had.
 */
export function issuerQualifier(tokens: TokenOptions | undefined): IssuerQualifier | undefined {
  if (typeof tokens !== 'object' || tokens === null) return undefined;
  const own = typeof tokens.signing?.issuer === 'string' ? tokens.signing.issuer : undefined;
  const names = new Map<string, string>();
  for (const i of Array.isArray(tokens.issuers) ? tokens.issuers : []) {
    const iss = (i as { issuer?: unknown } | null)?.issuer;
    if (typeof iss === 'string' && iss !== own) names.set(iss, `@${JSON.stringify(iss)}:`);
  }
  if (names.size + (own === undefined ? 0 : 1) < 2) return undefined;
  return (issuer) => (issuer === undefined ? undefined : names.get(issuer));
}
