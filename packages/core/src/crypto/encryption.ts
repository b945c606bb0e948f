import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KeywardError } from '../errors';
import { shownName } from '../config/fields';

/** A master key for encryption at rest: 32 random bytes and a short id that is stored with every ciphertext. */
export interface MasterKey {
  /** 1–64 characters from `A–Z a–z 0–9 . _ -`; names the key inside each envelope so rotation can find it. */
  readonly id: string;
  /** Exactly 32 bytes (AES-256). */
  readonly key: Uint8Array;
}

/**
 * AES-256-GCM encryption of short values (key metadata, recoverable keys) for the stores. Envelopes are strings
 * `kwenc:v1:<keyId>:<iv>:<ciphertext>:<tag>` (base64url) and are bound to their place by additional authenticated data
 * (the record id and field name), so a ciphertext copied to another record or field fails to open.
 */
export interface Encryption {
  /** The id of the key new envelopes are sealed with. */
  readonly currentKeyId: string;
  /** Encrypts `plaintext` with the current key, binding `aad`. */
  seal(plaintext: string, aad: string): string;
  /**
   * Decrypts an envelope with whichever known key sealed it.
   * @throws KeywardError `DECRYPTION_FAILED` for an unknown key id or a tampered envelope (the message names neither value)
   */
  open(envelope: string, aad: string): string;
  /** True when `value` is an envelope. */
  isSealed(value: unknown): value is string;
  /** The key id inside an envelope, or `undefined` when `value` is not one. */
  keyIdOf(value: unknown): string | undefined;
}

/** Options of {@link createEncryption}. */
export interface EncryptionOptions {
  /** Every key that may have sealed stored data; the first is current unless `currentKeyId` says otherwise. */
  readonly keys: readonly MasterKey[];
  /** Id of the key to seal new data with (default: the first of `keys`). */
  readonly currentKeyId?: string;
}

const PREFIX = 'kwenc:v1:';
const KEY_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
const B64URL_RE = /^[A-Za-z0-9_-]*$/;

/**
 * Builds an {@link Encryption} from master keys. Off by default everywhere: a store encrypts only when given one.
 * Encryption never replaces hashing: key hashes stay hashes, and the index never holds a ciphertext.
 *
 * @example
 * ```ts
 * const encryption = createEncryption({ keys: [{ id: '2026-01', key: Buffer.from(process.env.MK!, 'base64') }] });
 * const store = new RedisKeyStore({ client, encryption });
 * ```
 * @throws TypeError naming the option when a key id or key length is wrong
 */
export function createEncryption(options: EncryptionOptions): Encryption {
  if (typeof options !== 'object' || options === null || !Array.isArray(options.keys) || options.keys.length === 0) {
    throw new TypeError('keyward: option "encryption.keys" must be a non-empty array of { id, key }');
  }
  const keys = new Map<string, Buffer>();
  options.keys.forEach((k, i) => {
    if (typeof k?.id !== 'string' || !KEY_ID_RE.test(k.id)) throw new TypeError(`keyward: option "encryption.keys[${i}].id" must be 1–64 characters from A-Z a-z 0-9 . _ -`);
    if (!(k.key instanceof Uint8Array) || k.key.length !== 32) throw new TypeError(`keyward: option "encryption.keys[${i}].key" must be 32 bytes`);
    if (keys.has(k.id)) throw new TypeError(`keyward: option "encryption.keys[${i}].id" repeats the id ${shownName(k.id)}`);
    keys.set(k.id, Buffer.from(k.key));
  });
  const currentKeyId = options.currentKeyId ?? options.keys[0]!.id;
  if (!keys.has(currentKeyId)) throw new TypeError('keyward: option "encryption.currentKeyId" must name one of "encryption.keys"');
  const current = keys.get(currentKeyId)!;

  function parse(value: unknown): { id: string; iv: Buffer; ct: Buffer; tag: Buffer } | undefined {
    if (typeof value !== 'string' || !value.startsWith(PREFIX)) return undefined;
    const parts = value.slice(PREFIX.length).split(':');
    if (parts.length !== 4) return undefined;
    const [id, iv, ct, tag] = parts as [string, string, string, string];
    if (!KEY_ID_RE.test(id) || ![iv, ct, tag].every((p) => B64URL_RE.test(p))) return undefined;
    return { id, iv: Buffer.from(iv, 'base64url'), ct: Buffer.from(ct, 'base64url'), tag: Buffer.from(tag, 'base64url') };
  }

  return {
    currentKeyId,
    seal(plaintext, aad) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `${PREFIX}${currentKeyId}:${iv.toString('base64url')}:${ct.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}`;
    },
    open(envelope, aad) {
      const e = parse(envelope);
      if (!e) throw new KeywardError('DECRYPTION_FAILED', 'the stored value is not an encryption envelope');
      const key = keys.get(e.id);
      if (!key) throw new KeywardError('DECRYPTION_FAILED', `no master key with id ${e.id} is configured`);
      if (e.iv.length !== 12 || e.tag.length !== 16) throw new KeywardError('DECRYPTION_FAILED', 'the stored envelope is malformed');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, e.iv);
        decipher.setAAD(Buffer.from(aad, 'utf8'));
        decipher.setAuthTag(e.tag);
        return Buffer.concat([decipher.update(e.ct), decipher.final()]).toString('utf8');
      } catch {
        throw new KeywardError('DECRYPTION_FAILED', `a value sealed with master key ${e.id} failed authentication (tampered, moved, or the wrong key)`);
      }
    },
    isSealed(value): value is string {
      return parse(value) !== undefined;
    },
    keyIdOf(value) {
      return parse(value)?.id;
    },
  };
}

/**
 * Checks a store's `encryption` option at start-up: `undefined`, or an {@link Encryption} from
 * {@link createEncryption} / `encryptionFromEnv()`. The message names the option and the store, never the value.
 *
 * @param store - the store's class name, for the message (e.g. `RedisKeyStore`)
 * @throws TypeError when the value is anything else
 */
export function checkEncryption(value: unknown, store: string): Encryption | undefined {
  const e = value as Partial<Record<keyof Encryption, unknown>> | null | undefined;
  const isEncryption = typeof e === 'object' && e !== null && typeof e.currentKeyId === 'string' && [e.seal, e.open, e.isSealed, e.keyIdOf].every((f) => typeof f === 'function');
  if (e !== undefined && !isEncryption) throw new TypeError(`keyward: option "encryption" of ${store} must be an Encryption made by createEncryption() or encryptionFromEnv() of @keyward/core`);
  return e as Encryption | undefined;
}
