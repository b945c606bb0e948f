import { createHash } from 'node:crypto';
import { jwtVerify, type JWTPayload } from 'jose';
import type { Principal } from '../model';
import type { EventBus } from '../events/bus';
import type { Clock } from '../util/clock';
import { LruCache } from '../util/lru';
import type { TokenConfig } from './config';
import type { RevocationStore } from './revocation-store';
import { decodeToken } from './shape';
import { tokenPrincipal } from './principal';

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

/** Verifies a token at time `now` (ms). Never throws for anything in the token. */
export type TokenVerifier = (token: string, now: number) => Promise<VerifiedToken | TokenFailure>;

const invalid = (detail: string): TokenFailure => ({ code: 'TOKEN_INVALID', detail });

/** Translates whatever jose throws into a failure; nothing of the error's message reaches the client. */
export function joseFailure(error: unknown): TokenFailure {
  const code = (error as { code?: unknown } | null)?.code;
  const claim = (error as { claim?: unknown } | null)?.claim;
  const reason = (error as { reason?: unknown } | null)?.reason;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return { code: 'TOKEN_EXPIRED', detail: claim === 'iat' ? 'The token is too old.' : 'The token has expired.' };
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const name = typeof claim === 'string' && /^[A-Za-z0-9_.:-]{1,100}$/.test(claim) ? claim : 'a';
      if (reason === 'missing') return invalid(`The token has no "${name}" claim.`);
      if (name === 'nbf') return invalid('The token is not yet valid.');
      if (name === 'iat') return invalid('The token was issued in the future.');
      return invalid(`The token's "${name}" claim is not accepted.`);
    }
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return invalid("The token's algorithm is not allowed.");
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return invalid("The token's signature is not valid.");
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return invalid("No key of the token's issuer matches the token.");
    default:
      return invalid('The token is not valid.');
  }
}

interface CacheEntry extends VerifiedToken {
  readonly until: number;
}

/**
 * Builds the verifier: size and shape first, the cache of verified tokens, then the issuer named by `iss` and only
 * its keys, jose's `jwtVerify` with that issuer's algorithms and claim checks, then the subject and revocation.
 * Revocation is checked on every call, cached or not.
 */
export function createVerifier(config: TokenConfig, revocation: RevocationStore, clock: Clock, events: EventBus): TokenVerifier {
  const cache = config.cache && config.cache.max > 0 ? new LruCache<string, CacheEntry>(config.cache.max, config.cache.ttlMs, clock) : undefined;
  const cacheTtlMs = config.cache ? config.cache.ttlMs : 0;

  async function revoked(verified: VerifiedToken, now: number): Promise<TokenFailure | undefined> {
    const jti = verified.principal.keyId;
    if (jti === undefined) return undefined;
    try {
      if (await revocation.isRevoked(jti, now)) return invalid('The token has been revoked.');
    } catch (error) {
      events.emit({ type: 'store.error', reason: 'REVOCATION_STORE_FAILED', data: { message: error instanceof Error ? error.message : 'unknown' } });
      return { code: 'STORE_UNAVAILABLE', detail: 'The revocation list is unavailable.' };
    }
    return undefined;
  }

  return async function verify(token, now) {
    if (token.length > config.maxTokenLength) return invalid('The token is too large.');
    const cacheKey = cache ? createHash('sha256').update(token).digest('base64') : '';
    const hit = cache?.get(cacheKey);
    if (hit && hit.until > now) return (await revoked(hit, now)) ?? hit;

    const decoded = decodeToken(token);
    if ('reason' in decoded) return invalid(decoded.reason);
    const iss = decoded.payload['iss'];
    const issuer = typeof iss === 'string' ? config.issuers.get(iss) : undefined;
    if (!issuer) return invalid("The token's issuer is not trusted.");

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, issuer.key, {
        algorithms: issuer.algorithms as string[],
        issuer: issuer.issuer,
        ...(issuer.audience ? { audience: issuer.audience as string[] } : {}),
        ...(issuer.typ ? { typ: issuer.typ } : {}),
        ...(issuer.maxTokenAge !== undefined ? { maxTokenAge: issuer.maxTokenAge } : {}),
        clockTolerance: issuer.clockTolerance,
        requiredClaims: issuer.requiredClaims as string[],
        currentDate: new Date(now),
      }));
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code === 'ERR_JWKS_TIMEOUT' || (code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set/.test((error as Error).message)) || (error instanceof TypeError && /fetch/i.test(error.message))) {
        events.emit({ type: 'store.error', reason: 'JWKS_UNAVAILABLE', data: { issuer: issuer.issuer } });
      }
      return joseFailure(error);
    }
    const principal = tokenPrincipal(payload, issuer.claims);
    if (!principal) return invalid('The token has no usable "sub" claim.');
    const verified: VerifiedToken = { principal, claims: payload };
    const failure = await revoked(verified, now);
    if (failure) return failure;
    if (cache) {
      let until = typeof payload.exp === 'number' ? payload.exp * 1000 : now + cacheTtlMs;
      if (issuer.maxTokenAge !== undefined && typeof payload.iat === 'number') until = Math.min(until, (payload.iat + issuer.maxTokenAge) * 1000);
      if (until > now) cache.set(cacheKey, { ...verified, until }, until - now);
    }
    return verified;
  };
}
