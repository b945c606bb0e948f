import type { CreateKeyInput } from './manager';
import type { HashVersion } from './record';
import type { KeyHasher } from './hash';
import { keyHint, parseKey, type KeyFormat } from './format';
import { DEFAULT_KEY_POLICY, LEGACY_MAX_LENGTH, legacyLookupRefusal, type KeyPolicy } from './policy';

/**
 * What `keys.import` takes: an existing key, as plaintext (`key`) or as its SHA-256 (`sha256`, hex), with the same
 * fields as `keys.create`. Keys in another format (UUIDs, base64 strings…) are flagged `legacy`: they authenticate
 * only under the `legacyKeys` option and are always due for rotation. A plaintext legacy key that look-up would never
 * find is refused: one starting with `<prefix>_`, one shorter than 16 characters (unless a `legacyKeys` RegExp of
 * the importing instance matches it), or one that RegExp does not match. A key given by its hash cannot be checked.
 */
export interface ImportKeyInput extends CreateKeyInput {
  /** The plaintext key. Hashed at once and never stored. */
  key?: string;
  /** The key's SHA-256 as 64 hex digits, when the plaintext is not at hand. */
  sha256?: string;
  /** Display hint for a key imported by hash, e.g. its last four characters (default `legacy_…`). */
  hint?: string;
  /** When the key was first issued (default now): counts for the maximum age. */
  createdAt?: Date | number;
}

/** The hash-related fields of an imported record. Internal. */
export interface ImportedIdentity {
  readonly hash: string;
  readonly hashVersion: HashVersion;
  readonly hint: string;
  readonly prefix: string;
  readonly env: string | undefined;
  readonly legacy: boolean;
}

const VISIBLE = /^[\x21-\x7e]+$/;
const HINT = /^[^\x00-\x1f\x7f-\x9f]{1,32}$/u;

/**
 * Hashes and labels an imported key. A keyward key of this deployment's format is imported as a normal key; anything
 * else is legacy, and refused when look-up under `policy` (the instance's `legacyKeys`) would never find it (see
 * {@link legacyLookupRefusal}). Never puts the key or its hash in an error message.
 *
 * @throws TypeError for a bad input, or a legacy key that could never authenticate
 */
export function importedIdentity(input: ImportKeyInput, hasher: KeyHasher, format: KeyFormat, policy: KeyPolicy = DEFAULT_KEY_POLICY): ImportedIdentity {
  const hasKey = input.key !== undefined;
  if (hasKey === (input.sha256 !== undefined)) throw new TypeError('keyward: keys.import() takes exactly one of "key" and "sha256"');
  if (input.hint !== undefined && (typeof input.hint !== 'string' || !HINT.test(input.hint))) throw new TypeError('keyward: "hint" must be 1–32 characters without control characters');
  if (hasKey) {
    const key = input.key;
    if (typeof key !== 'string' || key.length < 8 || key.length > LEGACY_MAX_LENGTH || !VISIBLE.test(key)) {
      throw new TypeError(`keyward: "key" must be 8–${LEGACY_MAX_LENGTH} visible ASCII characters`);
    }
    const parsed = parseKey(key, format);
    if (parsed) return { hash: hasher.hash(key), hashVersion: hasher.version, hint: keyHint(key, parsed), prefix: parsed.prefix, env: parsed.env, legacy: false };
    // Import and look-up agree: a legacy key look-up would never consider is refused here, not stored to fail later.
    const refusal = legacyLookupRefusal(key, policy, format.prefix);
    if (refusal !== undefined) throw new TypeError(`keyward: "key" would never authenticate as a legacy key: ${refusal}`);
    return { hash: hasher.hash(key), hashVersion: hasher.version, hint: input.hint ?? (key.length >= 16 ? `legacy_…${key.slice(-4)}` : 'legacy_…'), prefix: 'legacy', env: undefined, legacy: true };
  }
  const sha = input.sha256;
  if (typeof sha !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha)) throw new TypeError('keyward: "sha256" must be 64 hexadecimal digits');
  return { hash: sha.toLowerCase(), hashVersion: 'sha256-v1', hint: input.hint ?? 'legacy_…', prefix: 'legacy', env: undefined, legacy: true };
}
