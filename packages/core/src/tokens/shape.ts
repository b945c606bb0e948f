/** Three base64url segments, the signature not empty (unsecured `none` tokens are refused by shape). */
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Headers that carry key material or key locations. keyward never follows them, and refuses tokens that have them. */
export const FORBIDDEN_HEADERS: readonly string[] = ['jwk', 'jku', 'x5u', 'x5c'];

/** The unverified parts of a token, read only to choose the issuer's keys. */
export interface DecodedToken {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** True when a credential is meant as a JWT: it contains a dot, which a keyward key never does. */
export function looksLikeJwt(value: string): boolean {
  return value.includes('.');
}

function segment(text: string): Record<string, unknown> | undefined {
  if (text.length % 4 === 1) return undefined; // not valid base64url
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  return parsed as Record<string, unknown>;
}

/**
 * Checks a token's shape before any crypto: three base64url segments whose first two are JSON objects, an `alg`
 * that is a string other than any case of `none`, and none of the key-carrying headers. Returns a reason on failure
 * (never the token).
 */
export function decodeToken(token: string): DecodedToken | { readonly reason: string } {
  if (!JWS_COMPACT.test(token)) return { reason: 'The token is malformed.' };
  const dot1 = token.indexOf('.');
  const dot2 = token.indexOf('.', dot1 + 1);
  const header = segment(token.slice(0, dot1));
  const payload = header && segment(token.slice(dot1 + 1, dot2));
  if (!header || !payload) return { reason: 'The token is malformed.' };
  const alg = header['alg'];
  if (typeof alg !== 'string' || alg.trim().toLowerCase() === 'none') return { reason: 'The token\'s algorithm is not allowed.' };
  for (const h of FORBIDDEN_HEADERS) {
    if (h in header) return { reason: 'The token carries keys or key URLs in its header, which are never followed.' };
  }
  return { header, payload };
}
