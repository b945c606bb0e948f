import type { Feature } from '../pipeline/context';
import type { FeatureFactory } from '../features/registry';
import type { Endpoint } from '../endpoints/endpoint';
import { KeywardError } from '../errors';
import { parseTokenOptions } from './config';
import { createVerifier, type TokenFailure, type VerifiedToken } from './verifier';
import { createIssuer, type IssuedToken, type IssueTokenInput } from './issuer';
import { buildJwks, jwksEndpoint, type PublicJwks } from './jwks';
import { tokenEndpoint } from './exchange';
import { requestIdFrom } from '../util/request-id';
import { authFailureGuardOf, type AuthFailureGuard } from '../limits/auth-failures';
import { socketAddress } from '../pipeline/address';
import { looksLikeJwt } from './shape';
import { MemoryRevocationStore } from './memory-revocation-store';
import { isPromise } from '../util/maybe';

const KEY_GONE: TokenFailure = Object.freeze({ code: 'TOKEN_INVALID', detail: 'The API key this token was issued for can no longer be used.' });
const KEY_STORE_DOWN: TokenFailure = Object.freeze({ code: 'STORE_UNAVAILABLE', detail: 'The key store is unavailable.' });

/**
 * Tokens on a keyward instance: `kw.tokens`. Verification runs in the pipeline on its own (a `Bearer` credential
 * with dots is a JWT); this is the rest.
 *
 * @example
 * ```ts
 * const { token, jti } = await kw.tokens.issue({ subject: 'user-42', scopes: ['docs:read'], ttl: '10m' });
 * app.post('/oauth/token', endpoint(kw.tokens.endpoint()));
 * app.get('/.well-known/jwks.json', endpoint(kw.tokens.jwksEndpoint()));
 * await kw.tokens.revoke(jti);
 * ```
 */
export interface TokenApi {
  /** Signs a token with the first signing key (needs `tokens.signing`). Emits `token.issued`. */
  issue(input: IssueTokenInput): Promise<IssuedToken>;
  /** Verifies a token as the pipeline does (for WebSockets, queues, …). Never throws for a bad token. */
  verify(token: string): Promise<VerifiedToken | TokenFailure>;
  /**
   * Revokes a token id until `until` (Date or ms; default now + `tokens.revocationTtl`) — give the token's `exp` so
   * the entry lives exactly as long as the token. Emits `token.revoked`.
   */
  revoke(jti: string, until?: Date | number): Promise<void>;
  /** True when the token id is revoked now. */
  isRevoked(jti: string): Promise<boolean>;
  /** The public JWKS of the signing keys (needs `tokens.signing`). */
  jwks(): PublicJwks;
  /** The JWKS as a core endpoint (`GET`), to mount e.g. at `/.well-known/jwks.json`. */
  jwksEndpoint(): Endpoint;
  /** The OAuth 2.0 client-credentials token endpoint (`POST`), API key in, token out. */
  endpoint(): Endpoint;
}

/** The tokens feature, with its API. */
export interface TokensFeature extends Feature {
  /** The API on its own: its token endpoint does not share failed-auth blocking (see {@link TokensFeature.link}). */
  readonly api: TokenApi;
  /**
   * The API bound to the instance's other features: its token endpoint counts failed client authentications and
   * refuses blocked addresses with the `authFailures` feature's counters, as the pipeline does. `createKeyward` uses
   * this one (`kw.tokens`).
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

/** The `kw.tokens` API of an instance's features (its token endpoint sharing failed-auth blocking with the pipeline). */
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
  const verify = createVerifier(config, revocation, clock, events);
  const signing = config.signing;
  const issue = signing ? createIssuer(signing, clock, events, config.maxTokenLength) : undefined;
  const jwks = signing ? buildJwks(signing.keys) : undefined;

  /**
   * A token this instance exchanged for an API key (its own issuer, a `client_id` claim naming the key) is only as
   * good as that key: revoking, disabling or expiring the key ends its tokens on the next request, on every instance
   * that hears the change (the same invalidation and cache bound as the key itself).
   */
  const withKeyStanding = (result: VerifiedToken | TokenFailure, now: number): VerifiedToken | TokenFailure | Promise<VerifiedToken | TokenFailure> => {
    if (!signing || !('principal' in result)) return result;
    const clientId = result.claims['client_id'];
    if (typeof clientId !== 'string' || result.claims.iss !== signing.issuer) return result;
    let standing: boolean | Promise<boolean>;
    try {
      standing = deps.keys.standing(clientId, now);
    } catch {
      return KEY_STORE_DOWN;
    }
    return isPromise<boolean>(standing) ? Promise.resolve(standing).then((ok) => (ok ? result : KEY_GONE), () => KEY_STORE_DOWN) : standing ? result : KEY_GONE;
  };
  const verifyWithKey = (token: string, now: number): VerifiedToken | TokenFailure | Promise<VerifiedToken | TokenFailure> => {
    const result = verify(token, now);
    return isPromise<VerifiedToken | TokenFailure>(result) ? Promise.resolve(result).then((r) => withKeyStanding(r, now)) : withKeyStanding(result, now);
  };

  // The pipeline's address and request-id rules (the options were validated by createKeyward before any feature).
  const resolveAddress = deps.resolveAddress ?? socketAddress;
  const requestId = deps.requestId ?? requestIdFrom('x-request-id');
  const endpoint = (authFailures: AuthFailureGuard | undefined) =>
    issue && signing
      ? tokenEndpoint({ keys: deps.keys, issue, ttlMs: signing.exchangeTtlMs, clock, events, realm: deps.challenge.realm, resolveAddress, requestId, ...(authFailures ? { authFailures } : {}) })
      : notConfigured('token issuing');

  const api: TokenApi = {
    issue: (input) => (issue ? issue(input) : notConfigured('token issuing')),
    verify: async (token) => (typeof token === 'string' ? verifyWithKey(token, clock()) : { code: 'TOKEN_INVALID', detail: 'The token is not valid.' }),
    async revoke(jti, until) {
      if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw new TypeError('keyward: "jti" must be a non-empty string of at most 256 characters');
      const untilMs = until === undefined ? clock() + config.revocationTtlMs : until instanceof Date ? until.getTime() : until;
      if (typeof untilMs !== 'number' || !Number.isFinite(untilMs)) throw new TypeError('keyward: "until" must be a Date or a time in ms since the epoch');
      await revocation.revoke(jti, untilMs);
      events.emit({ type: 'token.revoked', principalType: 'token', data: { jti, until: new Date(untilMs).toISOString() } });
    },
    isRevoked: (jti) => revocation.isRevoked(jti, clock()),
    jwks: () => jwks ?? notConfigured('token issuing'),
    jwksEndpoint: () => (jwks ? jwksEndpoint(jwks) : notConfigured('token issuing')),
    endpoint: () => endpoint(undefined),
  };

  return {
    name: 'tokens',
    api,
    link(features) {
      const authFailures = authFailureGuardOf(features);
      return authFailures ? { ...api, endpoint: () => endpoint(authFailures) } : api;
    },
    authenticators: [
      {
        name: 'jwt',
        accepts: (credential) => credential.source === 'authorization' && credential.scheme === 'bearer' && looksLikeJwt(credential.value),
        // A verified token is itself a success outcome (its frozen principal; the pipeline reads nothing else), and a
        // failure is a denial: a cached token with the memory revocation store is answered at once, no promise made.
        authenticate: (credential, ctx) => verifyWithKey(credential.value, ctx.now),
      },
    ],
  } satisfies TokensFeature;
};
