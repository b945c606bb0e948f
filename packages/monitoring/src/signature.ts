import { createHmac } from 'node:crypto';
import { fieldsOf, refuseUnknownInput, safeEqual } from '@keyward/core';

/** The header carrying a webhook's signature. */
export const SIGNATURE_HEADER = 'X-Keyward-Signature';

/**
 * Signs a webhook body: `t=<unix seconds>,v1=<hex HMAC-SHA-256 of "<t>.<body>">`.
 *
 * @param secret - the shared secret
 * @param body - the exact bytes sent
 * @param timestamp - unix seconds
 */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** What {@link verifyWebhookSignature} takes. */
export interface VerifyWebhookInput {
  /** The shared secret. */
  secret: string;
  /** The `X-Keyward-Signature` header as received. */
  header: string | readonly string[] | undefined;
  /** The raw body as received (not re-serialised JSON). */
  body: string | Buffer;
  /** Largest accepted age of the timestamp, in seconds (default 300), against replays. */
  toleranceSeconds?: number;
  /** Current time in ms (default `Date.now()`). */
  now?: number;
}

/** Every field of {@link VerifyWebhookInput}: a misspelt `toleranceSeconds` must not leave the default replay window. */
const INPUT = fieldsOf<VerifyWebhookInput>({ secret: true, header: true, body: true, toleranceSeconds: true, now: true });

/**
 * Checks a webhook's signature in constant time, and that its timestamp is within the tolerance. Accepts any of
 * several `v1=` values (sent while a secret is being rotated).
 *
 * @example
 * ```ts
 * app.post('/hooks/keyward', express.text({ type: '*\/*' }), (req, res) => {
 *   if (!verifyWebhookSignature({ secret, header: req.get('x-keyward-signature'), body: req.body })) return res.sendStatus(401);
 *   …
 * });
 * ```
 * @throws TypeError for a missing secret, a body that is not raw, a tolerance or time that is not a finite number, or
 *   an unknown field of `input`
 */
export function verifyWebhookSignature(input: VerifyWebhookInput): boolean {
  if (typeof input !== 'object' || input === null) throw new TypeError('keyward: verifyWebhookSignature() takes an input object');
  refuseUnknownInput(input, INPUT, 'verifyWebhookSignature()');
  const { secret, header } = input;
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('keyward: "secret" must be a non-empty string');
  if (typeof input.body !== 'string' && !Buffer.isBuffer(input.body)) throw new TypeError('keyward: "body" must be the raw body, a string or a Buffer');
  // A NaN here (`Number(process.env.X)` of an unset variable) would make every age pass the check below: refused.
  const tolerance = input.toleranceSeconds ?? 300;
  if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0) throw new TypeError('keyward: "toleranceSeconds" must be a non-negative number of seconds');
  const nowMs = input.now ?? Date.now();
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) throw new TypeError('keyward: "now" must be a time in ms since the epoch');
  if (typeof header !== 'string') return false;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't') {
      // A second timestamp: the header repeated (Node joins a repeated header with ", ") or malformed. Refused.
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return false;
      timestamp = Number(value);
    }
    else if (name === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  const now = Math.floor(nowMs / 1000);
  if (Math.abs(now - timestamp) > tolerance) return false;
  const body = typeof input.body === 'string' ? input.body : input.body.toString('utf8');
  const expected = signWebhook(secret, body, timestamp).slice(`t=${timestamp},v1=`.length);
  let ok = false;
  for (const s of signatures) if (safeEqual(s, expected)) ok = true;
  return ok;
}
