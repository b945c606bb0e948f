import { createHash, createPrivateKey, createPublicKey, createSecretKey, KeyObject, type JsonWebKey } from 'node:crypto';
import { readSecret } from '../util/secret';

/** What a key admits: the algorithm family, decided from the key itself. */
export type KeyKind = 'secret' | 'rsa' | 'rsa-pss' | 'ec-p256' | 'ec-p384' | 'ec-p521' | 'ed25519';

/** Algorithms each kind of key may be used with. `none` is in no list, ever. */
export const ALGORITHMS_BY_KIND: Readonly<Record<KeyKind, readonly string[]>> = {
  secret: ['HS256', 'HS384', 'HS512'],
  rsa: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  'rsa-pss': ['PS256', 'PS384', 'PS512'],
  'ec-p256': ['ES256'],
  'ec-p384': ['ES384'],
  'ec-p521': ['ES512'],
  ed25519: ['EdDSA', 'Ed25519'],
};

/** Every asymmetric algorithm keyward verifies. */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** Smallest HMAC secret per algorithm, in bytes (RFC 7518 §3.2: at least the hash size). */
const MIN_SECRET_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };

const MIN_RSA_BITS = 2048;

/** The kind of a key object, or a TypeError naming the option. */
export function kindOf(key: KeyObject, option: string): KeyKind {
  if (key.type === 'secret') return 'secret';
  const t = key.asymmetricKeyType;
  const d = key.asymmetricKeyDetails ?? {};
  if (t === 'rsa' || t === 'rsa-pss') {
    if ((d.modulusLength ?? 0) < MIN_RSA_BITS) throw new TypeError(`keyward: option "${option}" is an RSA key of ${d.modulusLength ?? 0} bits; at least ${MIN_RSA_BITS} are required`);
    return t;
  }
  if (t === 'ec') {
    if (d.namedCurve === 'prime256v1') return 'ec-p256';
    if (d.namedCurve === 'secp384r1') return 'ec-p384';
    if (d.namedCurve === 'secp521r1') return 'ec-p521';
    throw new TypeError(`keyward: option "${option}" uses an unsupported elliptic curve (use P-256, P-384 or P-521)`);
  }
  if (t === 'ed25519') return 'ed25519';
  throw new TypeError(`keyward: option "${option}" is not a signing key keyward supports (RSA ≥ 2048 bits, EC P-256/384/521, Ed25519)`);
}

/**
 * Checks an algorithm allow-list against a key kind. Without a list, the default is the kind's algorithms when they
 * are one algorithm (EC, Ed25519); otherwise a list is required.
 */
export function checkAlgorithms(given: unknown, kinds: readonly KeyKind[] | 'asymmetric', option: string): string[] {
  const admitted = kinds === 'asymmetric' ? ASYMMETRIC_ALGORITHMS : [...new Set(kinds.flatMap((k) => ALGORITHMS_BY_KIND[k]))];
  if (given === undefined) {
    const single = kinds !== 'asymmetric' && kinds.every((k) => k.startsWith('ec-') || k === 'ed25519') && new Set(kinds).size === 1;
    if (single) return [...admitted];
    throw new TypeError(`keyward: option "${option}" is required for this key (it admits several algorithms: ${admitted.join(', ')})`);
  }
  if (!Array.isArray(given) || given.length === 0) throw new TypeError(`keyward: option "${option}" must be a non-empty array of algorithm names`);
  for (const alg of given) {
    if (typeof alg !== 'string' || alg.toLowerCase() === 'none') throw new TypeError(`keyward: option "${option}" may never contain "none"`);
    if (!admitted.includes(alg)) throw new TypeError(`keyward: option "${option}" contains "${alg}", which this key cannot be used with (allowed: ${admitted.join(', ')})`);
  }
  return [...new Set(given as string[])];
}

/** Checks an HMAC secret is long enough for every algorithm it may be used with. */
export function checkSecretLength(key: KeyObject, algorithms: readonly string[], option: string): void {
  const bytes = key.symmetricKeySize ?? 0;
  for (const alg of algorithms) {
    const min = MIN_SECRET_BYTES[alg] ?? 32;
    if (bytes < min) throw new TypeError(`keyward: option "${option}" is ${bytes} bytes; ${alg} needs a secret of at least ${min} bytes`);
  }
}

function parseJwkText(text: string): JsonWebKey | undefined {
  const t = text.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    return JSON.parse(t) as JsonWebKey;
  } catch {
    return undefined;
  }
}

/**
 * The `kid` and `alg` members of a key given as a JWK (an object or its JSON text), unchecked: what the key's author
 * named it and meant it for (`keyward secret --id` writes both). Nothing for a PEM or a `KeyObject`.
 */
export function jwkMembers(input: unknown): { kid?: unknown; alg?: unknown } {
  const jwk = typeof input === 'string' ? parseJwkText(input) : input instanceof KeyObject || typeof input !== 'object' || input === null ? undefined : (input as JsonWebKey);
  return jwk === undefined ? {} : { kid: (jwk as { kid?: unknown }).kid, alg: (jwk as { alg?: unknown }).alg };
}

/** Reads a secret (explicit or from `envName` / `envName_FILE`) as a secret key object. */
export function secretKey(explicit: unknown, envName: unknown, option: string, env: NodeJS.ProcessEnv): KeyObject | undefined {
  if (explicit !== undefined && envName !== undefined) throw new TypeError(`keyward: give "${option}" or "${option}Env", not both`);
  if (explicit !== undefined) return createSecretKey(Buffer.from(readSecret(explicit, '', option, {})!, 'utf8'));
  if (envName === undefined) return undefined;
  if (typeof envName !== 'string' || envName.length === 0) throw new TypeError(`keyward: option "${option}Env" must be an environment variable name`);
  const value = readSecret(undefined, envName, `${option}Env`, env);
  if (value === undefined) throw new TypeError(`keyward: option "${option}Env" names ${envName}, which is not set (nor ${envName}_FILE)`);
  return createSecretKey(Buffer.from(value, 'utf8'));
}

/** Reads an asymmetric key (PEM, JWK, JWK JSON or KeyObject, explicit or from the environment). */
export function asymmetricKey(explicit: unknown, envName: unknown, option: string, env: NodeJS.ProcessEnv, type: 'public' | 'private'): KeyObject | undefined {
  if (explicit !== undefined && envName !== undefined) throw new TypeError(`keyward: give "${option}" or "${option}Env", not both`);
  let input: unknown = explicit;
  let name = option;
  if (envName !== undefined) {
    if (typeof envName !== 'string' || envName.length === 0) throw new TypeError(`keyward: option "${option}Env" must be an environment variable name`);
    name = `${option}Env`;
    input = readSecret(undefined, envName, name, env);
    if (input === undefined) throw new TypeError(`keyward: option "${name}" names ${envName}, which is not set (nor ${envName}_FILE)`);
  }
  if (input === undefined) return undefined;
  return toKeyObject(input, name, type);
}

/** Turns a PEM, a JWK (object or JSON text) or a KeyObject into a key object of the given type. */
export function toKeyObject(input: unknown, option: string, type: 'public' | 'private'): KeyObject {
  let key: KeyObject;
  try {
    if (input instanceof KeyObject) {
      key = input;
    } else if (typeof input === 'string') {
      const jwk = parseJwkText(input);
      key = jwk ? fromJwk(jwk, type) : type === 'public' ? createPublicKey(input) : createPrivateKey(input);
    } else if (typeof input === 'object' && input !== null) {
      key = fromJwk(input as JsonWebKey, type);
    } else {
      throw new TypeError('bad type');
    }
  } catch {
    throw new TypeError(`keyward: option "${option}" must be a ${type} key: PEM, JWK or KeyObject`);
  }
  if (type === 'private' && key.type !== 'private') throw new TypeError(`keyward: option "${option}" must be a private key`);
  if (type === 'public') {
    if (key.type === 'secret') throw new TypeError(`keyward: option "${option}" must be a public key, not a secret`);
    if (key.type === 'private') key = createPublicKey(key);
  }
  return key;
}

function fromJwk(jwk: JsonWebKey, type: 'public' | 'private'): KeyObject {
  if (jwk.kty === 'oct') throw new TypeError('symmetric JWK');
  if (type === 'public') {
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
    return createPublicKey({ key: pub, format: 'jwk' });
  }
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

/** The public JWK of a key object with only the members RFC 7517 defines for it. */
export function publicJwk(key: KeyObject): JsonWebKey {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({ format: 'jwk' });
  const out: JsonWebKey = { kty: jwk.kty! };
  for (const m of ['crv', 'x', 'y', 'n', 'e'] as const) if (jwk[m] !== undefined) out[m] = jwk[m];
  return out;
}

/** The RFC 7638 thumbprint of a public key (base64url SHA-256), used as the default `kid`. */
export function thumbprint(key: KeyObject): string {
  const jwk = publicJwk(key);
  const members: Record<string, string[]> = { EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'], RSA: ['e', 'kty', 'n'] };
  const names = members[jwk.kty!] ?? [];
  const json = `{${names.map((n) => `${JSON.stringify(n)}:${JSON.stringify((jwk as Record<string, unknown>)[n])}`).join(',')}}`;
  return createHash('sha256').update(json).digest('base64url');
}
