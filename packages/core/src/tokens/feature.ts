import type { AuthOutcome, Feature } from '../pipeline/context';
import type { FeatureFactory } from '../features/registry';
import type { Endpoint } from '../endpoints/endpoint';
import { KeywardError } from '../errors';
import { parseTokenOptions } from './config';
import { createVerifier, refusalOfToken, refusedToken, type TokenFailure, type VerifiedToken } from './verifier';
import { createIssuer, type IssuedToken, type IssueTokenInput } from './issuer';
import { buildJwks, copyJwks, jwksEndpoint, type PublicJwks } from './jwks';
import { tokenEndpoint, type ExchangeDeps } from './exchange';
import { requestIdFrom } from '../util/request-id';
import { authFailureGuardOf } from '../limits/auth-failures';
import { headerCountryOf, restrictionsWithoutRoutesOf } from '../restrictions/feature';
import { socketAddress } from '../pipeline/address';
import { stagesOf } from '../pipeline/stages';
import { looksLikeJwt } from './shape';
import { createEventPathRedactor, redactCredentials } from '../events/redact';
import { checkString, toTime } from '../keys/validate';
import { MemoryRevocationStore } from './memory-revocation-store';
import { MAX_DURATION_MS } from '../util/duration';
import { isPromise } from '../util/maybe';
import type { KeyRecord } from '../keys/record';
import type { Principal, ResponseHeaders } from '../model';
import { isRefusal, keyStatus } from '../keys/authenticator';
import { holds } from '../scopes/match';
import type { KeyPolicy } from '../keys/policy';

const KEY_GONE: TokenFailure = Object.freeze({ code: 'TOKEN_INVALID', detail: 'The API key this token was issued for can no longer be used.' });
const KEY_STORE_DOWN: TokenFailure = Object.freeze({ code: 'STORE_UNAVAILABLE', detail: 'The key store is unavailable.' });

/** A verified token exchanged for an API key, with that key's current record: the pipeline's `ctx.record`. */
interface KeyedToken extends VerifiedToken {
  readonly record: KeyRecord;
  /** The key's own response headers (`Deprecation`, `Sunset`, `Link` while it is in its rotation grace period). */
  readonly headers?: ResponseHeaders;
}

/** The last outcome built for each verified token (a cached token's entry is one object for its whole life). */
const keyedOutcomes = new WeakMap<VerifiedToken, KeyedToken>();

/** The key each exchanged token's principal acts as, by the principal handed out (see {@link keyOfToken}). */
const keysOfPrincipals = new WeakMap<Principal, KeyRecord>();

/**
 * The key record a token principal acts as — a token this instance exchanged for an API key, as the pipeline last
 * found it — or `undefined` for any other principal. For what names the principal outside the pipeline (the
 * `access.denied` event of a route's own scope check): such a token is its key there too.
 */
export function keyOfToken(principal: Principal): KeyRecord | undefined {
  return keysOfPrincipals.get(principal);
}

/** The deprecation headers of each key record in its rotation grace period, shared by all of the key's tokens. */
const graceHeaders = new WeakMap<KeyRecord, ResponseHeaders>();

/**
 * The response headers the key itself would get at `now` ({@link keyStatus}): `undefined` when there are none (no
 * grace period) or the key is refused (the caller has already found it usable). The same object for a record.
 */
function keyHeadersOf(record: KeyRecord, now: number, policy: KeyPolicy): ResponseHeaders | undefined {
  if (record.graceEndsAt === undefined) return undefined;
  const known = graceHeaders.get(record);
  if (known !== undefined) return known;
  const status = keyStatus(record, now, policy);
  if (isRefusal(status) || Object.keys(status).length === 0) return undefined;
  graceHeaders.set(record, status as ResponseHeaders);
  return status as ResponseHeaders;
}

/**
 * The scopes of an exchanged token its key still grants: each token scope the key holds now, and each key scope a
 * token wildcard covers (a token's `users:*` under a key narrowed to `users:read` keeps `users:read`). The token's
 * own array when nothing was taken away. Never more than the token was granted at the exchange.
 */
function scopesStillGranted(scopes: readonly string[], record: KeyRecord): readonly string[] {
  if (scopes.every((s) => holds(record.scopes, s))) return scopes;
  const kept = scopes.filter((s) => holds(record.scopes, s));
  for (const k of record.scopes) if (!kept.includes(k) && holds(scopes, k) && !holds(kept, k)) kept.push(k);
  return Object.freeze(kept);
}

/**
 * The principal of an exchanged token under its key's current record: the key's owner and plan (whatever claims
 * `signing.claims` maps them from: the exchange writes them as `owner` and `plan`), and the token's scopes as far as
 * the key still holds them (a key's scopes narrowed by `kw.keys.update()` narrow its live tokens; widened, they widen
 * nothing). The token's own principal when none of these differs, else a frozen copy (metadata shared, already frozen).
 */
function withKeyOf(principal: Principal, record: KeyRecord): Principal {
  const scopes = scopesStillGranted(principal.scopes, record);
  if (principal.owner === record.owner && principal.plan === record.plan && scopes === principal.scopes) return principal;
  const copy: { -readonly [K in keyof Principal]: Principal[K] } = { ...principal, owner: record.owner, scopes };
  if (record.plan !== undefined) copy.plan = record.plan;
  else delete copy.plan;
  return Object.freeze(copy);
}

/**
 * The success outcome of an exchanged token whose key is usable (`KEY_GONE` when it is not): the token's principal
 * and claims with the key's record. The same object for as long as the verified token and the record are the same
 * (a cached token of a cached key), so the common request allocates nothing; a changed key is a new record, and a new
 * outcome. A key in its rotation grace period lends the token its deprecation headers, as the key itself gets them.
 */
function keyedOutcome(verified: VerifiedToken, record: KeyRecord | undefined, now: number, policy: KeyPolicy): KeyedToken | TokenFailure {
  if (record === undefined) return refusalOfToken(KEY_GONE, verified); // verified: its refusal names its key
  const last = keyedOutcomes.get(verified);
  if (last !== undefined && last.record === record) return last;
  const headers = keyHeadersOf(record, now, policy);
  const next: KeyedToken = Object.freeze({ principal: withKeyOf(verified.principal, record), claims: verified.claims, record, ...(headers ? { headers } : {}) });
  keyedOutcomes.set(verified, next);
  keysOfPrincipals.set(next.principal, record);
  return next;
}

/** What `kw.tokens.verify()` hands out: never the key's record (it holds the key's hash). */
function withoutRecord(result: VerifiedToken | KeyedToken | TokenFailure): VerifiedToken | TokenFailure {
  return 'record' in result ? { principal: result.principal, claims: result.claims } : result;
}

/**
 * Tokens on a keyward instance: `kw.tokens`. Verification runs in the pipeline on its own (a `Bearer` credential
 * with dots is a JWT); this is the rest.
 *
 * @example
 * ```ts
 * const { token, jti } = await kw.tokens.issue({ subject: 'user-42', scopes: ['docs:read'], ttl: '10m' });
 * app.all('/oauth/token', endpoint(kw.tokens.endpoint())); // before app.use(apiKeyAuth(...)), for every method (405 with Allow)
 * app.all('/.well-known/jwks.json', endpoint(kw.tokens.jwksEndpoint()));
 * await kw.tokens.revoke(jti);
 * ```
 */
export interface TokenApi {
  /** Signs a token with the first signing key (needs `tokens.signing`). Emits `token.issued`. */
  issue(input: IssueTokenInput): Promise<IssuedToken>;
  /** Verifies a token as the pipeline does (for WebSockets, queues, …). Never throws for a bad token. */
  verify(token: string): Promise<VerifiedToken | TokenFailure>;
  /**
   * Revokes a token id until `until` (Date or ms; default now + `tokens.revocationTtl`, or the longest a token can
   * live when that is longer: `signing.maxTtl`, an issuer's `maxTokenAge`; 100 years — for good — while a trusted
   * issuer has no `maxTokenAge`, since its tokens may live any length of time) — give the token's `exp` so the entry lives
   * exactly as long as the token: it is kept the largest `clockTolerance` of the issuers longer, as long as a token
   * past its `exp` is still accepted. Emits `token.revoked`. The id is revoked for every trusted issuer (a token of any
   * of them with this `jti` is refused): RFC 7519 §4.1.7 has ids kept apart across an application's issuers.
   *
   * @throws TypeError for an `until` that is a JWT's `exp` in seconds (a moment of 1970 read as ms), which would revoke nothing
   */
  revoke(jti: string, until?: Date | number): Promise<void>;
  /**
   * True when the token id is revoked now.
   *
   * @throws TypeError for a `jti` that is not a string (e.g. a token's missing `jti` claim), which no revocation names
   */
  isRevoked(jti: string): Promise<boolean>;
  /** The public JWKS of the signing keys (needs `tokens.signing`): a copy per call, accepted by jose's `createLocalJWKSet`. */
  jwks(): PublicJwks;
  /** The JWKS as a core endpoint (`GET`), to mount e.g. at `/.well-known/jwks.json`. */
  jwksEndpoint(): Endpoint;
  /** The OAuth 2.0 client-credentials token endpoint (`POST`), API key in, token out. */
  endpoint(): Endpoint;
}

/** The tokens feature, with its API. */
export interface TokensFeature extends Feature {
  /**
   * The API on its own: its token endpoint shares none of the pipeline's stages, blocks, limits or restrictions (see
   * {@link TokensFeature.link}).
   */
  readonly api: TokenApi;
  /**
   * The API bound to the instance's other features: its token endpoint runs the pipeline's `preauth` stages (blocked
   * addresses of `authFailures`, before-auth address limits), the restrictions (global policy and the key's, but
   * `routes`) and the `load` stages (load shedding), counts failed client authentications in the `authFailures`
   * feature's counters, as the pipeline does, and charges each exchange to its key's rate limits and quotas with the
   * `limits` stages. `createKeyward` uses this one (`kw.tokens`).
   */
  link(features: ReadonlyMap<string, Feature>): TokenApi;
}

function notConfigured(what: string): never {
  throw new KeywardError('INVALID_OPTIONS', `keyward: ${what} is not configured (option "${what === 'tokens' ? 'tokens' : 'tokens.signing'}")`);
}

/** `kw.tokens` when the `tokens` option was not given: every call says so. */
export const UNCONFIGURED_TOKENS: TokenApi = Object.freeze({
  issue: async () => notConfigured('tokens'),
  verify: async () => notConfigured('tokens'),
  revoke: async () => notConfigured('tokens'),
  isRevoked: async () => notConfigured('tokens'),
  jwks: () => notConfigured('tokens'),
  jwksEndpoint: () => notConfigured('tokens'),
  endpoint: () => notConfigured('tokens'),
});

/** The `kw.tokens` API of an instance's features (its token endpoint sharing the pipeline's stages, blocks and limits: {@link TokensFeature.link}). */
export function tokensApiOf(features: ReadonlyMap<string, Feature>): TokenApi {
  return (features.get('tokens') as TokensFeature | undefined)?.link(features) ?? UNCONFIGURED_TOKENS;
}

/**
 * The tokens feature: a JWT authenticator tried before the API-key one, plus issuing, exchange, JWKS and
 * revocation. Configured by the `tokens` option; absent otherwise.
 */
export const tokensFeature: FeatureFactory = (options, deps) => {
  if (options.tokens === undefined) return undefined;
  const config = parseTokenOptions(options.tokens, options.environment ?? process.env);
  const { clock, events } = deps;
  const revocation = config.revocationStore ?? new MemoryRevocationStore({ clock });
  const verify = createVerifier(config, revocation, clock, events, deps.storeTimeoutMs);
  const signing = config.signing;
  const issue = signing ? createIssuer(signing, clock, events, config.maxTokenLength) : undefined;
  const jwks = signing ? buildJwks(signing.keys) : undefined;
  // A token is accepted until `exp` plus its issuer's clock tolerance: a revocation "until its expiry" lasts as long.
  const revocationGraceMs = Math.max(0, ...[...config.issuers.values()].map((i) => i.clockTolerance * 1000));
  // revoke(jti) without `until` keeps the id as long as a token can live here (signing.maxTtl, an issuer's
  // maxTokenAge), when that is longer than revocationTtl: a shorter entry let a revoked token work again before its exp.
  // A trusted issuer without maxTokenAge accepts tokens of any lifetime (an `exp` years ahead, or none): its ids are
  // kept for good (100 years), since any shorter default let a revoked token of it work again.
  const unboundedIssuer = [...config.issuers].some(([iss, i]) => iss !== signing?.issuer && i.maxTokenAge === undefined);
  const defaultRevocationMs = unboundedIssuer ? MAX_DURATION_MS : Math.max(config.revocationTtlMs, signing?.maxTtlMs ?? 0, ...[...config.issuers.values()].map((i) => (i.maxTokenAge ?? 0) * 1000));

  /**
   * A token this instance exchanged for an API key (its own issuer, a `client_id` claim naming the key) acts as that
   * key. It is only as good as the key: revoking, disabling or expiring the key ends its tokens on the next request,
   * on every instance that hears the change (the same invalidation and cache bound as the key itself). And the key's
   * current record goes to the pipeline as `ctx.record`, as an API key's does, so the token counts in the key's own
   * rate-limit and quota buckets, under the key's plan and limit overrides, and the key's restrictions as they are
   * now apply to it (not the snapshot in its `restrictions` claim). A cached key answers at once, without a promise.
   */
  const withKey = <R>(result: VerifiedToken | TokenFailure, now: number, refusal: (failure: TokenFailure) => R): VerifiedToken | KeyedToken | R | Promise<KeyedToken | R> => {
    if (!('principal' in result)) return refusal(result);
    if (!signing) return result;
    const clientId = result.claims['client_id'];
    if (typeof clientId !== 'string' || result.claims.iss !== signing.issuer) return result;
    let record: KeyRecord | undefined | Promise<KeyRecord | undefined>;
    try {
      record = deps.keys.usableRecord(clientId, now);
    } catch {
      return refusal(KEY_STORE_DOWN);
    }
    const policy = deps.keys.policy;
    if (isPromise<KeyRecord | undefined>(record)) {
      return Promise.resolve(record).then(
        (r) => {
          const o = keyedOutcome(result, r, now, policy);
          return 'principal' in o ? o : refusal(o);
        },
        () => refusal(KEY_STORE_DOWN),
      );
    }
    const o = keyedOutcome(result, record, now, policy);
    return 'principal' in o ? o : refusal(o);
  };
  /** The key id a verified token was exchanged for (this instance's own issuer, a `client_id` claim), if it was. */
  const exchangedFor = (verified: VerifiedToken): string | undefined => {
    const clientId = verified.claims['client_id'];
    return signing && typeof clientId === 'string' && verified.claims.iss === signing.issuer ? clientId : undefined;
  };

  /**
   * A refusal as the pipeline gets it: for a token refused after its signature was verified (see {@link refusedToken}),
   * with whom its event names — the token, or the key it was exchanged for with the key's record (its id and hint; the
   * key's id alone when the record cannot be read at once or is gone). Any other refusal as it is: it names no one.
   */
  const named = (failure: TokenFailure): AuthOutcome | Promise<AuthOutcome> => {
    const refused = refusedToken(failure);
    if (refused === undefined) return failure;
    const keyId = exchangedFor(refused);
    if (keyId === undefined) return { code: failure.code, detail: failure.detail, token: refused.principal };
    const asKey = (record: KeyRecord | undefined): AuthOutcome => (record !== undefined && record.id === keyId ? { code: failure.code, detail: failure.detail, token: refused.principal, record } : { code: failure.code, detail: failure.detail, keyId });
    let record: KeyRecord | undefined | Promise<KeyRecord | undefined>;
    try {
      record = deps.keys.recordOf(keyId);
    } catch {
      return asKey(undefined);
    }
    return isPromise<KeyRecord | undefined>(record) ? Promise.resolve(record).then(asKey, () => asKey(undefined)) : asKey(record);
  };
  /** Verifies a token, and judges a token exchanged for a key by the key; each refusal goes through `refusal`. */
  const verifyWithKey = <R>(token: string, now: number, refusal: (failure: TokenFailure) => R): VerifiedToken | KeyedToken | R | Promise<VerifiedToken | KeyedToken | R> => {
    const result = verify(token, now);
    return isPromise<VerifiedToken | TokenFailure>(result) ? Promise.resolve(result).then((r) => withKey(r, now, refusal)) : withKey(result, now, refusal);
  };
  const asIs = (failure: TokenFailure): TokenFailure => failure;

  // The pipeline's address and request-id rules (the options were validated by createKeyward before any feature).
  const resolveAddress = deps.resolveAddress ?? socketAddress;
  const requestId = deps.requestId ?? requestIdFrom('x-request-id');
  // The pipeline's event path rule: the `queryParam` credentials are read from is redacted by name too.
  const eventPath = createEventPathRedactor({ queryParams: typeof options.queryParam === 'string' ? [options.queryParam] : [] });
  const endpoint = (shared: Pick<ExchangeDeps, 'authFailures' | 'stages' | 'headerCountry'> = {}) =>
    issue && signing ? tokenEndpoint({ keys: deps.keys, issue, ttlMs: signing.exchangeTtlMs, clock, events, realm: deps.challenge.realm, resolveAddress, requestId, eventPath, ...shared }) : notConfigured('token issuing');

  const api: TokenApi = {
    issue: (input) => (issue ? issue(input) : notConfigured('token issuing')),
    // The key's record stays inside keyward: the caller gets the principal and the claims only.
    verify: async (token) => (typeof token === 'string' ? withoutRecord(await verifyWithKey(token, clock(), asIs)) : { code: 'TOKEN_INVALID', detail: 'The token is not valid.' }),
    async revoke(jti, until) {
      // The token (or a key) passed for its id would be stored as a revocation and sent in `token.revoked` events, and
      // revoke nothing: refused, and not shown.
      if (typeof jti === 'string' && redactCredentials(jti) !== jti) throw new TypeError('keyward: "jti" is shaped like a token or a key (not shown): pass the token\'s "jti" claim, e.g. the `jti` that tokens.issue() returned');
      checkString(jti, 'jti');
      const now = clock();
      const given = until === undefined ? now + defaultRevocationMs : toTime(until, 'until');
      // A JWT's `exp` is in seconds: passed as it is, it is a moment of 1970 (before 1973: under 1e11 ms), and the
      // revocation would be over before it began, revoking nothing. Refused when, read as seconds, it is still to come;
      // any other time already past is taken (that token has expired anyway).
      if (given < 1e11 && given * 1000 > now) throw new TypeError('keyward: "until" is in ms since the epoch, and this one is in 1970: a JWT\'s "exp" is in seconds (pass exp * 1000)');
      const untilMs = given + revocationGraceMs;
      await revocation.revoke(jti, untilMs, now);
      events.emit({ type: 'token.revoked', principalType: 'token', data: { jti, until: new Date(untilMs).toISOString() } });
    },
    async isRevoked(jti) {
      if (typeof jti !== 'string') throw new TypeError('keyward: "jti" must be a string');
      return revocation.isRevoked(jti, clock());
    },
    jwks: () => (jwks ? copyJwks(jwks) : notConfigured('token issuing')),
    jwksEndpoint: () => (jwks ? jwksEndpoint(jwks) : notConfigured('token issuing')),
    endpoint: () => endpoint(),
  };

  return {
    name: 'tokens',
    api,
    link(features) {
      const authFailures = authFailureGuardOf(features);
      const restrictions = restrictionsWithoutRoutesOf(features);
      const stages = { preauth: stagesOf(features, 'preauth'), postauth: stagesOf(features, 'postauth'), restrictions: restrictions ? [restrictions] : [], load: stagesOf(features, 'load'), limits: stagesOf(features, 'limits') };
      const headerCountry = headerCountryOf(features); // its events carry the country the pipeline's carry
      return { ...api, endpoint: () => endpoint({ ...(authFailures ? { authFailures } : {}), stages, ...(headerCountry ? { headerCountry } : {}) }) };
    },
    authenticators: [
      {
        name: 'jwt',
        accepts: (credential) => credential.source === 'authorization' && credential.scheme === 'bearer' && looksLikeJwt(credential.value),
        // A verified token is itself a success outcome (its frozen principal, and for an exchanged token its key's
        // record; the pipeline reads nothing else), and a failure is a denial: a cached token whose key is cached too,
        // with the memory revocation store, is answered at once, no promise made.
        // A refusal of a verified token says whose it was (see `named`), for its event only.
        authenticate: (credential, ctx) => verifyWithKey(credential.value, ctx.now, named) as AuthOutcome | Promise<AuthOutcome>,
      },
    ],
  } satisfies TokensFeature;
};
