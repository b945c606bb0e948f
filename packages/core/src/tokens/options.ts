import type { KeyObject } from 'node:crypto';
import type { RevocationStore } from './revocation-store';

/** A JSON Web Key as accepted in options (public for verification, private for signing). */
export type JwkInput = Readonly<Record<string, unknown>>;

/**
 * How token claims become a {@link Principal}. Claim names, not values.
 *
 * @example
 * ```ts
 * { scopes: ['scp'], owner: 'org_id', plan: 'tier', metadata: ['email'] }
 * ```
 */
export interface ClaimMappingOptions {
  /**
   * Claims carrying the scopes, tried in order; the first present wins. A string claim is split on spaces
   * (`scope`), an array claim is taken as is (`scp`, `permissions`). Default `['scope', 'scp', 'permissions']`.
   */
  scopes?: string | readonly string[];
  /** Claim carrying the owner (account, team). Default: none, so the owner is the subject. */
  owner?: string;
  /** Claim carrying the plan tier. Default: none. */
  plan?: string;
  /** Claims copied into `principal.metadata`. Default none. */
  metadata?: readonly string[];
}

/** Caching of a remote key set (jose's `createRemoteJWKSet`). */
export interface RemoteJwksOptions {
  /** How long a fetched key set is used before it is fetched again (default `'10m'`). */
  maxAge?: number | string;
  /** Least time between two fetches, e.g. when an unknown `kid` arrives (default `'30s'`). */
  cooldown?: number | string;
  /** Fetch timeout, from 1 ms to 1 min (default `'5s'`): the whole fetch, the body's last byte included. */
  timeout?: number | string;
  /**
   * Largest key set body read, in bytes, from 1024 to 16 MiB (default 512 KiB; a provider's set is a few KiB). A larger
   * body is dropped as soon as it passes the bound (or at once when its `Content-Length` does) and counts as a failed
   * fetch, so a hostile or broken provider cannot make the process buffer gigabytes.
   */
  maxBytes?: number;
  /**
   * How long past `maxAge` the last key set fetched still verifies tokens while the set cannot be fetched (default
   * `'1h'`; `0`: refuse every token once `maxAge` has passed). A failed fetch is retried after `cooldown`, not sooner.
   */
  staleIfError?: number | string;
}

/**
 * One trusted issuer: its `iss`, its keys (exactly one of `secret`/`secretEnv`, `publicKey`, `jwks`, `jwksUri`) and
 * what its tokens must carry. A token is verified only with the keys of the issuer its `iss` names.
 */
export interface TrustedIssuerOptions {
  /** The exact `iss` value. Required. */
  issuer: string;
  /** Accepted `aud` value(s). Without it the audience is not checked (warns once). */
  audience?: string | readonly string[];
  /** HMAC secret (at least 32 bytes for HS256). Prefer `secretEnv`. */
  secret?: string;
  /** Environment variable holding the HMAC secret; `<NAME>_FILE` may name a file instead. */
  secretEnv?: string;
  /** Public key: SPKI or certificate PEM, a public JWK, or a `KeyObject`. */
  publicKey?: string | JwkInput | KeyObject;
  /** Environment variable holding the public key PEM or JWK JSON; `<NAME>_FILE` may name a file instead. */
  publicKeyEnv?: string;
  /** A local key set `{ keys: [...] }` of public JWKs, selected by `kid`. */
  jwks?: { readonly keys: readonly JwkInput[] };
  /** A remote key set URL (https, or http on loopback), fetched and cached by jose. */
  jwksUri?: string | URL;
  /** Caching of `jwksUri`. */
  jwksCache?: RemoteJwksOptions;
  /**
   * Accepted algorithms. Required when the key type admits several (secrets, RSA keys, key sets); `none` never.
   * Default for an EC key: its curve's algorithm; for Ed25519: `EdDSA`, `Ed25519`.
   */
  algorithms?: readonly string[];
  /** Required `typ` header, e.g. `at+jwt` (RFC 9068). */
  typ?: string;
  /** Require an `exp` claim (default true). */
  requireExp?: boolean;
  /** Refuse tokens whose `iat` is older than this (e.g. `'1h'`); requires `iat`. */
  maxTokenAge?: number | string;
  /** Leeway for `exp`, `nbf` and `iat` (default 0; e.g. `'30s'`). */
  clockTolerance?: number | string;
  /** Further claims that must be present. */
  requiredClaims?: readonly string[];
  /** Claims to principal mapping. */
  claims?: ClaimMappingOptions;
}

/** One signing key. The first key of `signing.keys` signs; all of them verify (rotation). */
export interface SigningKeyOptions {
  /** Key id, sent as the `kid` header and in the JWKS. Default: a JWK's own `kid`, else the RFC 7638 thumbprint (asymmetric keys). */
  kid?: string;
  /** Algorithm: default a JWK's own `alg`, else `ES256` (P-256), `EdDSA` (Ed25519), `RS256` (RSA), `HS256` (secret). */
  alg?: string;
  /** Private key: PKCS#8 PEM, a private JWK, or a `KeyObject`. Prefer `privateKeyEnv`. */
  privateKey?: string | JwkInput | KeyObject;
  /** Environment variable holding the private key PEM or JWK JSON; `<NAME>_FILE` may name a file instead. */
  privateKeyEnv?: string;
  /** HMAC secret (at least 32 bytes). Prefer `secretEnv`. HMAC keys never appear in the JWKS. */
  secret?: string;
  /** Environment variable holding the HMAC secret; `<NAME>_FILE` may name a file instead. */
  secretEnv?: string;
}

/** Issuing tokens (`kw.tokens.issue`) and the OAuth 2.0 client-credentials exchange. */
export interface SigningOptions {
  /** The `iss` of issued tokens. Required. Tokens from this issuer are also accepted by the pipeline. */
  issuer: string;
  /** Default `aud` of issued tokens; also the audience required when verifying them. */
  audience?: string | readonly string[];
  /**
   * Signing keys, first signs. Default: the key in `KEYWARD_SIGNING_KEY` (or the file in `KEYWARD_SIGNING_KEY_FILE`);
   * without one, an ephemeral ES256 key is generated (warns once: tokens then die with the process).
   */
  keys?: readonly SigningKeyOptions[];
  /** Default lifetime of issued tokens (default `'15m'`). */
  ttl?: number | string;
  /** Longest lifetime `issue()` accepts (default `'24h'`). */
  maxTtl?: number | string;
  /** `typ` header of issued tokens (default `'at+jwt'`), required when verifying them. */
  typ?: string;
  /** Lifetime of tokens from the client-credentials exchange (default: `ttl`); never beyond the key's expiry. */
  exchangeTtl?: number | string;
  /**
   * Claims mapping when verifying our own tokens (default owner `owner`, plan `plan`, metadata `client_id` and
   * `restrictions`). Scopes are read from `scope`, where `issue()` writes them, before any claim named here.
   */
  claims?: ClaimMappingOptions;
  /** Leeway for `exp`, `nbf` and `iat` when verifying our own tokens (default 0). */
  clockTolerance?: number | string;
}

/**
 * The `tokens` option of `createKeyward`: trusted issuers (verification), signing (issuing, exchange, JWKS),
 * revocation and the verified-token cache.
 *
 * @example
 * ```ts
 * createKeyward({
 *   tokens: {
 *     issuers: [{ issuer: 'https://auth.example.com/', audience: 'api', jwksUri: 'https://auth.example.com/.well-known/jwks.json', algorithms: ['RS256'] }],
 *     signing: { issuer: 'https://api.example.com', audience: 'api' },
 *   },
 * });
 * ```
 */
export interface TokenOptions {
  /** Issuers whose tokens are accepted. */
  issuers?: readonly TrustedIssuerOptions[];
  /** Issuing, the token endpoint and the JWKS. */
  signing?: SigningOptions;
  /** Where revoked `jti`s live (default: in memory, this process only). */
  revocationStore?: RevocationStore;
  /**
   * How long a revocation is kept when `revoke()` is not told the token's expiry (default `'24h'`); never less than a
   * token can live here (`signing.maxTtl`, an issuer's `maxTokenAge`), so a revoked token does not work again before its `exp`;
   * 100 years (for good) while a trusted issuer has no `maxTokenAge`, whose tokens may live any length of time.
   */
  revocationTtl?: number | string;
  /**
   * Cache of verified tokens, keyed by a hash of the token, never beyond its `exp` (revocation is still checked on
   * every request): entries (default 10,000) and longest life (default `'5m'`). `false` disables it.
   */
  cache?: { max?: number; ttl?: number | string } | false;
  /** Longest token accepted, and issued, in characters (default 8192): `issue()` throws `TOKEN_TOO_LARGE` past it. */
  maxTokenLength?: number;
}
