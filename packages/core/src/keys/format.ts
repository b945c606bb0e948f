import { crc32 } from 'node:zlib';
import { encodeBase62, randomBase62 } from '../util/base62';

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

/**
 * True when `value` has the overall shape of a keyward key for any prefix and any length: used by the leak scanner,
 * which verifies the checksum itself.
 */
export function looksLikeKeywardKey(value: string): boolean {
  const m = /^([a-z][a-z0-9]{0,15})_([a-z0-9]{1,16})_([0-9A-Za-z]{22,})$/.exec(value);
  if (!m) return false;
  return checksum(value.slice(0, -CHECKSUM_LENGTH)) === value.slice(-CHECKSUM_LENGTH);
}

/** A display hint: prefix, env and the last four characters, e.g. `kw_live_…a1B2`. */
export function keyHint(key: string, parsed: ParsedKey): string {
  return `${parsed.prefix}_${parsed.env}_…${key.slice(-4)}`;
}
