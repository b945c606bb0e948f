import type { webcrypto } from 'node:crypto';
import { jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from 'jose' with { 'resolution-mode': 'import' };
import type { Principal } from '../model';
import type { EventBus } from '../events/bus';
import type { Clock } from '../util/clock';
import { LruCache } from '../util/lru';
import type { IssuerConfig, TokenConfig } from './config';
import type { RevocationStore } from './revocation-store';
import { answersSynchronously } from './memory-revocation-store';
import { ALG_NOT_ALLOWED, MALFORMED, hasJwsShape, headerRefusal, unverifiedPayload } from './shape';
import { deepFreeze, frozenCopy } from '../util/freeze';
import { sha256 } from '../util/digest';
import { isPromise } from '../util/maybe';
import { withDeadline } from '../util/deadline';
import { KeywardError } from '../errors';
import { tokenPrincipal } from './principal';
import { remoteKeySet } from './remote-key-set';
import { isStorableText } from '../keys/validate';
import { redactCredentials } from '../events/redact';
import { failureMessage } from '../events/failure-message';

/** A verified token: its principal and its claims. */
export interface VerifiedToken {
  readonly principal: Principal;
  readonly claims: Readonly<JWTPayload>;
}

/** Why a token was refused. `detail` never contains the token or a claim value. */
export interface TokenFailure {
  readonly code: 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'STORE_UNAVAILABLE';
  readonly detail: string;
}

/**
 * Verifies a token at time `now` (ms). Never throws for anything in the token. Answers at once, without a promise,
 * for a cached token when the revocation store answers synchronously (and for a token refused before its signature
 * is checked); a promise otherwise.
 */
export type TokenVerifier = (token: string, now: number) => VerifiedToken | TokenFailure | Promise<VerifiedToken | TokenFailure>;

const invalid = (detail: string): TokenFailure => ({ code: 'TOKEN_INVALID', detail });

/** The verified token of each refusal made after its signature was checked (see {@link refusedToken}). */
const refusedTokens = new WeakMap<TokenFailure, VerifiedToken>();

/** A refusal of a token whose signature was verified: its own failure object, which {@link refusedToken} maps to the token. */
function refusalOf(code: TokenFailure['code'], detail: string, token: VerifiedToken): TokenFailure {
  const failure: TokenFailure = { code, detail };
  refusedTokens.set(failure, token);
  return failure;
}

/**
 * The token a failure refused, when it was refused after its signature (and its issuer, audience and type) were
 * verified: revoked, expired, past its issuer's maximum age, or exchanged for a key that can no longer be used. Its
 * claims are its trusted issuer's, so its refusal's event may name it (its subject, or its key). `undefined` for any
 * other failure: a token whose signature was not verified is its sender's text, and names no one.
 */
export function refusedToken(failure: TokenFailure): VerifiedToken | undefined {
  return refusedTokens.get(failure);
}

/** Marks `failure` as the refusal of the verified `token` (a token exchanged for a key that can no longer be used). */
export function refusalOfToken(failure: TokenFailure, token: VerifiedToken): TokenFailure {
  return refusalOf(failure.code, failure.detail, token);
}

/** The reason given for an `iss` no trusted issuer has, whether keyward or jose (one trusted issuer) finds it. */
const UNTRUSTED_ISSUER = "The token's issuer is not trusted.";

/** Thrown by a guarded key resolver for a header keyward refuses; jose lets it through unchanged. */
class HeaderRefused extends Error {
  readonly code = 'KEYWARD_HEADER_REFUSED';
}

/**
 * Wraps an issuer's key resolver so that the header jose has just parsed is checked (`none`, embedded keys, key
 * URLs) before any key is looked for. The header is decoded once, by jose.
 */
function guardedKey(key: JWTVerifyGetKey): JWTVerifyGetKey {
  return (header, token) => {
    const refusal = headerRefusal(header);
    if (refusal !== undefined) throw new HeaderRefused(refusal);
    return key(header, token);
  };
}

/** Translates whatever jose throws into a failure; nothing of the error's message reaches the client. */
export function joseFailure(error: unknown): TokenFailure {
  const code = (error as { code?: unknown } | null)?.code;
  const claim = (error as { claim?: unknown } | null)?.claim;
  const reason = (error as { reason?: unknown } | null)?.reason;
  switch (code) {
    case 'KEYWARD_HEADER_REFUSED':
      return invalid((error as HeaderRefused).message);
    case 'ERR_JWT_EXPIRED':
      return { code: 'TOKEN_EXPIRED', detail: claim === 'iat' ? 'The token is too old.' : 'The token has expired.' };
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const name = typeof claim === 'string' && /^[A-Za-z0-9_.:-]{1,100}$/.test(claim) ? claim : 'a';
      if (reason === 'missing') return invalid(`The token has no "${name}" claim.`);
      // Not a number (`"nbf": "1700000000"`): the claim is malformed, not a moment the token is refused at.
      if (reason === 'invalid') return invalid(`The token's "${name}" claim is not accepted.`);
      if (name === 'iss') return invalid(UNTRUSTED_ISSUER);
      if (name === 'nbf') return invalid('The token is not yet valid.');
      if (name === 'iat') return invalid('The token was issued in the future.');
      return invalid(`The token's "${name}" claim is not accepted.`);
    }
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return invalid(ALG_NOT_ALLOWED);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return invalid("The token's signature is not valid.");
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return invalid("No key of the token's issuer matches the token.");
    default:
      return invalid('The token is not valid.');
  }
}

/**
 * jose's options for one issuer at time `now`, every member always present (absent ones `undefined`, which jose
 * treats as not given), so each call's object has the same hidden class. A spread of prebuilt options did not: its
 * copies got classes of their own, and jose's reads of them went megamorphic (+16k instructions per request).
 */
function joseOptions(issuer: IssuerConfig, now: number): JWTVerifyOptions {
  return {
    algorithms: issuer.algorithms as string[],
    issuer: issuer.issuer,
    audience: issuer.audience as string[] | undefined,
    typ: issuer.typ,
    // Not jose's: it refuses an `iat` even a second ahead of the clock past `clockTolerance` when a maximum age is set
    // (see `verifyFully`, which checks the age, and `iat` ahead with at least a minute of leeway, either way).
    maxTokenAge: undefined,
    clockTolerance: issuer.clockTolerance,
    requiredClaims: issuer.requiredClaims as string[],
    currentDate: new Date(now),
  };
}

/** The least leeway for a token's `iat` ahead of our clock, in seconds (see `verifyFully`). */
const IAT_LEEWAY_S = 60;

/** The most keys of one set a token is tried against when its `kid` (or its lack of one) names several. */
const MAX_CANDIDATES = 8;

/**
 * The payload of a token whose `kid`, or lack of one, matches several keys of a key set (two keys without `kid` while
 * an issuer rotates): jose leaves those to its caller, as the candidates of its error, so each is tried in turn — at
 * most {@link MAX_CANDIDATES}, so a token costs a bounded number of signature checks. Rejects with the first error
 * other than a wrong signature (an expired token signed by a candidate), else a wrong signature.
 */
async function verifyWithCandidates(token: string, multiple: unknown, options: JWTVerifyOptions): Promise<JWTPayload> {
  let last: unknown = multiple;
  let tried = 0;
  for await (const key of multiple as AsyncIterable<webcrypto.CryptoKey>) {
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw error;
      last = error;
    }
    if (++tried >= MAX_CANDIDATES) break;
  }
  throw last;
}

/** One trusted issuer as the verifier uses it: its config and its guarded key resolver. */
interface Trusted {
  readonly config: IssuerConfig;
  readonly key: JWTVerifyGetKey;
}

interface CacheEntry extends VerifiedToken {
  readonly until: number;
}

/**
 * Freezes a principal just built by `tokenPrincipal` (scopes and metadata too), so the requests of one cached token
 * can share it and no handler can change what a later request sees. Metadata values that are objects are the
 * claims' own, so they are copied before being frozen; the principal's own objects are frozen in place.
 */
function frozenPrincipal(principal: Principal): Principal {
  const metadata = principal.metadata as Record<string, unknown>;
  for (const name in metadata) {
    const v = metadata[name];
    if (v !== null && typeof v === 'object') metadata[name] = frozenCopy(v);
  }
  Object.freeze(metadata);
  Object.freeze(principal.scopes);
  return Object.freeze(principal);
}

/**
 * Builds the verifier: size first, the cache of verified tokens, the shape, then the issuer named by `iss` and only
 * its keys (with one trusted issuer, that issuer: the payload is not decoded twice), jose's `jwtVerify` with that
 * issuer's algorithms and claim checks and a key resolver that refuses key-carrying headers, then the subject and
 * revocation.
 * Revocation is checked on every call, cached or not. A cached token is answered synchronously when the store
 * answers synchronously (the memory store): the cached entry, its frozen principal shared, nothing allocated. Any
 * other store's answer is awaited at most `storeTimeoutMs` (the `storeTimeout` option), whatever its client's own
 * settings; a late answer is a store failure (401 is never given for want of an answer: 503 `STORE_UNAVAILABLE`).
 */
export function createVerifier(config: TokenConfig, revocation: RevocationStore, clock: Clock, events: EventBus, storeTimeoutMs = 500): TokenVerifier {
  const cache = config.cache && config.cache.max > 0 ? new LruCache<string, CacheEntry>(config.cache.max, config.cache.ttlMs, clock) : undefined;
  const cacheTtlMs = config.cache ? config.cache.ttlMs : 0;
  const syncStore = answersSynchronously(revocation) ? revocation : undefined;

  const storeFailed = (error: unknown): TokenFailure => {
    events.emit({ type: 'store.error', reason: 'REVOCATION_STORE_FAILED', data: { message: failureMessage(error) } });
    return { code: 'STORE_UNAVAILABLE', detail: 'The revocation list is unavailable.' };
  };
  const revocationTimeout = () => new KeywardError('STORE_TIMEOUT', `the revocation list did not answer within ${storeTimeoutMs} ms`);
  /** A revoked token's refusal (its own failure object, naming the token: see {@link refusedToken}), else nothing. */
  const judged = (isRevoked: boolean, verified: VerifiedToken): TokenFailure | undefined => (isRevoked ? refusalOf('TOKEN_INVALID', 'The token has been revoked.', verified) : undefined);

  /** The revocation failure of a verified token, if any: at once from a synchronous store, a promise otherwise. */
  function revoked(verified: VerifiedToken, now: number): TokenFailure | undefined | Promise<TokenFailure | undefined> {
    const jti = verified.principal.keyId;
    if (jti === undefined) return undefined;
    let answer: boolean | Promise<boolean>;
    try {
      answer = syncStore ? syncStore.isRevokedSync(jti, now) : withDeadline(() => revocation.isRevoked(jti, now), storeTimeoutMs, revocationTimeout);
    } catch (error) {
      return storeFailed(error);
    }
    // No function made for the synchronous answer: this runs on every request of a token with a `jti`.
    if (isPromise<boolean>(answer)) return Promise.resolve(answer).then((isRevoked) => judged(isRevoked, verified), storeFailed);
    return judged(answer, verified);
  }

  const trusted = new Map<string, Trusted>();
  for (const [iss, issuer] of config.issuers) {
    // A remote set reports each failed fetch once (it may go on verifying with the last set it fetched meanwhile).
    const key = typeof issuer.key === 'function' ? issuer.key : remoteKeySet(issuer.key, { clock, onUnavailable: () => events.emit({ type: 'store.error', reason: 'JWKS_UNAVAILABLE', data: { issuer: iss } }) });
    trusted.set(iss, { config: issuer, key: guardedKey(key) });
  }
  // With one trusted issuer the token's payload is not decoded before jose: jose refuses any other `iss`.
  const only = trusted.size === 1 ? [...trusted.values()][0] : undefined;

  async function verifyFully(token: string, now: number, cacheKey: string, trust: Trusted): Promise<VerifiedToken | TokenFailure> {
    const issuer = trust.config;
    let payload: JWTPayload;
    try {
      const options = joseOptions(issuer, now);
      try {
        ({ payload } = await jwtVerify(token, trust.key, options));
      } catch (error) {
        // Several keys match the token's kid (or its lack of one): jose hands them over in its error (no extra promise
        // on the common path).
        if ((error as { code?: unknown } | null)?.code !== 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw error;
        payload = await verifyWithCandidates(token, error, options);
      }
    } catch (error) {
      const failure = joseFailure(error);
      // jose checks `exp` (and a maximum age) only once the signature, `iss`, `aud` and `typ` passed: its payload is the issuer's.
      const payload = failure.code === 'TOKEN_EXPIRED' ? (error as { payload?: unknown }).payload : undefined;
      const principal = payload !== null && typeof payload === 'object' ? tokenPrincipal(payload as JWTPayload, issuer.claims) : undefined;
      return principal ? refusalOf(failure.code, failure.detail, { principal, claims: payload as JWTPayload }) : failure;
    }
    // jose checks `iat` only against a maximum age: a token dated later than now is refused here either way. `iat` is
    // informational (RFC 7519 §4.1.6) and an issuer's clock may run a little ahead of ours, so the leeway is at least
    // a minute: a token issued a second ago by a fast clock must not be refused, one dated an hour ahead is forged or broken.
    if (typeof payload.iat === 'number' && payload.iat > now / 1000 + Math.max(issuer.clockTolerance, IAT_LEEWAY_S)) return invalid('The token was issued in the future.');
    // The maximum age, as jose reckons it (whole seconds, the tolerance added); `iat` is required then (requiredClaims).
    const principal = tokenPrincipal(payload, issuer.claims);
    if (issuer.maxTokenAge !== undefined && Math.floor(now / 1000) - (payload.iat as number) - issuer.clockTolerance > issuer.maxTokenAge) {
      const failure: TokenFailure = { code: 'TOKEN_EXPIRED', detail: 'The token is too old.' };
      return principal ? refusalOf(failure.code, failure.detail, { principal, claims: payload }) : failure;
    }
    if (!principal) return invalid('The token has no usable "sub" claim.');
    // A token is revoked by its `jti`: one whose `jti` could never be revoked (not a string of 1–256 storable
    // characters, or one holding a key or a JWT, as tokens.revoke() refuses) is refused rather than accepted beyond
    // the reach of a revocation.
    if (payload.jti !== undefined && (principal.keyId === undefined || !isStorableText(principal.keyId) || redactCredentials(principal.keyId) !== principal.keyId)) return invalid('The token\'s "jti" claim is not accepted.');
    // The claims are frozen too (jose's own parse, no copy needed): a caller of `kw.tokens.verify()` holds the cached
    // entry's claims, and the requests after it read them (`iss` and `client_id` tie an exchanged token to its key).
    const verified: VerifiedToken = { principal: frozenPrincipal(principal), claims: deepFreeze(payload) };
    const judgement = revoked(verified, now); // awaited only when the store answers later: a microtask spared
    const failure = isPromise<TokenFailure | undefined>(judgement) ? await judgement : judgement;
    if (failure) return failure;
    if (cache) {
      let until = typeof payload.exp === 'number' ? payload.exp * 1000 : now + cacheTtlMs;
      if (issuer.maxTokenAge !== undefined && typeof payload.iat === 'number') until = Math.min(until, (payload.iat + issuer.maxTokenAge) * 1000);
      if (until > now) cache.set(cacheKey, Object.freeze({ principal: verified.principal, claims: payload, until }), until - now);
    }
    return verified;
  }

  return function verify(token, now) {
    if (token.length > config.maxTokenLength) return invalid('The token is too large.');
    let cacheKey = '';
    if (cache) {
      cacheKey = sha256(token, 'latin1'); // 32 characters: the cheapest map key
      const hit = cache.get(cacheKey);
      if (hit && hit.until > now) {
        const failure = revoked(hit, now);
        return isPromise<TokenFailure | undefined>(failure) ? Promise.resolve(failure).then((f) => f ?? hit) : (failure ?? hit);
      }
    }

    if (!hasJwsShape(token)) return invalid(MALFORMED);
    if (only) return verifyFully(token, now, cacheKey, only);
    const payload = unverifiedPayload(token);
    if (!payload) return invalid(MALFORMED);
    const iss = payload['iss'];
    const trust = typeof iss === 'string' ? trusted.get(iss) : undefined;
    if (!trust) return invalid(UNTRUSTED_ISSUER);
    return verifyFully(token, now, cacheKey, trust);
  };
}
