import type { Endpoint, EndpointResponse } from '../endpoints/endpoint';
import type { SigningKey } from './config';
import { publicJwk } from './key-material';

/** One public key of a {@link PublicJwks}: an EC, OKP (Ed25519) or RSA public key, for signatures. */
export interface PublicJwk {
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  kid?: string;
  alg: string;
  use: 'sig';
}

/**
 * A JSON Web Key Set of public keys: jose's `JSONWebKeySet`, so it can be handed to `createLocalJWKSet` as it is.
 * Each call of `kw.tokens.jwks()` returns a copy of its own.
 */
export interface PublicJwks {
  keys: PublicJwk[];
}

/** The public JWKS of the signing keys, in order (HMAC secrets never appear). */
export function buildJwks(keys: readonly SigningKey[]): PublicJwks {
  return {
    keys: keys
      .filter((k) => k.kind !== 'secret')
      .map((k): PublicJwk => {
        const jwk = publicJwk(k.key);
        return { ...jwk, kty: jwk.kty!, ...(k.kid !== undefined ? { kid: k.kid } : {}), alg: k.alg, use: 'sig' };
      }),
  };
}

/** A copy of `jwks` its caller may change freely. */
export function copyJwks(jwks: PublicJwks): PublicJwks {
  return { keys: jwks.keys.map((k) => ({ ...k })) };
}

/**
 * The JWKS endpoint (`GET`/`HEAD`): the public signing keys, cacheable for five minutes. Mount it where your
 * clients expect it, e.g. `/.well-known/jwks.json`.
 */
export function jwksEndpoint(jwks: PublicJwks): Endpoint {
  const body = JSON.stringify(jwks);
  return async (request): Promise<EndpointResponse> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return { status: 405, headers: { Allow: 'GET, HEAD', 'Content-Type': 'application/problem+json' }, body: JSON.stringify({ type: 'about:blank', title: 'Method Not Allowed', status: 405 }) };
    }
    return { status: 200, headers: { 'Content-Type': 'application/jwk-set+json', 'Cache-Control': 'public, max-age=300' }, body };
  };
}
