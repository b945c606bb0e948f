import { createHmac } from 'node:crypto';
import { sha256 } from '../util/digest';
import type { HashVersion } from './record';

/** One way a presented key's stored hash may have been computed: what look-up tries, in turn. */
export interface KeyLookup {
  /** The scheme the record must be tagged with. */
  readonly version: HashVersion;
  /** Hex digest of a presented key under this scheme (and pepper). */
  hash(key: string): string;
  /**
   * True when this is a previous pepper's HMAC (the `pepper.previous` option): a key found this way works, but its
   * stored hash stops matching once that pepper is dropped, so it should be rotated.
   */
  readonly previousPepper: boolean;
}

/** Computes key hashes under the configured scheme (and the others, to find keys stored before a change). */
export interface KeyHasher {
  /** The scheme new keys are stored with. */
  readonly version: HashVersion;
  /** Hex digest of `key` under `version` (default: the current scheme), with the current pepper. */
  hash(key: string, version?: HashVersion): string;
  /** Schemes to try when looking a key up, current first. */
  readonly lookupVersions: readonly HashVersion[];
  /**
   * What look-up tries, in order: the current scheme, the HMAC of each previous pepper (newest first), then plain
   * SHA-256 (keys stored before a pepper was set, or imported by their SHA-256).
   */
  readonly lookups: readonly KeyLookup[];
}

const hmac = (pepper: string) => (key: string) => createHmac('sha256', pepper).update(key, 'utf8').digest('hex');
const plain = (key: string) => sha256(key, 'hex');

/**
 * Creates the hasher: HMAC-SHA-256 with the pepper when one is given, SHA-256 otherwise. With a pepper, keys stored
 * earlier as plain SHA-256 are still found (and can be re-hashed on rotation), and so are keys stored under a
 * `previous` pepper, so a pepper can be changed without every key failing at once.
 */
export function createKeyHasher(pepper: string | undefined, previous: readonly string[] = []): KeyHasher {
  const version: HashVersion = pepper ? 'hmac-sha256-v1' : 'sha256-v1';
  const lookups: KeyLookup[] = [];
  if (pepper) {
    lookups.push({ version: 'hmac-sha256-v1', hash: hmac(pepper), previousPepper: false });
    for (const old of previous) lookups.push({ version: 'hmac-sha256-v1', hash: hmac(old), previousPepper: true });
  }
  lookups.push({ version: 'sha256-v1', hash: plain, previousPepper: false });
  return {
    version,
    lookupVersions: pepper ? ['hmac-sha256-v1', 'sha256-v1'] : ['sha256-v1'],
    lookups,
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
