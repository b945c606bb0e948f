import { timingSafeEqual } from 'node:crypto';

/**
 * Compares two strings in time that depends only on their lengths, never on where they differ.
 * Use it for every comparison of a secret or a hash.
 */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ab.length !== bb.length) {
    // Still spend the time of a comparison so the length check does not stand out.
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}
