import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyward, isKeywardError, type TokenOptions } from '../index';

const SECRET = 's'.repeat(32);
const make = (tokens: TokenOptions, environment: NodeJS.ProcessEnv = {}) => createKeyward({ tokens, environment });
const issuer = (o: Record<string, unknown>) => ({ tokens: { issuers: [{ issuer: 'https://i.example/', audience: 'a', ...o }] } as TokenOptions });

describe('tokens options: start-up checks', () => {
  it('refuses an HMAC secret under 32 bytes, naming the option and not the secret', () => {
    expect(() => make(issuer({ secret: 'short-secret', algorithms: ['HS256'] }).tokens)).toThrow(new TypeError('keyward: option "tokens.issuers[0].secret" is 12 bytes; HS256 needs a secret of at least 32 bytes'));
    expect(() => make(issuer({ secret: SECRET, algorithms: ['HS512'] }).tokens)).toThrow(/HS512 needs a secret of at least 64 bytes/);
    expect(() => make({ signing: { issuer: 'me', keys: [{ secret: 'tiny' }] } })).toThrow(/"tokens.signing.keys\[0\].secret" is 4 bytes/);
  });

  it('refuses an RSA key under 2048 bits', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => make(issuer({ publicKey, algorithms: ['RS256'] }).tokens)).toThrow(/"tokens.issuers\[0\].publicKey" is an RSA key of 1024 bits; at least 2048/);
    expect(() => make({ signing: { issuer: 'me', keys: [{ privateKey }] } })).toThrow(/"tokens.signing.keys\[0\].privateKey" is an RSA key of 1024 bits/);
  });

  it('refuses an RSA-PSS signing key at start-up, naming the option (it has no JWK form for the JWKS)', () => {
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    const refusal = /^keyward: option "tokens.signing.keys\[0\].privateKey" is an RSA-PSS key, which has no JWK form for the JWKS/;
    expect(() => make({ signing: { issuer: 'me', keys: [{ privateKey: pss.privateKey }] } })).toThrow(TypeError);
    expect(() => make({ signing: { issuer: 'me', keys: [{ privateKey: pss.privateKey }] } })).toThrow(refusal);
    expect(() => make({ signing: { issuer: 'me', keys: [{ privateKey: pss.privateKey, kid: 'pss' }] } })).toThrow(refusal);
    const pem = pss.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(() => make({ signing: { issuer: 'me' } }, { KEYWARD_SIGNING_KEY: pem })).toThrow(/"tokens.signing.keys \(KEYWARD_SIGNING_KEY\)" is an RSA-PSS key/);
    // As a trusted issuer's key, where this Node cannot hand it to jose, every token would be refused: refused at once.
    const usable = typeof (pss.publicKey as { toCryptoKey?: unknown }).toCryptoKey === 'function';
    const verifying = () => make(issuer({ publicKey: pss.publicKey, algorithms: ['PS256'] }).tokens);
    if (usable) expect(verifying).not.toThrow();
    else expect(verifying).toThrow(/"tokens.issuers\[0\].publicKey" is an RSA-PSS key, which this Node version cannot verify with/);
  });

  it('refuses a JWKS timeout its timer cannot keep, naming the option, and rounds a fraction of a millisecond up', () => {
    const remote = (timeout: unknown) => make(issuer({ jwksUri: 'https://i.example/jwks', algorithms: ['ES256'], jwksCache: { timeout } }).tokens);
    for (const timeout of [0, '0s', '30d', 2 ** 31, '2m']) expect(() => remote(timeout)).toThrow(new TypeError('keyward: option "tokens.issuers[0].jwksCache.timeout" must be from 1 ms to 1 min'));
    for (const timeout of [1500.5, '1m', 1]) expect(() => remote(timeout)).not.toThrow();
  });

  it('refuses a jwksUri with user information, which fetch never sends (every token refused), without showing it', () => {
    const remote = (jwksUri: unknown) => make(issuer({ jwksUri, algorithms: ['ES256'] }).tokens);
    for (const jwksUri of ['https://svc:hunter2@i.example/jwks', 'https://svc@i.example/jwks', new URL('http://:hunter2@127.0.0.1:8080/jwks')]) {
      const error = (() => { try { remote(jwksUri); } catch (e) { return e as Error; } return undefined; })();
      expect(error).toEqual(new TypeError('keyward: option "tokens.issuers[0].jwksUri" must not hold a user name or password (fetch refuses such a URL)'));
    }
    expect(() => remote('https://i.example/jwks?tenant=a@b')).not.toThrow();
  });

  it('requires an algorithm list when the key admits several, and never accepts none', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(() => make(issuer({ secret: SECRET }).tokens)).toThrow(/"tokens.issuers\[0\].algorithms" is required/);
    expect(() => make(issuer({ publicKey }).tokens)).toThrow(/"tokens.issuers\[0\].algorithms" is required/);
    expect(() => make(issuer({ jwksUri: 'https://i.example/jwks' }).tokens)).toThrow(/"tokens.issuers\[0\].algorithms" is required/);
    for (const none of ['none', 'None', 'NONE']) expect(() => make(issuer({ secret: SECRET, algorithms: [none] }).tokens)).toThrow(/may never contain "none"/);
    expect(() => make(issuer({ publicKey, algorithms: ['HS256'] }).tokens)).toThrow(/contains "HS256", which this key cannot be used with/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => make(issuer({ publicKey: ec.publicKey }).tokens)).not.toThrow();
  });

  it('needs exactly one key source, an https JWKS URL, and distinct issuers', () => {
    expect(() => make(issuer({}).tokens)).toThrow(/needs exactly one key source/);
    expect(() => make(issuer({ secret: SECRET, jwksUri: 'https://x/', algorithms: ['HS256'] }).tokens)).toThrow(/needs exactly one key source/);
    expect(() => make(issuer({ jwksUri: 'http://auth.example.com/jwks', algorithms: ['RS256'] }).tokens)).toThrow(/"tokens.issuers\[0\].jwksUri" must be an https URL/);
    expect(() => make({ issuers: [{ issuer: 'x', audience: 'a', secret: SECRET, algorithms: ['HS256'] }, { issuer: 'x', audience: 'a', secret: SECRET, algorithms: ['HS256'] }] })).toThrow(/repeats an issuer/);
    expect(() => make({})).toThrow(/needs "issuers" or "signing"/);
  });

  it('reads secrets and keys from the environment or a _FILE path, never requiring them in code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-tokens-'));
    const file = join(dir, 'secret');
    writeFileSync(file, `${SECRET}\n`);
    expect(() => make(issuer({ secretEnv: 'JWT_SECRET', algorithms: ['HS256'] }).tokens, { JWT_SECRET_FILE: file })).not.toThrow();
    expect(() => make(issuer({ secretEnv: 'JWT_SECRET', algorithms: ['HS256'] }).tokens, { JWT_SECRET: 'short' })).toThrow(/"tokens.issuers\[0\].secretEnv" is 5 bytes/);
    expect(() => make(issuer({ secretEnv: 'JWT_SECRET', algorithms: ['HS256'] }).tokens, {})).toThrow(/names JWT_SECRET, which is not set/);
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const kw = make({ signing: { issuer: 'me', keys: [{ privateKeyEnv: 'SIGNING' }] } }, { SIGNING: pem });
    expect(kw.tokens.jwks().keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    const dflt = make({ signing: { issuer: 'me' } }, { KEYWARD_SIGNING_KEY: pem });
    expect(dflt.tokens.jwks().keys[0]!.x).toBe(kw.tokens.jwks().keys[0]!.x);
  });

  it('does not mutate the options', () => {
    const options = { tokens: { issuers: [{ issuer: 'x', audience: 'api', secret: SECRET, algorithms: ['HS256'] as const }], cache: { max: 5 } } };
    const copy = JSON.parse(JSON.stringify(options));
    createKeyward(options as never);
    expect(options).toEqual(copy);
  });

  it('makes kw.tokens say when tokens or issuing are not configured', async () => {
    const kw = createKeyward();
    await expect(kw.tokens.issue({ subject: 'x' })).rejects.toThrow('keyward: tokens is not configured (option "tokens")');
    const verifyOnly = make(issuer({ secret: SECRET, algorithms: ['HS256'] }).tokens);
    let caught: unknown;
    try { verifyOnly.tokens.endpoint(); } catch (e) { caught = e; }
    expect(isKeywardError(caught, 'INVALID_OPTIONS')).toBe(true);
    expect((caught as Error).message).toContain('"tokens.signing"');
  });
});
