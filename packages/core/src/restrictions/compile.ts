import { compileCountries, type CountryCheck } from './country';
import { compileIp, type IpCheck } from './ip';
import { checkFields, namer, type Namer } from './invalid';
import { compileReferrers, type ReferrerCheck } from './referrer';
import { compileRoutes, type RouteCheck } from './routes';
import { compileTime, type TimeCheck } from './time';
import type { KeyRestrictions } from './types';
import { compileUserAgents, type UserAgentCheck } from './user-agent';

/** Restrictions compiled once into checks; absent parts impose nothing. */
export interface CompiledRestrictions {
  readonly ip?: IpCheck;
  readonly referrers?: ReferrerCheck;
  readonly userAgents?: UserAgentCheck;
  readonly time?: TimeCheck;
  readonly countries?: CountryCheck;
  readonly routes?: RouteCheck;
  /** True when nothing is restricted. */
  readonly empty: boolean;
  /**
   * Set on stored restrictions that no longer compile: every use of the credential is refused, with the code of this
   * field, whichever fields a check looks at.
   */
  readonly broken?: (typeof RESTRICTION_FIELDS)[number];
}

/** The fields of {@link KeyRestrictions}. */
export const RESTRICTION_FIELDS = ['ip', 'referrers', 'userAgents', 'time', 'countries', 'routes'] as const;

/**
 * Checks and compiles restrictions once.
 *
 * @param name - names values in errors (see {@link namer})
 * @throws TypeError naming the first value that is not valid
 */
export function compileRestrictions(value: unknown, name: Namer): CompiledRestrictions {
  const v = checkFields(value, RESTRICTION_FIELDS, name, '');
  const c = {
    ip: v.ip === undefined ? undefined : compileIp(v.ip, name, '.ip'),
    referrers: v.referrers === undefined ? undefined : compileReferrers(v.referrers, name, '.referrers'),
    userAgents: v.userAgents === undefined ? undefined : compileUserAgents(v.userAgents, name, '.userAgents'),
    time: v.time === undefined ? undefined : compileTime(v.time, name, '.time'),
    countries: v.countries === undefined ? undefined : compileCountries(v.countries, name, '.countries'),
    routes: v.routes === undefined ? undefined : compileRoutes(v.routes, name, '.routes'),
  };
  const out: { -readonly [K in keyof CompiledRestrictions]: CompiledRestrictions[K] } = { empty: true };
  for (const k of RESTRICTION_FIELDS) {
    if (c[k] !== undefined) {
      (out as Record<string, unknown>)[k] = c[k];
      out.empty = false;
    }
  }
  return out;
}

/**
 * Validates a key's (or token's) restrictions, as `keys.create` and `keys.update` do before storing them.
 * Returns the value unchanged when it is valid.
 *
 * @example
 * ```ts
 * validateRestrictions({ ip: { allow: ['10.0.0.0/8'] } }); // ok
 * validateRestrictions({ ip: { allow: ['10.0.0.0/33'] } }); // TypeError: keyward: "restrictions.ip.allow[0]" must be …
 * ```
 * @throws TypeError naming the first value that is not valid
 */
export function validateRestrictions(value: unknown): KeyRestrictions {
  compileRestrictions(value, namer(false));
  return value as KeyRestrictions;
}
