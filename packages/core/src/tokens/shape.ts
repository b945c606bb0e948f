/** Three base64url segments, the signature not empty (unsecured `none` tokens are refused by shape). */
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Headers that carry key material or key locations. keyward never follows them, and refuses tokens that have them. */
export const FORBIDDEN_HEADERS: readonly string[] = ['jwk', 'jku', 'x5u', 'x5c'];

/** The reason given for a token that is not three base64url segments with JSON objects in the first two. */
export const MALFORMED = 'The token is malformed.';

/** The reason given for an algorithm outside the issuer's allow-list, `none` in any spelling among them. */
export const ALG_NOT_ALLOWED = "The token's algorithm is not allowed.";

/** The reason given for a header that carries keys or key locations. */
const CARRIES_KEYS = 'The token carries keys or key URLs in its header, which are never followed.';

/** True when a credential is meant as a JWT: it contains a dot, which a keyward key never does. */
export function looksLikeJwt(value: string): boolean {
  return value.includes('.');
}

/** True when a token is three base64url segments, none empty. Checked before any decoding or crypto. */
export function hasJwsShape(token: string): boolean {
  return JWS_COMPACT.test(token);
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
 * The unverified payload of a token already known to have the JWS shape, read only to choose the issuer's keys:
 * `undefined` when it is not a JSON object. The header is left to jose, and to {@link headerRefusal} in the key
 * resolver, so it is decoded once.
 */
export function unverifiedPayload(token: string): Readonly<Record<string, unknown>> | undefined {
  const dot1 = token.indexOf('.');
  return segment(token.slice(dot1 + 1, token.indexOf('.', dot1 + 1)));
}

/**
 * Why a protected header is refused before its key is even looked for, or `undefined`: an `alg` that is any case of
 * `none` (jose refuses an algorithm outside the allow-list too; this names the reason) or a header carrying keys
 * or key locations (never followed). Never includes a header value.
 */
export function headerRefusal(header: Readonly<Record<string, unknown>>): string | undefined {
  const alg = header['alg'];
  if (typeof alg !== 'string' || alg.trim().toLowerCase() === 'none') return ALG_NOT_ALLOWED;
  for (const h of FORBIDDEN_HEADERS) {
    if (h in header) return CARRIES_KEYS;
  }
  return undefined;
}
