import { randomBytes } from 'node:crypto';

/** The base62 alphabet: digits, upper case, lower case. */
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The character codes of {@link BASE62}, by digit value. */
export const BASE62_CODES: readonly number[] = Array.from(BASE62, (c) => c.charCodeAt(0));

/**
 * Returns `length` base62 characters drawn uniformly from a CSPRNG (rejection sampling, no modulo bias).
 */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(Math.ceil((length - out.length) * 1.3) + 8);
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      const b = bytes[i]! & 0x3f; // 0..63, uniform
      if (b < 62) out += BASE62[b];
    }
  }
  return out;
}

/** Encodes a non-negative integer (< 2^53) in base62, left-padded with zeros to `width`. */
export function encodeBase62(value: number, width: number): string {
  let out = '';
  let v = value;
  do {
    out = BASE62[v % 62] + out;
    v = Math.floor(v / 62);
  } while (v > 0);
  return out.padStart(width, '0');
}
