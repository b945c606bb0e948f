import type { AuthRequest, DenialCode, DenyDecision } from '../model';
import { deny } from '../denials';
import type { Feature, PipelineContext, Stage } from '../pipeline/context';
import type { FeatureFactory } from '../features/registry';
import { isClientAddressResolver } from '../pipeline/address';
import { KeywardError } from '../errors';
import { LruCache } from '../util/lru';
import { warnOnce } from '../util/warn';
import { frozenCopy } from '../util/freeze';
import { compileRestrictions, RESTRICTION_FIELDS, type CompiledRestrictions } from './compile';
import { normaliseCountry } from './country';
import { namer } from './invalid';
import { parseIp, type IpAddress } from './ip-address';
import type { CountryLookup, RestrictionPolicy } from './types';

/** Replaces the global restriction policy at run time (`kw.restrictions`). */
export interface RestrictionsControl {
  /** The global policy in force, as given, deeply frozen (`undefined` when there is none); change it with `setPolicy`. */
  readonly policy: RestrictionPolicy | undefined;
  /**
   * Replaces the global policy; it applies to the next request. The new policy is validated first: on a mistake
   * this throws a `TypeError` naming the value and the old policy stays. `undefined` or `null` removes it.
   *
   * @example
   * ```ts
   * kw.restrictions.setPolicy({ ip: { deny: ['198.51.100.0/24'] } });
   * ```
   */
  setPolicy(policy: RestrictionPolicy | undefined | null): void;
}

/** The restrictions feature: a pipeline stage plus the run-time control. */
export interface RestrictionsFeature extends Feature, RestrictionsControl {
  readonly name: 'restrictions';
  /**
   * The pipeline's restrictions stage for a use of a credential that calls none of the API's routes (the OAuth token
   * endpoint's exchange of a key): the global policy and the credential's own restrictions, every part checked as the
   * stage checks it but `routes`, which say which API routes a credential may call (the token endpoint is not one of
   * them, and the token carries them to every route it calls).
   */
  readonly stageWithoutRoutes: Stage;
  /**
   * The country a trusted proxy's `countryHeader` gives a request (as the country rules read it: a code, `XX` and
   * anything else unknown), or `undefined` when it gives none; absent when no header is configured or no proxy is
   * trusted. Events carry it (`country`), so anomaly detection judges the country the pipeline decided with.
   */
  readonly headerCountry?: (request: AuthRequest) => string | undefined;
}

const HEADER_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NOTHING: CompiledRestrictions = { empty: true };

const DETAILS: Readonly<Record<(typeof RESTRICTION_FIELDS)[number], [DenialCode, string]>> = {
  time: ['OUTSIDE_TIME_WINDOW', 'This credential cannot be used at this time.'],
  ip: ['IP_FORBIDDEN', 'Requests from this address are not allowed.'],
  routes: ['ROUTE_FORBIDDEN', 'This credential may not call this route.'],
  referrers: ['REFERRER_FORBIDDEN', 'Requests from this origin are not allowed.'],
  userAgents: ['USER_AGENT_FORBIDDEN', 'Requests from this user agent are not allowed.'],
  countries: ['COUNTRY_FORBIDDEN', 'Requests from this country are not allowed.'],
};

/** Compiled restrictions that refuse everything with `code` (stored restrictions that no longer validate). */
function refuseAll(field: (typeof RESTRICTION_FIELDS)[number]): CompiledRestrictions {
  const no = () => false;
  return { empty: false, [field]: no, broken: field };
}

/**
 * Compiles restrictions read from a store or a token. They were validated when set, but a store may hold values
 * written by another version or by hand: anything that does not compile fails closed, refusing every request with
 * the code of the part that is broken.
 */
function compileStored(value: unknown): CompiledRestrictions {
  try {
    return compileRestrictions(value, namer(false));
  } catch (error) {
    warnOnce('KEYWARD_INVALID_STORED_RESTRICTIONS', `keyward: a credential carries restrictions that are not valid, so it is refused everywhere (${error instanceof Error ? error.message.slice(0, 200) : 'unknown error'}).`);
    const message = error instanceof Error ? error.message : '';
    const field = RESTRICTION_FIELDS.find((f) => message.includes(`"restrictions.${f}`)) ?? 'routes';
    return refuseAll(field);
  }
}

function checkOptions(options: Record<string, unknown>): { lookup: CountryLookup | undefined; header: string | undefined; claim: string; trustsNoProxy: boolean } {
  const lookup = options.countryLookup;
  if (lookup !== undefined && typeof lookup !== 'function') throw new TypeError('keyward: option "countryLookup" must be a function (address) => country code, e.g. geoipCountryLookup() from @keyward/geo');
  const header = options.countryHeader;
  if (header !== undefined && (typeof header !== 'string' || !HEADER_RE.test(header))) throw new TypeError('keyward: option "countryHeader" must be a header name such as "cf-ipcountry"');
  const trustsNoProxy = !options.trustProxy || (Array.isArray(options.trustProxy) && options.trustProxy.length === 0);
  if (header !== undefined && trustsNoProxy) warnOnce('KEYWARD_COUNTRY_HEADER_UNTRUSTED', 'keyward: "countryHeader" is only believed from trusted proxies, and "trustProxy" is not set, so it is never used.');
  const claim = options.restrictionsClaim ?? 'restrictions';
  if (typeof claim !== 'string' || claim === '' || claim.length > 64) throw new TypeError('keyward: option "restrictionsClaim" must be a claim name');
  return { lookup: lookup as CountryLookup | undefined, header: typeof header === 'string' ? header.toLowerCase() : undefined, claim, trustsNoProxy };
}

/**
 * The access-restrictions feature. Always present: the global policy (option `restrictions`, replaceable with
 * {@link RestrictionsControl.setPolicy}) and each credential's own restrictions must both pass. A credential's own
 * restrictions are its key record's whenever the pipeline has one: an API key's, and a token's that this instance
 * exchanged for a key (the key's restrictions as they are now, so `keys.update` reaches live tokens on the next
 * request, tightening and loosening alike; the snapshot in the token's `restrictions` claim is then not read — it
 * stays in the token for verifiers without the key store). Any other token's are its `restrictions` claim (option
 * `restrictionsClaim`) when the token configuration copies it into `principal.metadata`. Checks run in the
 * `restrictions` phase, after authentication and before scopes, cheapest first: time, IP, route, referrer, user
 * agent, country.
 *
 * @throws TypeError at start-up naming the option that is not valid
 */
export const restrictionsFeature: FeatureFactory = (options, deps): RestrictionsFeature => {
  const { lookup, header, claim, trustsNoProxy } = checkOptions(options as unknown as Record<string, unknown>);
  const resolver = deps.resolveAddress;
  const viaTrustedProxy = isClientAddressResolver(resolver) ? resolver.viaTrustedProxy : () => false;
  const countries = new LruCache<string, string | null>(10_000, 10 * 60_000, deps.clock);

  function compilePolicy(policy: unknown): CompiledRestrictions {
    if (policy === undefined || policy === null) return NOTHING;
    const compiled = compileRestrictions(policy, namer(true));
    if (compiled.countries && !lookup && !header) throw new TypeError('keyward: option "restrictions.countries" needs the "countryLookup" option (geoipCountryLookup() from @keyward/geo) or a trusted "countryHeader"');
    return compiled;
  }

  let global = compilePolicy(options.restrictions);
  let policy = options.restrictions == null ? undefined : frozenCopy(options.restrictions);
  const stored = new WeakMap<object, CompiledRestrictions>();

  /** The credential's own restrictions: the key record's when there is one (see above), else a token's claim. */
  function own(ctx: PipelineContext): CompiledRestrictions | undefined {
    let value: unknown;
    if (ctx.record) value = ctx.record.restrictions;
    else if (ctx.principal?.type === 'token') value = ctx.principal.metadata[claim];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object') return compileStored(value);
    let c = stored.get(value);
    if (!c) {
      c = compileStored(value);
      stored.set(value, c);
    }
    return c.empty ? undefined : c;
  }

  /** The country of a trusted proxy's header, if it gives one. */
  function headerCountry(request: AuthRequest): string | undefined {
    if (!header || !viaTrustedProxy(request)) return undefined;
    const fromHeader = request.headers[header];
    return typeof fromHeader === 'string' ? normaliseCountry(fromHeader.trim()) : undefined;
  }

  function countryOf(ctx: PipelineContext): string | undefined {
    const fromHeader = headerCountry(ctx.request);
    if (fromHeader) return fromHeader;
    const address = ctx.clientAddress;
    if (address === undefined) return undefined;
    if (!lookup) {
      warnOnce('KEYWARD_NO_COUNTRY_LOOKUP', 'keyward: a credential has country restrictions but no "countryLookup" option is set, so every country is unknown.');
      return undefined;
    }
    const hit = countries.get(address);
    if (hit !== undefined) return hit ?? undefined;
    let c: string | undefined;
    try {
      c = normaliseCountry(lookup(address));
    } catch {
      return undefined; // a failing lookup is an unknown country, never a 5xx (and not cached)
    }
    countries.set(address, c ?? null);
    return c;
  }

  function refuse(ctx: PipelineContext, field: (typeof RESTRICTION_FIELDS)[number]): DenyDecision {
    const [code, detail] = DETAILS[field];
    return deny(code, ctx.requestId, deps.challenge, { detail, headers: ctx.headers });
  }

  function stage(ctx: PipelineContext, fields: readonly RestrictionField[] = RESTRICTION_FIELDS_IN_ORDER): DenyDecision | undefined {
    const mine = own(ctx);
    if (mine?.broken) return refuse(ctx, mine.broken); // fails closed in every check, the token endpoint's included
    if (global.empty && !mine) return undefined;
    const sets = mine ? (global.empty ? [mine] : [global, mine]) : [global];
    let address: IpAddress | undefined | null = null;
    let country: string | undefined | null = null;
    for (const field of fields) {
      for (const set of sets) {
        switch (field) {
          case 'time':
            if (set.time && !set.time(ctx.now)) return refuse(ctx, field);
            break;
          case 'ip':
            if (set.ip) {
              if (address === null) address = ctx.clientAddress === undefined ? undefined : parseIp(ctx.clientAddress);
              if (!set.ip(address)) return refuse(ctx, field);
            }
            break;
          case 'routes':
            if (set.routes && !set.routes(ctx.request)) return refuse(ctx, field);
            break;
          case 'referrers':
            if (set.referrers && !set.referrers(ctx.request)) return refuse(ctx, field);
            break;
          case 'userAgents':
            if (set.userAgents && !set.userAgents(ctx.request)) return refuse(ctx, field);
            break;
          case 'countries':
            if (set.countries) {
              if (country === null) country = countryOf(ctx);
              if (!set.countries(country)) return refuse(ctx, field);
            }
            break;
        }
      }
    }
    return undefined;
  }

  return {
    name: 'restrictions',
    stages: { restrictions: stage },
    stageWithoutRoutes: (ctx) => stage(ctx, FIELDS_WITHOUT_ROUTES),
    ...(header && !trustsNoProxy ? { headerCountry } : {}),
    get policy() {
      return policy;
    },
    setPolicy(next) {
      global = compilePolicy(next);
      policy = next == null ? undefined : frozenCopy(next);
    },
  };
};

type RestrictionField = (typeof RESTRICTION_FIELDS)[number];
const RESTRICTION_FIELDS_IN_ORDER: readonly RestrictionField[] = ['time', 'ip', 'routes', 'referrers', 'userAgents', 'countries'];
const FIELDS_WITHOUT_ROUTES = RESTRICTION_FIELDS_IN_ORDER.filter((f) => f !== 'routes');

/**
 * The restrictions of a use of a credential outside the API's routes (see
 * {@link RestrictionsFeature.stageWithoutRoutes}) among an instance's features, or `undefined` without the feature.
 */
export function restrictionsWithoutRoutesOf(features: ReadonlyMap<string, Feature>): Stage | undefined {
  return (features.get('restrictions') as RestrictionsFeature | undefined)?.stageWithoutRoutes;
}

/** {@link RestrictionsFeature.headerCountry} among an instance's features, or `undefined` when it has none. */
export function headerCountryOf(features: ReadonlyMap<string, Feature>): ((request: AuthRequest) => string | undefined) | undefined {
  return (features.get('restrictions') as RestrictionsFeature | undefined)?.headerCountry;
}

/**
 * The run-time control of the restrictions feature among an instance's features (`kw.restrictions`). When the
 * feature is missing its `setPolicy` throws `INVALID_OPTIONS`.
 */
export function restrictionsControl(features: ReadonlyMap<string, Feature>): RestrictionsControl {
  const f = features.get('restrictions') as RestrictionsFeature | undefined;
  if (f && typeof f.setPolicy === 'function') return f;
  return {
    policy: undefined,
    setPolicy() {
      throw new KeywardError('INVALID_OPTIONS', 'the restrictions feature is not installed');
    },
  };
}
