import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { JWTVerifyGetKey, JSONWebKeySet } from 'jose' with { 'resolution-mode': 'import' };
import { parseDuration } from '../util/duration';
import { warnOnce } from '../util/warn';
import { readSecret } from '../util/secret';
import { asymmetricKey, checkAlgorithms, checkSecretLength, jwkMembers, kindOf, secretKey, thumbprint, toKeyObject, type KeyKind } from './key-material';
import { localKeySet, staticKeyResolver, type StaticKey } from './key-source';
import type { RemoteJwksConfig } from './remote-key-set';
import type { RevocationStore } from './revocation-store';
import type { ClaimMappingOptions, RemoteJwksOptions, SigningKeyOptions, SigningOptions, TokenOptions, TrustedIssuerOptions } from './options';
import { fieldsOf, optionObject } from '../config/fields';

/** Claims mapping after parsing. */
export interface ClaimMapping {
  readonly scopes: readonly string[];
  readonly owner: string | undefined;
  readonly plan: string | undefined;
  readonly metadata: readonly string[];
}

/** One trusted issuer after parsing. */
export interface IssuerConfig {
  readonly issuer: string;
  readonly audience: readonly string[] | undefined;
  readonly algorithms: readonly string[];
  readonly typ: string | undefined;
  readonly requiredClaims: readonly string[];
  /** Seconds, for jose. */
  readonly maxTokenAge: number | undefined;
  /** Seconds, for jose. */
  readonly clockTolerance: number;
  readonly claims: ClaimMapping;
  /** The issuer's keys: a resolver, or a remote key set's settings (the verifier builds it, with its clock and events). */
  readonly key: JWTVerifyGetKey | RemoteJwksConfig;
}

/** A signing key after parsing. */
export interface SigningKey extends StaticKey {
  readonly alg: string;
}

/** Signing after parsing. */
export interface SigningConfig {
  readonly issuer: string;
  readonly audience: readonly string[] | undefined;
  readonly keys: readonly SigningKey[];
  readonly ttlMs: number;
  readonly maxTtlMs: number;
  readonly exchangeTtlMs: number;
  readonly typ: string;
  /** The claims the verifier reads scopes from (`signing.claims.scopes`): `issue()` sets them only from its `scopes`. */
  readonly scopeClaims: readonly string[];
}

/** The `tokens` option after parsing. Internal. */
export interface TokenConfig {
  readonly issuers: ReadonlyMap<string, IssuerConfig>;
  readonly signing: SigningConfig | undefined;
  /** The injected store, or `undefined` for the memory one. */
  readonly revocationStore: RevocationStore | undefined;
  readonly revocationTtlMs: number;
  readonly cache: { readonly max: number; readonly ttlMs: number } | false;
  readonly maxTokenLength: number;
}

const DEFAULT_SCOPE_CLAIMS = ['scope', 'scp', 'permissions'];
const CLAIM_RE = /^[A-Za-z0-9_.:\-/]{1,100}$/;
const TYP_RE = /^[A-Za-z0-9!#$&^_.+\-/]{1,100}$/;
const KID_RE = /^[\x21-\x7e]{1,128}$/;

const TOKEN_FIELDS = fieldsOf<TokenOptions>({ issuers: true, signing: true, revocationStore: true, revocationTtl: true, cache: true, maxTokenLength: true });
const ISSUER_FIELDS = fieldsOf<TrustedIssuerOptions>({
  issuer: true, audience: true, secret: true, secretEnv: true, publicKey: true, publicKeyEnv: true, jwks: true, jwksUri: true, jwksCache: true,
  algorithms: true, typ: true, requireExp: true, maxTokenAge: true, clockTolerance: true, requiredClaims: true, claims: true,
});
const JWKS_CACHE_FIELDS = fieldsOf<RemoteJwksOptions>({ maxAge: true, cooldown: true, timeout: true, staleIfError: true, maxBytes: true });
const CLAIM_FIELDS = fieldsOf<ClaimMappingOptions>({ scopes: true, owner: true, plan: true, metadata: true });
const SIGNING_FIELDS = fieldsOf<SigningOptions>({ issuer: true, audience: true, keys: true, ttl: true, maxTtl: true, typ: true, exchangeTtl: true, claims: true, clockTolerance: true });
const SIGNING_KEY_FIELDS = fieldsOf<SigningKeyOptions>({ kid: true, alg: true, privateKey: true, privateKeyEnv: true, secret: true, secretEnv: true });
const CACHE_FIELDS = fieldsOf<Exclude<TokenOptions['cache'], false | undefined>>({ max: true, ttl: true });


function str(value: unknown, option: string, max = 2048): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw new TypeError(`keyward: option "${option}" must be a non-empty string`);
  return value;
}

function claimName(value: unknown, option: string): string {
  // `__proto__` as a metadata claim would let a token set the prototype of `principal.metadata`.
  if (typeof value !== 'string' || !CLAIM_RE.test(value) || value === '__proto__') throw new TypeError(`keyward: option "${option}" must be a claim name`);
  return value;
}

function strings(value: unknown, option: string, check: (v: unknown, o: string) => string = str): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) throw new TypeError(`keyward: option "${option}" must be a string or a non-empty array of strings`);
  return list.map((v: unknown, i: number) => check(v, `${option}[${i}]`));
}

function seconds(value: unknown, option: string): number {
  return parseDuration(value, option) / 1000;
}

function bool(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`keyward: option "${option}" must be a boolean`);
  return value;
}

function claimMapping(value: unknown, option: string, defaults: Partial<ClaimMapping> = {}): ClaimMapping {
  const o = value === undefined ? {} : (optionObject(value, option, CLAIM_FIELDS) as ClaimMappingOptions);
  return {
    scopes: o.scopes !== undefined ? strings(o.scopes, `${option}.scopes`, claimName) : (defaults.scopes ?? DEFAULT_SCOPE_CLAIMS),
    owner: o.owner !== undefined ? claimName(o.owner, `${option}.owner`) : defaults.owner,
    plan: o.plan !== undefined ? claimName(o.plan, `${option}.plan`) : defaults.plan,
    metadata: o.metadata !== undefined ? (Array.isArray(o.metadata) ? o.metadata.map((m, i) => claimName(m, `${option}.metadata[${i}]`)) : strings(o.metadata, `${option}.metadata`, claimName)) : (defaults.metadata ?? []),
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host.endsWith('.localhost');
}

function jwksUrl(value: unknown, option: string): URL {
  let url: URL;
  try {
    url = value instanceof URL ? new URL(value.href) : new URL(str(value, option));
  } catch {
    throw new TypeError(`keyward: option "${option}" must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) throw new TypeError(`keyward: option "${option}" must be an https URL (http only on loopback)`);
  // fetch() refuses a URL with credentials in it before sending anything, so every token of the issuer would be
  // refused, with no JWKS_UNAVAILABLE to say why (and its message shows the password).
  if (url.username !== '' || url.password !== '') throw new TypeError(`keyward: option "${option}" must not hold a user name or password (fetch refuses such a URL)`);
  return url;
}

function localJwks(value: unknown, option: string): { jwks: JSONWebKeySet; kinds: KeyKind[] } {
  // A JWK set and its keys are documents of their own standard, whose other members jose ignores: no field list.
  const o = optionObject(value, option);
  if (!Array.isArray(o['keys']) || o['keys'].length === 0) throw new TypeError(`keyward: option "${option}.keys" must be a non-empty array of public JWKs`);
  const kinds: KeyKind[] = [];
  const keys = (o['keys'] as unknown[]).map((k, i) => {
    const jwk = optionObject(k, `${option}.keys[${i}]`);
    if (jwk['d'] !== undefined || jwk['k'] !== undefined || jwk['kty'] === 'oct') throw new TypeError(`keyward: option "${option}.keys[${i}]" must be a public key (no private or symmetric members)`);
    kinds.push(kindOf(toKeyObject(jwk, `${option}.keys[${i}]`, 'public'), `${option}.keys[${i}]`));
    return { ...jwk };
  });
  return { jwks: { keys: keys as JSONWebKeySet['keys'] }, kinds };
}

function parseIssuer(value: unknown, i: number, env: NodeJS.ProcessEnv): IssuerConfig {
  const option = `tokens.issuers[${i}]`;
  const o = optionObject(value, option, ISSUER_FIELDS) as unknown as TrustedIssuerOptions;
  const issuer = str(o.issuer, `${option}.issuer`);
  const given = (['secret', 'secretEnv', 'publicKey', 'publicKeyEnv', 'jwks', 'jwksUri'] as const).filter((k) => o[k] !== undefined);
  const sources = new Set(given.map((k) => k.replace(/Env$/, '')));
  if (sources.size !== 1) throw new TypeError(`keyward: option "${option}" needs exactly one key source: secret (or secretEnv), publicKey (or publicKeyEnv), jwks or jwksUri`);
  let key: JWTVerifyGetKey | RemoteJwksConfig;
  let algorithms: string[];
  const source = [...sources][0]!;
  if (source === 'secret') {
    const k = secretKey(o.secret, o.secretEnv, `${option}.secret`, env)!;
    algorithms = checkAlgorithms(o.algorithms, ['secret'], `${option}.algorithms`);
    checkSecretLength(k, algorithms, o.secretEnv !== undefined ? `${option}.secretEnv` : `${option}.secret`);
    key = staticKeyResolver([{ kid: undefined, key: k, kind: 'secret' }]);
  } else if (source === 'publicKey') {
    const name = o.publicKeyEnv !== undefined ? `${option}.publicKeyEnv` : `${option}.publicKey`;
    const k = asymmetricKey(o.publicKey, o.publicKeyEnv, `${option}.publicKey`, env, 'public')!;
    const kind = verifyingKind(k, name);
    algorithms = checkAlgorithms(o.algorithms, [kind], `${option}.algorithms`);
    key = staticKeyResolver([{ kid: undefined, key: k, kind }]);
  } else if (source === 'jwks') {
    const { jwks, kinds } = localJwks(o.jwks, `${option}.jwks`);
    algorithms = o.algorithms === undefined && new Set(kinds).size === 1 ? checkAlgorithms(undefined, kinds, `${option}.algorithms`) : checkAlgorithms(o.algorithms, 'asymmetric', `${option}.algorithms`);
    key = localKeySet(jwks);
  } else {
    const url = jwksUrl(o.jwksUri, `${option}.jwksUri`);
    const c = o.jwksCache === undefined ? {} : optionObject(o.jwksCache, `${option}.jwksCache`, JWKS_CACHE_FIELDS);
    algorithms = checkAlgorithms(o.algorithms, 'asymmetric', `${option}.algorithms`);
    // The timeout becomes a timer: 0 would abort every fetch, and past 2^31 - 1 ms Node sets it to 1 ms (with only a
    // warning), so every token of the issuer would be refused; a longer wait than a minute holds requests up anyway.
    const timeoutMs = Math.ceil(parseDuration(c['timeout'] ?? '5s', `${option}.jwksCache.timeout`));
    if (timeoutMs < 1 || timeoutMs > 60_000) throw new TypeError(`keyward: option "${option}.jwksCache.timeout" must be from 1 ms to 1 min`);
    const maxBytes = c['maxBytes'] ?? 512 * 1024;
    if (typeof maxBytes !== 'number' || !Number.isInteger(maxBytes) || maxBytes < 1024 || maxBytes > 16 * 1024 * 1024) {
      throw new TypeError(`keyward: option "${option}.jwksCache.maxBytes" must be a whole number of bytes from 1024 (1 KiB) to 16777216 (16 MiB)`);
    }
    key = {
      url,
      cacheMaxAgeMs: parseDuration(c['maxAge'] ?? '10m', `${option}.jwksCache.maxAge`),
      cooldownMs: parseDuration(c['cooldown'] ?? '30s', `${option}.jwksCache.cooldown`),
      timeoutMs,
      maxBytes,
      staleIfErrorMs: parseDuration(c['staleIfError'] ?? '1h', `${option}.jwksCache.staleIfError`),
    };
  }
  const audience = o.audience === undefined ? undefined : strings(o.audience, `${option}.audience`);
  if (!audience) warnOnce('KEYWARD_TOKEN_NO_AUDIENCE', `keyward: ${option} has no "audience"; tokens this issuer minted for any other service will be accepted.`);
  const requiredClaims = new Set(o.requiredClaims === undefined ? [] : strings(o.requiredClaims, `${option}.requiredClaims`, claimName));
  if (bool(o.requireExp, `${option}.requireExp`, true)) requiredClaims.add('exp');
  // The verifier checks the maximum age itself (jose would refuse an `iat` a second ahead): the age needs an `iat`.
  if (o.maxTokenAge !== undefined) requiredClaims.add('iat');
  if (o.typ !== undefined && (typeof o.typ !== 'string' || !TYP_RE.test(o.typ))) throw new TypeError(`keyward: option "${option}.typ" must be a media type such as "at+jwt"`);
  return {
    issuer,
    audience,
    algorithms,
    typ: o.typ,
    requiredClaims: [...requiredClaims],
    maxTokenAge: o.maxTokenAge === undefined ? undefined : seconds(o.maxTokenAge, `${option}.maxTokenAge`),
    clockTolerance: o.clockTolerance === undefined ? 0 : seconds(o.clockTolerance, `${option}.clockTolerance`),
    claims: claimMapping(o.claims, `${option}.claims`),
    key,
  };
}

/**
 * The kind of a signing key. An RSA-PSS key (id-RSASSA-PSS) has no JWK form, so it could be neither published in the
 * JWKS nor given its thumbprint `kid` (nor handed to jose on Node 20): refused here, naming the option, rather than
 * failing later with Node's "Unsupported JWK Key Type." The same key as plain RSA signs PS256 too.
 */
function signingKind(key: KeyObject, option: string): KeyKind {
  const kind = kindOf(key, option);
  if (kind === 'rsa-pss') throw new TypeError(`keyward: option "${option}" is an RSA-PSS key, which has no JWK form for the JWKS; give it as a plain RSA key (PS256 signs with one too)`);
  return kind;
}

/** The kind of a trusted issuer's public key: an RSA-PSS key only where jose can use it (Node with `KeyObject.toCryptoKey`). */
function verifyingKind(key: KeyObject, option: string): KeyKind {
  const kind = kindOf(key, option);
  if (kind === 'rsa-pss' && typeof (key as { toCryptoKey?: unknown }).toCryptoKey !== 'function') {
    throw new TypeError(`keyward: option "${option}" is an RSA-PSS key, which this Node version cannot verify with (it has no JWK form); give it as a plain RSA key with algorithms ["PS256"]`);
  }
  return kind;
}

const DEFAULT_ALG: Partial<Record<KeyKind, string>> = { 'ec-p256': 'ES256', 'ec-p384': 'ES384', 'ec-p521': 'ES512', ed25519: 'EdDSA', rsa: 'RS256', 'rsa-pss': 'PS256', secret: 'HS256' };

/**
 * The `kid` and `alg` a signing key given as a JWK names for itself, checked (a mistake names `option`), used where the
 * options name none: a JWK's `kid` is the one its author publishes, and its `alg` the algorithm it is meant for.
 */
function ownJwkMembers(input: unknown, kind: KeyKind, option: string): { kid?: string; alg?: string } {
  const { kid, alg } = jwkMembers(input);
  if (kid !== undefined && (typeof kid !== 'string' || !KID_RE.test(kid))) throw new TypeError(`keyward: option "${option}" is a JWK whose "kid" is not 1–128 visible ASCII characters`);
  const checked = alg === undefined ? undefined : checkAlgorithms([alg], [kind], `${option} (its JWK "alg")`)[0];
  return { ...(kid !== undefined ? { kid } : {}), ...(checked !== undefined ? { alg: checked } : {}) };
}

function parseSigningKey(value: unknown, i: number, count: number, env: NodeJS.ProcessEnv): SigningKey {
  const option = `tokens.signing.keys[${i}]`;
  const o = optionObject(value, option, SIGNING_KEY_FIELDS) as unknown as SigningKeyOptions;
  const hasSecret = o.secret !== undefined || o.secretEnv !== undefined;
  const hasPrivate = o.privateKey !== undefined || o.privateKeyEnv !== undefined;
  if (hasSecret === hasPrivate) throw new TypeError(`keyward: option "${option}" needs exactly one of privateKey (or privateKeyEnv) and secret (or secretEnv)`);
  const key = hasSecret ? secretKey(o.secret, o.secretEnv, `${option}.secret`, env)! : asymmetricKey(o.privateKey, o.privateKeyEnv, `${option}.privateKey`, env, 'private')!;
  const kind = signingKind(key, hasSecret ? `${option}.secret` : `${option}.privateKey`);
  const name = o.privateKeyEnv !== undefined ? `${option}.privateKeyEnv` : `${option}.privateKey`;
  const own = hasSecret ? {} : ownJwkMembers(o.privateKeyEnv !== undefined ? readSecret(undefined, o.privateKeyEnv, name, env) : o.privateKey, kind, name);
  const alg = o.alg === undefined ? (own.alg ?? DEFAULT_ALG[kind]!) : checkAlgorithms([o.alg], [kind], `${option}.alg`)[0]!;
  if (kind === 'secret') checkSecretLength(key, [alg], o.secretEnv !== undefined ? `${option}.secretEnv` : `${option}.secret`);
  if (o.kid !== undefined && (typeof o.kid !== 'string' || !KID_RE.test(o.kid))) throw new TypeError(`keyward: option "${option}.kid" must be 1–128 visible ASCII characters`);
  if (kind === 'secret' && o.kid === undefined && count > 1) throw new TypeError(`keyward: option "${option}.kid" is required for a secret when there are several signing keys`);
  return { kid: o.kid ?? own.kid ?? (kind === 'secret' ? undefined : thumbprint(key)), key, kind, alg };
}

function defaultSigningKeys(env: NodeJS.ProcessEnv): SigningKey[] {
  const text = readSecret(undefined, 'KEYWARD_SIGNING_KEY', 'tokens.signing.keys', env);
  let key: KeyObject;
  if (text !== undefined) {
    key = toKeyObject(text, 'tokens.signing.keys (KEYWARD_SIGNING_KEY)', 'private');
  } else {
    warnOnce('KEYWARD_EPHEMERAL_SIGNING_KEY', 'keyward: no token signing key configured (tokens.signing.keys or KEYWARD_SIGNING_KEY); using an ephemeral ES256 key, so issued tokens die with this process and other instances cannot verify them.');
    key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  }
  const kind = signingKind(key, 'tokens.signing.keys (KEYWARD_SIGNING_KEY)');
  const own = ownJwkMembers(text, kind, 'tokens.signing.keys (KEYWARD_SIGNING_KEY)');
  return [{ kid: own.kid ?? thumbprint(key), key, kind, alg: own.alg ?? DEFAULT_ALG[kind]! }];
}

/**
 * A signing key as the verifier of our own tokens finds it: by its `kid`, and also by its thumbprint when its `kid` is
 * another, so tokens signed before a key got a `kid` of its own (named in the options or in its JWK) still verify.
 */
function verifyingEntries(k: SigningKey): StaticKey[] {
  if (k.kind === 'secret') return [{ kid: k.kid, kind: k.kind, key: k.key }];
  const entry: StaticKey = { kid: k.kid, kind: k.kind, key: createPublicKey(k.key) };
  const print = thumbprint(k.key);
  return k.kid === print ? [entry] : [entry, { ...entry, kid: print }];
}

function parseSigning(value: unknown, env: NodeJS.ProcessEnv): { signing: SigningConfig; verify: IssuerConfig; clockTolerance: number } {
  const option = 'tokens.signing';
  const o = optionObject(value, option, SIGNING_FIELDS) as unknown as SigningOptions;
  const issuer = str(o.issuer, `${option}.issuer`);
  let keys: SigningKey[];
  if (o.keys === undefined) keys = defaultSigningKeys(env);
  else {
    if (!Array.isArray(o.keys) || o.keys.length === 0) throw new TypeError(`keyward: option "${option}.keys" must be a non-empty array`);
    keys = o.keys.map((k, i) => parseSigningKey(k, i, o.keys!.length, env));
  }
  const kids = keys.map((k) => k.kid).filter((k) => k !== undefined);
  if (new Set(kids).size !== kids.length) throw new TypeError(`keyward: option "${option}.keys" has two keys with the same kid`);
  const ttlMs = parseDuration(o.ttl ?? '15m', `${option}.ttl`);
  const maxTtlMs = parseDuration(o.maxTtl ?? '24h', `${option}.maxTtl`);
  if (ttlMs < 1000 || ttlMs > maxTtlMs) throw new TypeError(`keyward: option "${option}.ttl" must be at least 1s and at most maxTtl`);
  const exchangeTtlMs = o.exchangeTtl === undefined ? ttlMs : parseDuration(o.exchangeTtl, `${option}.exchangeTtl`);
  if (exchangeTtlMs < 1000 || exchangeTtlMs > maxTtlMs) throw new TypeError(`keyward: option "${option}.exchangeTtl" must be at least 1s and at most maxTtl`);
  const typ = o.typ ?? 'at+jwt';
  if (typeof typ !== 'string' || !TYP_RE.test(typ)) throw new TypeError(`keyward: option "${option}.typ" must be a media type such as "at+jwt"`);
  const audience = o.audience === undefined ? undefined : strings(o.audience, `${option}.audience`);
  const clockTolerance = o.clockTolerance === undefined ? 0 : seconds(o.clockTolerance, `${option}.clockTolerance`);
  const mapped = claimMapping(o.claims, `${option}.claims`, { owner: 'owner', plan: 'plan', metadata: ['client_id', 'restrictions'] });
  // `issue()` and the exchange write scopes in `scope` (RFC 9068 §2.2.3): read there first, whatever else is named.
  const claims: ClaimMapping = mapped.scopes.includes('scope') ? mapped : { ...mapped, scopes: ['scope', ...mapped.scopes] };
  const signing: SigningConfig = { issuer, audience, keys, ttlMs, maxTtlMs, exchangeTtlMs, typ, scopeClaims: claims.scopes };
  const verify: IssuerConfig = {
    issuer,
    audience,
    algorithms: [...new Set(keys.map((k) => k.alg))],
    typ,
    requiredClaims: ['exp', 'iat', 'jti'],
    maxTokenAge: undefined,
    clockTolerance,
    claims,
    key: staticKeyResolver(keys.flatMap(verifyingEntries)),
  };
  return { signing, verify, clockTolerance };
}

/**
 * Parses the `tokens` option once: reads secrets and keys (from code, the environment or `_FILE` paths), checks
 * their strength and the algorithm allow-lists, and builds the key resolvers. Never mutates the input.
 *
 * @throws TypeError naming the option for every mistake (short HMAC secret, RSA key under 2048 bits, `none`, …)
 */
export function parseTokenOptions(value: unknown, env: NodeJS.ProcessEnv): TokenConfig {
  const o = optionObject(value, 'tokens', TOKEN_FIELDS) as TokenOptions;
  const issuers = new Map<string, IssuerConfig>();
  if (o.issuers !== undefined) {
    if (!Array.isArray(o.issuers)) throw new TypeError('keyward: option "tokens.issuers" must be an array');
    o.issuers.forEach((x, i) => {
      const c = parseIssuer(x, i, env);
      if (issuers.has(c.issuer)) throw new TypeError(`keyward: option "tokens.issuers[${i}].issuer" repeats an issuer; give each issuer once`);
      issuers.set(c.issuer, c);
    });
  }
  let signing: SigningConfig | undefined;
  if (o.signing !== undefined) {
    const s = parseSigning(o.signing, env);
    if (issuers.has(s.signing.issuer)) throw new TypeError('keyward: option "tokens.signing.issuer" is also in "tokens.issuers"; our own tokens are verified with the signing keys');
    signing = s.signing;
    issuers.set(s.signing.issuer, s.verify);
  }
  if (issuers.size === 0) throw new TypeError('keyward: option "tokens" needs "issuers" or "signing"');
  let revocationStore: RevocationStore | undefined;
  if (o.revocationStore !== undefined) {
    const r = o.revocationStore as unknown as Record<string, unknown>;
    if (typeof r !== 'object' || r === null || typeof r['revoke'] !== 'function' || typeof r['isRevoked'] !== 'function') throw new TypeError('keyward: option "tokens.revocationStore" must implement revoke() and isRevoked()');
    revocationStore = o.revocationStore;
  }
  let cache: TokenConfig['cache'] = { max: 10_000, ttlMs: 300_000 };
  if (o.cache === false) cache = false;
  else if (o.cache !== undefined) {
    const c = optionObject(o.cache, 'tokens.cache', CACHE_FIELDS);
    const max = c['max'] ?? 10_000;
    if (!Number.isInteger(max) || (max as number) < 0) throw new TypeError('keyward: option "tokens.cache.max" must be a non-negative integer');
    cache = { max: max as number, ttlMs: parseDuration(c['ttl'] ?? '5m', 'tokens.cache.ttl') };
  }
  const maxTokenLength = o.maxTokenLength ?? 8192;
  if (!Number.isInteger(maxTokenLength) || maxTokenLength < 64 || maxTokenLength > 65_536) throw new TypeError('keyward: option "tokens.maxTokenLength" must be an integer from 64 to 65536');
  return {
    issuers,
    signing,
    revocationStore,
    revocationTtlMs: parseDuration(o.revocationTtl ?? '24h', 'tokens.revocationTtl'),
    cache,
    maxTokenLength,
  };
}
