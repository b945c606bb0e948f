import type { JsonWebKey } from 'node:crypto';
import type { Endpoint, EndpointResponse } from '../endpoints/endpoint';
import type { SigningKey } from './config';
import { publicJwk } from './key-material';

/** A JSON Web Key Set of public keys. */
export interface PublicJwks {
  readonly keys: readonly Readonly<JsonWebKey & { kid?: string; alg: string; use: 'sig' }>[];
}

/** The public JWKS of the signing keys, in order (HMAC secrets never appear). */
export function buildJwks(keys: readonly SigningKey[]): PublicJwks {
  return {
    keys: keys
      .filter((k) => k.kind !== 'secret')
      .map((k) => Object.freeze({ ...publicJwk(k.key), ...(k.kid !== undefined ? { kid: k.kid } : {}), alg: k.alg, use: 'sig' as const })),
  };
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
