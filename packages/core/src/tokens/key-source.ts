import type { KeyObject, webcrypto } from 'node:crypto';
import { createLocalJWKSet } from 'jose';
import type { JWTVerifyGetKey, JSONWebKeySet, JWSHeaderParameters } from 'jose' with { 'resolution-mode': 'import' };
import { ALGORITHMS_BY_KIND, type KeyKind } from './key-material';

type CryptoKey = webcrypto.CryptoKey;

/** One configured key with its id. */
export interface StaticKey {
  readonly kid: string | undefined;
  readonly key: KeyObject;
  readonly kind: KeyKind;
}

type Resolved = CryptoKey | KeyObject;

/**
 * The verification keys of one issuer as a jose key resolver. Static keys are chosen by `kid`; HMAC secrets are
 * imported once per algorithm (jose would import a raw secret on every call). The key is returned as is, not in a
 * promise, once known (jose awaits whatever the resolver returns, and a value costs it less than a promise).
 */
export function staticKeyResolver(keys: readonly StaticKey[]): JWTVerifyGetKey {
  const imported = new Map<string, CryptoKey | Promise<CryptoKey>>();
  const hmac = (k: StaticKey, alg: string): CryptoKey | Promise<CryptoKey> => {
    const id = `${keys.indexOf(k)}:${alg}`;
    let key = imported.get(id);
    if (!key) {
      const importing = crypto.subtle.importKey('raw', k.key.export(), { name: 'HMAC', hash: `SHA-${alg.slice(2)}` }, false, ['verify']);
      // The promise until it settles, then the key itself; a failed import is forgotten, so the next token tries again.
      importing.then((done) => void imported.set(id, done), () => void imported.delete(id));
      imported.set(id, (key = importing));
    }
    return key;
  };
  return (header: JWSHeaderParameters): Resolved | Promise<Resolved> => {
    const alg = header.alg ?? '';
    let k: StaticKey | undefined;
    if (typeof header.kid === 'string') k = keys.find((c) => c.kid === header.kid) ?? keys.find((c) => c.kid === undefined);
    else k = keys.find((c) => ALGORITHMS_BY_KIND[c.kind].includes(alg));
    if (!k) throw new Error('no matching key');
    if (k.kind === 'secret') {
      if (!/^HS(256|384|512)$/.test(alg)) throw new Error('algorithm does not match the key');
      return hmac(k, alg);
    }
    return k.key;
  };
}

/** A local key set, selected by `kid` and `alg` (jose's `createLocalJWKSet`). */
export function localKeySet(jwks: JSONWebKeySet): JWTVerifyGetKey {
  return createLocalJWKSet(jwks);
}
