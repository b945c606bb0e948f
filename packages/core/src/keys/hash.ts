import { createHmac } from 'node:crypto';
import { sha256 } from '../util/digest';
import type { HashVersion } from './record';

/** Computes key hashes under the configured scheme (and the others, to find keys stored before a change). */
export interface KeyHasher {
  /** The scheme new keys are stored with. */
  readonly version: HashVersion;
  /** Hex digest of `key` under `version` (default: the current scheme). */
  hash(key: string, version?: HashVersion): string;
  /** Schemes to try when looking a key up, current first. */
  readonly lookupVersions: readonly HashVersion[];
}

/**
 * Creates the hasher: HMAC-SHA-256 with the pepper when one is given, SHA-256 otherwise. With a pepper, keys stored
 * earlier as plain SHA-256 are still found (and can be re-hashed on rotation).
 */
export function createKeyHasher(pepper: string | undefined): KeyHasher {
  const version: HashVersion = pepper ? 'hmac-sha256-v1' : 'sha256-v1';
  return {
    version,
    lookupVersions: pepper ? ['hmac-sha256-v1', 'sha256-v1'] : ['sha256-v1'],
    hash(key: string, v: HashVersion = version): string {
      if (v === 'hmac-sha256-v1') {
        if (!pepper) throw new TypeError('keyward: a key hashed with HMAC needs the pepper (option "pepper" or KEYWARD_PEPPER)');
        return createHmac('sha256', pepper).update(key, 'utf8').digest('hex');
      }
      return sha256(key, 'hex');
    },
  };
}

/** Plain SHA-256 hex of a key, the form `keys.import` accepts for legacy keys. */
export function sha256Hex(value: string): string {
  return sha256(value, 'hex');
}
