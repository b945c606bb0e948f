import * as nodeCrypto from 'node:crypto';
import { createHash } from 'node:crypto';

/** Node's one-shot `crypto.hash` (Node ≥ 20.12) avoids a Hash object per request; fall back where it is missing. */
const oneShot = (nodeCrypto as unknown as { hash?: (algorithm: string, data: string, encoding: 'hex' | 'base64' | 'latin1') => string }).hash;

/**
 * SHA-256 of a UTF-8 string, as hex, base64 or `latin1` (the 32 bytes as a 32-character string: the cheapest to build
 * and to use as a map key). On the request path: one call, no Hash object.
 */
export function sha256(value: string, encoding: 'hex' | 'base64' | 'latin1'): string {
  return oneShot ? oneShot('sha256', value, encoding) : createHash('sha256').update(value, 'utf8').digest().toString(encoding);
}
