import { randomBytes } from 'node:crypto';
import { redactCredentials } from '../events/redact';

/** Two hex digits for every byte value. */
const HEX = Array.from({ length: 256 }, (_, i) => (i + 256).toString(16).slice(1));
/** Ids per `base`: the last six hex digits. */
const SPAN = 0x1000000;

const hex6 = (v: number): string => HEX[v >>> 16]! + HEX[(v >>> 8) & 255]! + HEX[v & 255]!;

let prefix = '';
let high = SPAN;
let base = '';
let low = SPAN;

/** Draws a new random prefix: `xxxxxxxx-xxxx-8xxx-Vxxx-`, version 8 (RFC 9562's custom layout), variant 10xx. */
function reseed(): void {
  const r = randomBytes(10).toString('hex');
  prefix = `${r.slice(0, 8)}-${r.slice(8, 12)}-8${r.slice(12, 15)}-${(8 | (parseInt(r[15]!, 16) & 3)).toString(16)}${r.slice(16, 19)}-`;
  high = 0;
}

/** Moves to the next block of 2^24 ids (and to a new prefix after 2^48). */
function advance(): void {
  if (high >= SPAN) reseed();
  base = prefix + hex6(high++);
  low = 0;
}

/**
 * A request id in the shape of a UUID (version 8, RFC 9562): 74 random bits drawn once per process, then a counter
 * in the last twelve hex digits. Unique within the process and, with overwhelming probability, across processes.
 * It costs two short string joins: `crypto.randomUUID()` builds each id from twenty concatenations, which on
 * Express 5 (whose requests outlive a young-generation collection) cost a visible share of a request in the garbage
 * collector. Request ids correlate events; they are not secrets.
 */
export function requestId(): string {
  if (low >= SPAN) advance();
  const v = low++;
  return base + hex6(v);
}

/** What a caller may send as its own request id: short, and safe in logs and headers. */
const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request-id rule of the pipeline and of the token endpoint: the value of `header` when it is a plausible id,
 * otherwise a new one ({@link requestId}). `header` is the `requestIdHeader` option (lower case), `false` to always
 * draw a new id. A value shaped like a credential (a keyward key, a JWT: {@link redactCredentials}) is not an id:
 * request ids go into every event and log line, and a misconfigured client may send its key in the header. Nor is a
 * value of 8+ characters found in a header or query credentials come from (`credentials`: an opaque legacy key sent
 * as `Authorization: Bearer …` and as the id). A UUID,
 * a W3C trace id or any id without `_`, `%` or both `ey`/`ew` and a `.` costs one loop over its characters for that.
 */
export function requestIdFrom(header: string | false, credentials: RequestIdCredentials = {}): (request: { readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>; readonly query?: string }) => string {
  if (header === false) return requestId;
  const names = credentials.headers ?? ['authorization'];
  const query = credentials.query === true;
  return (request) => {
    const v = request.headers[header];
    if (typeof v !== 'string' || !REQUEST_ID_RE.test(v) || redactCredentials(v) !== v) return requestId();
    // A credential of any shape (a legacy key, an opaque token) sent as the id too: refused as a key-shaped one is.
    if (v.length >= MIN_CREDENTIAL_LENGTH) {
      for (const name of names) {
        const c = request.headers[name];
        if (typeof c === 'string' ? c.includes(v) : c !== undefined && c.some((x) => x.includes(v))) return requestId();
      }
      if (query && request.query !== undefined && request.query.includes(v)) return requestId();
    }
    return v;
  };
}

/** Where a request's credential may stand, so that a request id repeating it is not taken (see {@link requestIdFrom}). */
export interface RequestIdCredentials {
  /** Lower-case header names holding credentials (default `['authorization']`). */
  readonly headers?: readonly string[];
  /** Whether credentials may come in the query string. */
  readonly query?: boolean;
}

/** The shortest id looked for in the credential headers (shorter ones would be found in them by chance). */
const MIN_CREDENTIAL_LENGTH = 8;
