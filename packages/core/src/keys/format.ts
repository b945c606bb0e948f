import { crc32 } from 'node:zlib';
import { BASE62_CODES, encodeBase62, randomBase62 } from '../util/base62';

/** Characters of the CRC32 checksum in base62 (62^6 > 2^32). */
export const CHECKSUM_LENGTH = 6;

const BITS_PER_CHAR = Math.log2(62);

/** Settings of the key format. */
export interface KeyFormat {
  /** Product prefix, e.g. `kw` (lower-case letters and digits, starts with a letter, ≤ 16). */
  readonly prefix: string;
  /** Random bits per key (≥ 128, default 192). */
  readonly randomBits: number;
}

/** Number of base62 characters carrying at least `bits` random bits. */
export function randomLength(bits: number): number {
  return Math.ceil(bits / BITS_PER_CHAR);
}

/** The base62 CRC32 of `body`. */
export function checksum(body: string): string {
  return encodeBase62(crc32(body), CHECKSUM_LENGTH);
}

/** The parts of a well-formed key. */
export interface ParsedKey {
  readonly prefix: string;
  readonly env: string;
}

const ENV_RE = /^[a-z0-9]{1,16}$/;
export const PREFIX_RE = /^[a-z][a-z0-9]{0,15}$/;

/** True when `env` is a valid environment label (`live`, `test`, …). */
export function isValidEnv(env: string): boolean {
  return ENV_RE.test(env);
}

/**
 * Generates a new key `<prefix>_<env>_<random><checksum>` from the CSPRNG.
 *
 * @example
 * ```ts
 * generateKey({ prefix: 'kw', randomBits: 192 }, 'live') // 'kw_live_3fZ…Qx9aB1'
 * ```
 */
export function generateKey(format: KeyFormat, env: string): string {
  const body = `${format.prefix}_${env}_${randomBase62(randomLength(format.randomBits))}`;
  return body + checksum(body);
}

const ZERO = 48, NINE = 57, UPPER_A = 65, UPPER_Z = 90, LOWER_A = 97, LOWER_Z = 122, UNDERSCORE = 95;
const isDigitOrLower = (c: number) => (c >= ZERO && c <= NINE) || (c >= LOWER_A && c <= LOWER_Z);
const isAlphanumeric = (c: number) => isDigitOrLower(c) || (c >= UPPER_A && c <= UPPER_Z);

/**
 * {@link parseKey} as a yes/no answer for the request path: the same rules (prefix, env, length, alphabet, checksum),
 * checked character by character with no intermediate strings.
 */
export function isWellFormedKey(value: string, format: KeyFormat): boolean {
  const p = format.prefix.length;
  if (!value.startsWith(format.prefix) || value.charCodeAt(p) !== UNDERSCORE) return false;
  const second = value.indexOf('_', p + 1);
  if (second - p - 1 < 1 || second - p - 1 > 16) return false; // also second === -1
  for (let i = p + 1; i < second; i++) if (!isDigitOrLower(value.charCodeAt(i))) return false;
  const end = value.length;
  if (end - second - 1 !== randomLength(format.randomBits) + CHECKSUM_LENGTH) return false;
  for (let i = second + 1; i < end; i++) if (!isAlphanumeric(value.charCodeAt(i))) return false;
  let sum = crc32(value.slice(0, end - CHECKSUM_LENGTH));
  for (let i = end - 1; i >= end - CHECKSUM_LENGTH; i--) {
    if (value.charCodeAt(i) !== BASE62_CODES[sum % 62]) return false;
    sum = Math.floor(sum / 62);
  }
  return true;
}

/**
 * Checks a candidate key's shape and checksum without any store lookup. Returns its parts, or `undefined` when the
 * value cannot be a key of this format (wrong prefix, length, alphabet or checksum).
 */
export function parseKey(value: string, format: KeyFormat): ParsedKey | undefined {
  const first = value.indexOf('_');
  if (first <= 0) return undefined;
  const second = value.indexOf('_', first + 1);
  if (second === -1) return undefined;
  const prefix = value.slice(0, first);
  if (prefix !== format.prefix) return undefined;
  const env = value.slice(first + 1, second);
  if (!ENV_RE.test(env)) return undefined;
  const tail = value.slice(second + 1);
  if (tail.length !== randomLength(format.randomBits) + CHECKSUM_LENGTH || !/^[0-9A-Za-z]+$/.test(tail)) return undefined;
  const body = value.slice(0, value.length - CHECKSUM_LENGTH);
  if (checksum(body) !== value.slice(value.length - CHECKSUM_LENGTH)) return undefined;
  return { prefix, env };
}

/** The shape of a keyward key of any prefix and length: `<prefix>_<env>_` and 22 or more base62 characters. */
const KEY_SHAPE = '[a-z][a-z0-9]{0,15}_[a-z0-9]{1,16}_[0-9A-Za-z]{22,}';
const WHOLE_KEY_SHAPE = new RegExp(`^${KEY_SHAPE}$`);

/** True when `value` has the shape of a keyward key of any prefix, whatever its checksum. */
export function isKeyShaped(value: string): boolean {
  return WHOLE_KEY_SHAPE.test(value);
}

/** True when `value` has the shape of a keyward key of any prefix and any length, and its checksum holds. */
export function looksLikeKeywardKey(value: string): boolean {
  return isKeyShaped(value) && checksum(value.slice(0, -CHECKSUM_LENGTH)) === value.slice(-CHECKSUM_LENGTH);
}

/**
 * Every keyward key of any prefix in `text`, its checksum verified, with where it starts. A key-shaped run whose
 * checksum fails is tried again one character later, so a key glued to the word before it is still found. The leak
 * scanner reports these, and the key manager refuses text that holds one.
 */
export function keywardKeysIn(text: string): Array<{ readonly index: number; readonly value: string }> {
  const found: Array<{ index: number; value: string }> = [];
  const re = new RegExp(`${KEY_SHAPE}(?![0-9A-Za-z])`, 'g');
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (looksLikeKeywardKey(m[0])) found.push({ index: m.index, value: m[0] });
    else re.lastIndex = m.index + 1;
  }
  return found;
}

/** A display hint: prefix, env and the last four characters, e.g. `kw_live_…a1B2`. */
export function keyHint(key: string, parsed: ParsedKey): string {
  return `${parsed.prefix}_${parsed.env}_…${key.slice(-4)}`;
}
