import { looksLikeKeywardKey } from '../keys/format';

/** Header names whose values are credentials and are always redacted. */
export const SENSITIVE_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'x-api-key', 'cookie', 'set-cookie'];

/**
 * Query parameter names whose values are redacted. Names that merely look credential-like (see
 * {@link isCredentialName}) are redacted too.
 */
export const SENSITIVE_QUERY_PARAMS: readonly string[] = [
  'api_key', 'apikey', 'api-key', 'key', 'token', 'access_token', 'refresh_token', 'id_token', 'client_secret', 'secret', 'password', 'sig', 'signature',
  'client_assertion', 'assertion', 'code_verifier', 'device_code', 'oauth_verifier', 'samlresponse', 'samlart', 'otp',
];

/**
 * Query parameter names that carry a credential in a URL but are ordinary words elsewhere: OAuth's authorization
 * `code` (`/callback?code=…&state=…`, exchanged for tokens) and a CAS service `ticket`. Redacted as parameters — after
 * `?`, `#`, `&` or `;`, at the start of a query string, and as fields of a parsed query — but not in free text
 * (`failed with code=500`) nor as other fields (an error's `code`).
 */
export const SENSITIVE_URL_PARAMS: readonly string[] = ['code', 'ticket'];
const URL_PARAM_NAMES: ReadonlySet<string> = new Set(SENSITIVE_URL_PARAMS);

/** The placeholder that replaces a redacted value. */
export const REDACTED = '[REDACTED]';

/**
 * Returns a copy of `headers` with credential headers — those in {@link SENSITIVE_HEADERS}, any in `extra`, and any
 * whose name {@link isCredentialName | looks credential-like} (`X-Auth-Token`, `X-Client-Secret`, a deployment's own
 * `X-Partner-Key`) — replaced by `[REDACTED]`, and a keyward key or a JWT in any other header's value (a `Referer`, a
 * `User-Agent`) redacted ({@link redactCredentials}). Names are matched case-insensitively; the input is not modified.
 *
 * @example
 * ```ts
 * logger.info({ headers: redactHeaders(req.headers, ['x-my-key']) });
 * ```
 */
export function redactHeaders<T extends Record<string, unknown>>(headers: T, extra: readonly string[] = []): T {
  const names = new Set([...SENSITIVE_HEADERS, ...extra.map((h) => h.toLowerCase())]);
  const shown = (value: unknown): unknown => (typeof value === 'string' ? redactCredentials(value) : Array.isArray(value) ? value.map(shown) : value);
  // Object.fromEntries makes every name an own property: a header named `__proto__` stays a header, never a prototype.
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, value === undefined ? value : names.has(name.toLowerCase()) || isCredentialName(name) ? REDACTED : shown(value)])) as T;
}

const DEFAULT_QUERY_NAMES: ReadonlySet<string> = new Set(SENSITIVE_QUERY_PARAMS);

function queryNames(extra: readonly string[]): ReadonlySet<string> {
  return extra.length === 0 ? DEFAULT_QUERY_NAMES : new Set([...SENSITIVE_QUERY_PARAMS, ...extra.map((h) => h.toLowerCase())]);
}

/**
 * Returns `url` (a path with an optional query string, or a query string alone) with the values of credential-like
 * parameters (those in {@link SENSITIVE_QUERY_PARAMS}, any in `extra`, any whose name
 * {@link isCredentialName | looks credential-like}, and {@link SENSITIVE_URL_PARAMS} such as OAuth's `code` where they
 * stand as parameters) replaced by `[REDACTED]` — after `&` or `;`, in a fragment, or as a
 * path segment's `;name=value`, the name read behind up to three levels of escaping — then the user information of a
 * URL (`https://user:password@host`), and then every credential-shaped substring, in the path as in the query,
 * replaced too (see {@link redactCredentials}: keyward keys of any prefix, JWTs).
 *
 * @example
 * ```ts
 * redactQuery('/v1/x?api_key=kw_live_abc&page=2') // '/v1/x?api_key=[REDACTED]&page=2'
 * redactQuery('/v1/x?apiToken=abc')               // '/v1/x?apiToken=[REDACTED]'
 * redactQuery('/cb#access_token=abc&state=1')     // '/cb#access_token=[REDACTED]&state=1'
 * redactQuery('/cb?code=abc&state=1')             // '/cb?code=[REDACTED]&state=1'
 * ```
 */
export function redactQuery(url: string, extra: readonly string[] = []): string {
  return redactCredentials(redactUserinfo(redactNamedParams(url, queryNames(extra))));
}

/**
 * `text` with the user information of every URL in it (`https://user:password@host`, `redis://:password@host`, and a
 * path's leading `//user:password@host`) replaced by `[REDACTED]`: a password, or a key given as the user name
 * (`https://<key>:@api.example`), is a credential. The authority ends at `/`, `?`, `#`, white space or a quote.
 */
function redactUserinfo(text: string): string {
  if (text.indexOf('@') === -1) return text;
  let out = '';
  let from = 0;
  let at = text.charCodeAt(0) === SLASH && text.charCodeAt(1) === SLASH ? 2 : -1;
  if (at === -1) at = authorityAfterScheme(text, 0);
  while (at !== -1) {
    let end = at;
    let userEnd = -1;
    for (; end < text.length; end++) {
      const c = text.charCodeAt(end);
      if (c === SLASH || c === QUESTION || c === HASH || c <= 0x20 || c === 34 /* " */ || c === 39 /* ' */ || c === 60 /* < */ || c === 62 /* > */) break;
      if (c === 64 /* @ */) userEnd = end;
    }
    if (userEnd !== -1) {
      out += `${text.slice(from, at)}${REDACTED}`;
      from = userEnd;
    }
    at = authorityAfterScheme(text, end);
  }
  return from === 0 ? text : out + text.slice(from);
}

/** Where the authority of the next `scheme://` at or after `from` starts, or -1. */
function authorityAfterScheme(text: string, from: number): number {
  const i = text.indexOf('://', from);
  return i === -1 ? -1 : i + 3;
}

const AMPERSAND = 38, SEMICOLON = 59, QUESTION = 63, HASH = 35, SLASH = 47, SPACE = 32;

/**
 * The name-based half of {@link redactQuery}, in one pass over `url`'s characters. In a path (text starting with `/`)
 * the parameters are the `;name=value` ones of a segment (`/a;jsessionid=…/b`, ended by `/` or `;`); from the first
 * `?` or `#` on (and in text that is no path, from its start) every part between `&`, `;`, `?`, `#` and white space
 * is one: `;` is a separator to some parsers, a fragment carries parameters too (`#access_token=…`, OAuth's implicit
 * flow), a second `?` starts a parameter to others, and text that is no URL writes `name=value` pairs apart
 * (`host=db user=app password=…`, a PostgreSQL connection string; no URL holds raw white space). Redacting a part too
 * many only hides a value.
 *
 * A value holding percent-escapes is redacted whole, whatever its parameter's name, when its unescaped form (up to
 * three levels) holds a credential parameter or a URL's user information: `?x=1%26api_key%3D…` is `x=1&api_key=…` to
 * a server that decodes twice, and `?next=%2Fcb%3Fcode%3D…` carries an authorization code in a redirect URL.
 * `nested`: reading such an unescaped value, which is not searched again.
 */
function redactNamedParams(url: string, names: ReadonlySet<string>, nested = false): string {
  if (url.indexOf('=') === -1) return url; // only `name=value` parts are redacted by name
  let inQuery = url.charCodeAt(0) !== SLASH;
  let param = inQuery; // whether the part now read can be a parameter
  let partStart = 0;
  let eq = -1; // the part's first `=`
  let escaped = false; // whether the part's value holds a `%`
  let out = '';
  let from = 0;
  for (let i = 0; i <= url.length; i++) {
    const c = i < url.length ? url.charCodeAt(i) : -1;
    if (c === 61 /* = */) {
      if (eq === -1) eq = i;
      continue;
    }
    if (c === PERCENT) {
      if (eq !== -1) escaped = true;
      continue;
    }
    if (!(c === -1 || c === AMPERSAND || c === SEMICOLON || c === QUESTION || c === HASH || c <= SPACE || (c === SLASH && !inQuery))) continue;
    if (param && eq !== -1 && (isSensitiveName(url.slice(partStart, eq), names, partStart === 0 || url.charCodeAt(partStart - 1) > SPACE) || (escaped && !nested && hidesCredential(url.slice(eq + 1, i), names)))) {
      out += `${url.slice(from, eq + 1)}${REDACTED}`;
      from = i;
    }
    if (c === QUESTION || c === HASH || (c !== -1 && c <= SPACE)) inQuery = true; // a path has no raw white space: what follows is text
    param = inQuery || c === SEMICOLON || (c === AMPERSAND && param);
    partStart = i + 1;
    eq = -1;
    escaped = false;
  }
  return from === 0 ? url : out + url.slice(from);
}

/**
 * Whether a percent-escaped parameter value, once unescaped (up to three levels), holds a credential parameter
 * (`1&api_key=…`, `/cb?code=…`) or a URL's user information (`https://user:password@host`).
 */
function hidesCredential(value: string, names: ReadonlySet<string>): boolean {
  let unescaped = value;
  for (let depth = 0; depth < MAX_UNESCAPES; depth++) {
    const next = unescapeVisible(unescaped);
    if (next === unescaped) break;
    unescaped = next;
  }
  return unescaped !== value && (redactNamedParams(unescaped, names, true) !== unescaped || redactUserinfo(unescaped) !== unescaped);
}

/** How many times a parameter name is unescaped, at most: as many levels as values are looked behind (`%5F`, `%255F`, `%25255F`). */
const MAX_NAME_UNESCAPES = 3;

/**
 * Whether a raw parameter name, once `+` and up to three levels of percent-escapes are undone, is a credential's.
 * `inUrl`: the part starts the text or follows `?`, `#`, `&` or `;` (not white space), so {@link SENSITIVE_URL_PARAMS}
 * count too.
 */
function isSensitiveName(rawName: string, names: ReadonlySet<string>, inUrl: boolean): boolean {
  let name = rawName;
  if (name.indexOf('+') !== -1) name = name.replace(/\+/g, ' ');
  // Tolerant of malformed escapes (`api%5Fkey%`), which decodeURIComponent would refuse whole.
  for (let depth = 0; depth < MAX_NAME_UNESCAPES && name.indexOf('%') !== -1; depth++) {
    const unescaped = name.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (unescaped === name) break;
    name = unescaped;
  }
  const lower = name.trim().toLowerCase();
  return names.has(lower) || (inUrl && URL_PARAM_NAMES.has(lower)) || isCredentialName(name);
}

const ZERO = 48, NINE = 57, UPPER_A = 65, UPPER_Z = 90, LOWER_A = 97, LOWER_Z = 122;
const UNDERSCORE = 95, HYPHEN = 45, DOT = 46, PERCENT = 37, LOWER_E = 101, LOWER_W = 119, LOWER_Y = 121;
const isLowerOrDigit = (c: number) => (c >= ZERO && c <= NINE) || (c >= LOWER_A && c <= LOWER_Z);
const isUpper = (c: number) => c >= UPPER_A && c <= UPPER_Z;
const isAlphanumeric = (c: number) => isLowerOrDigit(c) || isUpper(c);
const isBase64Url = (c: number) => isAlphanumeric(c) || c === HYPHEN || c === UNDERSCORE;

/**
 * Words that make a parameter name credential-like wherever they stand in it (`x-api-key`, `apiToken`, `X-Amz-Signature`,
 * `client_assertion`, `code_verifier`, `oauth_verifier`, `SAMLResponse`).
 */
const CREDENTIAL_WORDS: ReadonlySet<string> = new Set([
  'key', 'apikey', 'accesskey', 'secretkey', 'privatekey', 'authkey', 'sessionkey', 'token', 'secret', 'password', 'passwd', 'pwd', 'pass', 'passcode', 'passphrase',
  'auth', 'authorization', 'signature', 'sig', 'credential', 'credentials', 'jwt', 'bearer', 'session', 'sessionid', 'jsessionid', 'phpsessid', 'cookie', 'hmac',
  'assertion', 'verifier', 'otp', 'samlresponse', 'samlart',
]);
/** Endings that make a one-word name credential-like (`accesstoken`, `clientsecret`, `xapikey`). */
const CREDENTIAL_ENDINGS: readonly string[] = ['apikey', 'token', 'secret', 'password', 'passwd', 'signature', 'credential', 'credentials'];

function isCredentialWord(word: string): boolean {
  if (CREDENTIAL_WORDS.has(word)) return true;
  for (const ending of CREDENTIAL_ENDINGS) if (word.endsWith(ending)) return true;
  return false;
}

/**
 * True when a query parameter (or field) name looks like it carries a credential: one of its words — split at
 * anything but letters and digits and where a lower-case letter or digit meets an upper-case one — is `key`,
 * `token`, `secret`, `password`, `auth`, `signature`, `sig`, `credential`, `session`… or ends in `token`, `secret`,
 * `apikey`…. Case-insensitive; `keyword` or `author` do not count.
 *
 * @example
 * ```ts
 * isCredentialName('x-api-key') // true
 * isCredentialName('apiToken')  // true
 * isCredentialName('page')      // false
 * ```
 */
export function isCredentialName(name: string): boolean {
  let start = 0;
  for (let i = 0; i <= name.length; i++) {
    const c = i < name.length ? name.charCodeAt(i) : -1;
    const inWord = c !== -1 && isAlphanumeric(c);
    if (inWord && !(isUpper(c) && i > start && isLowerOrDigit(name.charCodeAt(i - 1)))) continue;
    if (i > start && isCredentialWord(name.slice(start, i).toLowerCase())) return true;
    start = inWord ? i : i + 1;
  }
  return false;
}

/** Fewest base62 characters after `<prefix>_<env>_` for a key to be redacted (128 random bits). */
const MIN_KEY_TAIL = 22;
const MAX_PREFIX = 16;
const MAX_ENV = 16;
/** Fewest characters of a JWT's first segment (`eyJ` + the rest of `{"alg":…}`, or `eyAi…` for `{ "alg": …}`). */
const MIN_JWT_HEADER = 10;
/** A presented credential shorter than this is not searched for (it would match ordinary text). */
const MIN_VALUE_LENGTH = 8;

/** The end of a key whose first underscore is at `u` (`_<env>_<22+ alphanumerics>`), or -1. At most 17 + tail characters read. */
function keyEnd(s: string, u: number): number {
  let i = u + 1;
  const envLimit = Math.min(s.length, i + MAX_ENV + 1);
  while (i < envLimit && isLowerOrDigit(s.charCodeAt(i))) i++;
  const env = i - u - 1;
  if (env < 1 || env > MAX_ENV || s.charCodeAt(i) !== UNDERSCORE) return -1;
  const tail = ++i;
  while (i < s.length && isAlphanumeric(s.charCodeAt(i))) i++;
  return i - tail >= MIN_KEY_TAIL ? i : -1;
}

/** Where a key prefix ending just before `u` starts (the leftmost letter of up to 16 `[a-z0-9]`), or -1. */
function prefixStart(s: string, u: number): number {
  let start = -1;
  for (let i = u - 1; i >= 0 && u - i <= MAX_PREFIX; i--) {
    const c = s.charCodeAt(i);
    if (!isLowerOrDigit(c)) break;
    if (c >= LOWER_A) start = i;
  }
  return start;
}

/** The value of a base64url character, or -1. */
function base64UrlValue(c: number): number {
  if (c >= UPPER_A && c <= UPPER_Z) return c - UPPER_A;
  if (c >= LOWER_A && c <= LOWER_Z) return c - LOWER_A + 26;
  if (c >= ZERO && c <= NINE) return c - ZERO + 52;
  return c === HYPHEN ? 62 : c === UNDERSCORE ? 63 : -1;
}

/** Whether `c` can follow the `e` of base64url text opening with `{` and then `"` or white space (`ey…`, `ew…`). */
const isJsonOpeningSecond = (c: number): boolean => c === LOWER_Y || c === LOWER_W;

/** Base64url characters decoded, at most, to tell whether a segment opens a JSON object: 12 bytes. */
const JWT_HEADER_PROBE = 16;

/**
 * Whether the base64url text at `at` opens a JSON object's first member: `{`, JSON white space, then `"` — `{"alg"…`
 * (`eyJ…`) and a header written with spaces or new lines, `{ "alg"…` (`eyAi…`), `{\n  "alg"…` (`ewog…`), which jose
 * accepts alike. At most 16 characters are read.
 */
function opensJsonObject(s: string, at: number): boolean {
  let bits = 0;
  let n = 0;
  let byteIndex = 0;
  const limit = Math.min(s.length, at + JWT_HEADER_PROBE);
  for (let i = at; i < limit; i++) {
    const v = base64UrlValue(s.charCodeAt(i));
    if (v === -1) return false;
    bits = ((bits << 6) | v) & 0xfff;
    n += 6;
    if (n < 8) continue;
    n -= 8;
    const byte = (bits >> n) & 0xff;
    if (byteIndex++ === 0) {
      if (byte !== 0x7b /* { */) return false;
    } else if (byte === 0x22 /* " */) return true;
    else if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  }
  return false;
}

/**
 * The end of a JWT starting at `at` (a JSON object's opening, see {@link opensJsonObject}, 10+ base64url characters in
 * all, `.`, a non-empty segment, `.`, then every base64url character or dot: the signature and a JWE's further
 * segments), or `-(end of the first segment) - 1` when it is not one: every later candidate inside that segment would
 * fail the same way, so the scan resumes there.
 */
function jwtEnd(s: string, at: number): number {
  let i = at;
  while (i < s.length && isBase64Url(s.charCodeAt(i))) i++;
  if (i - at < MIN_JWT_HEADER || s.charCodeAt(i) !== DOT) return -i - 1;
  let j = i + 1;
  while (j < s.length && isBase64Url(s.charCodeAt(j))) j++;
  if (j === i + 1 || s.charCodeAt(j) !== DOT) return -i - 1;
  for (j++; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (!isBase64Url(c) && c !== DOT) break;
  }
  return j;
}

/**
 * Whether the key shape `[start, end)` is glued into a longer run of base64url characters: a base64url character
 * before it (an upper-case letter, `-`, `_`, or a lower-case letter or digit its prefix could not take), or `-` or `_`
 * after it. Random base64url (a JWK's `y`, a nonce, a digest) holds `…w_g_` and 22 alphanumerics by chance (about one
 * EC key's `y` in 700, one RSA modulus in 50); such a shape is a key only when its checksum holds ({@link checkedKeyStart}).
 */
function gluedIntoBase64Url(s: string, start: number, end: number): boolean {
  if (start > 0 && isBase64Url(s.charCodeAt(start - 1))) return true;
  const after = s.charCodeAt(end);
  return after === HYPHEN || after === UNDERSCORE;
}

/**
 * Where a key whose checksum holds starts, ending at `end` with its prefix between `start` and the underscore `u` (a
 * real key glued behind other letters: `Xab<key>`), or -1. At most 16 checksums of one shape.
 */
function checkedKeyStart(s: string, start: number, u: number, end: number): number {
  for (let at = start; at < u; at++) if (s.charCodeAt(at) >= LOWER_A && looksLikeKeywardKey(s.slice(at, end))) return at;
  return -1;
}

/**
 * The `[start, end)` ranges of credential shapes in `s`, appended to `out`, in one pass over its characters:
 * - keys: at each `_`, `<prefix>_<env>_<22+ base62>` with any `[a-z][a-z0-9]{0,15}` prefix (the configured one, an
 *   earlier one, another deployment's). Shape only, no checksum: a near-miss of a key goes too; but a shape glued into
 *   a longer run of base64url ({@link gluedIntoBase64Url}) only with its checksum.
 * - JWTs: at each `e` that opens a JSON object's base64url (`eyJ`, `eyAi`, `ewog`…: {@link opensJsonObject}), see
 *   {@link jwtEnd}.
 * Linear: an underscore costs at most 33 characters read around it plus a tail shorter than 22 when it is no key; a
 * failed candidate keeps later ones inside its first segment from being tried again; a JWT is skipped whole (a key inside
 * it lies inside its range).
 */
function shapeRanges(s: string, out: number[] | undefined): number[] | undefined {
  let jwtFrom = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === UNDERSCORE) {
      let start = prefixStart(s, i);
      const end = start === -1 ? -1 : keyEnd(s, i);
      if (end !== -1 && gluedIntoBase64Url(s, start, end)) start = checkedKeyStart(s, start, i, end);
      if (end !== -1 && start !== -1) (out ??= []).push(start, end);
    } else if (c === LOWER_E && i >= jwtFrom && isJsonOpeningSecond(s.charCodeAt(i + 1)) && opensJsonObject(s, i)) {
      const end = jwtEnd(s, i);
      if (end >= 0) {
        (out ??= []).push(i, end);
        i = end;
        continue;
      }
      jwtFrom = -end - 1;
    }
    i++;
  }
  return out;
}

/**
 * Whether `s` holds anything shaped like a JWT (a base64url JSON object — `eyJ…`, or `eyAi…` for a header written with
 * spaces — `.` `…` `.` `…`, as {@link redactCredentials} finds them), in one linear pass: a failed candidate keeps
 * later ones inside its first segment from being tried again.
 */
export function containsJwt(s: string): boolean {
  let jwtFrom = 0;
  for (let i = s.indexOf('e'); i !== -1; i = s.indexOf('e', i + 1)) {
    if (i < jwtFrom || !isJsonOpeningSecond(s.charCodeAt(i + 1)) || !opensJsonObject(s, i)) continue;
    const end = jwtEnd(s, i);
    if (end >= 0) return true;
    jwtFrom = -end - 1;
  }
  return false;
}

/** Replaces the (unordered, possibly overlapping) ranges with {@link REDACTED}. */
function applyRanges(s: string, ranges: number[]): string {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i]!, ranges[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  let out = '';
  let from = 0;
  for (let i = 0; i < pairs.length; i++) {
    const start = pairs[i]![0];
    let end = pairs[i]![1];
    while (i + 1 < pairs.length && pairs[i + 1]![0] <= end) end = Math.max(end, pairs[++i]![1]);
    out += s.slice(from, start) + REDACTED;
    from = end;
  }
  return out + s.slice(from);
}

/**
 * What {@link charsOf} found: what a shape needs (`_` for keys; `ey` or `ew` and a `.` for a JWT), a `%`, a run of
 * base64 characters long enough to encode one ({@link MIN_BASE64_RUN}).
 */
const MAY_HOLD_SHAPE = 1;
const HAS_ESCAPE = 2;
const HAS_JSON_OPENING = 4;
const HAS_DOT = 8;
const MAY_HOLD_JWT = HAS_JSON_OPENING | HAS_DOT;
const MAY_HOLD_BASE64 = 16;
const HAS_BASIC_SCHEME = 32;

/** The value of each base64 character, standard (`+`, `/`) or base64url (`-`, `_`), by its code; -1 for others. */
const BASE64_VALUE: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let v = 0; v < 64; v++) table[alphabet.charCodeAt(v)] = v;
  table[HYPHEN] = 62;
  table[UNDERSCORE] = 63;
  return table;
})();
const isBase64Char = (c: number): boolean => c < 128 && BASE64_VALUE[c]! >= 0;

/**
 * Fewest bytes of decoded text searched for a credential: the shortest text {@link shapeRanges} finds a JWT in (a
 * 10-character header, `.`, one character, `.`); a key needs 26.
 */
const MIN_DECODED = 13;
/** Fewest base64 characters that encode {@link MIN_DECODED} bytes: shorter stretches are not decoded. */
const MIN_BASE64_RUN = Math.ceil((MIN_DECODED * 8) / 6);

/**
 * Whether a base64 character of value `v` can stand at `role` (its place in a group of four) in the encoding of
 * printable ASCII (bytes 0x20–0x7E, as a key, a JWT and `id:key` are): the first holds a byte's top six bits (8–31),
 * the second the next byte's top four (2–7) in its low four, the third the last byte's top two (0 or 1) in its low two.
 */
function fitsRole(v: number, role: number): boolean {
  if (role === 0) return v >= 8 && v <= 31;
  if (role === 1) return (v & 15) >= 2 && (v & 15) <= 7;
  return role === 3 || (v & 3) <= 1;
}

/**
 * For a character code below 128 at index `i`, at `((i & 3) << 7) | code`: byte `k` is 0xFF when the character can
 * stand where it is in base64 of printable ASCII whose groups start at indices `≡ k (mod 4)` ({@link fitsRole}), else
 * 0. {@link charsOf} keeps four counters in one number with it, one per alignment.
 */
const STREAK_MASK: Int32Array = (() => {
  const table = new Int32Array(4 * 128);
  for (let phase = 0; phase < 4; phase++) {
    for (let c = 0; c < 128; c++) {
      const v = BASE64_VALUE[c]!;
      if (v < 0) continue;
      let mask = 0;
      for (let k = 0; k < 4; k++) if (fitsRole(v, (phase - k) & 3)) mask |= 0xff << (8 * k);
      table[(phase << 7) | c] = mask;
    }
  }
  return table;
})();
/**
 * Added to the four counters, sets a byte's top bit when its counter has reached {@link MIN_BASE64_RUN} less one: the
 * last character of an encoding ends in zero bits, not the next byte's, and may not fit its role.
 */
const STREAK_REACHED = (0x80 - (MIN_BASE64_RUN - 1)) * 0x01010101;

/**
 * What a character below 128 may mark in {@link charsOf}: `_`, `%` and `.` their flags; `e` a JSON opening and white
 * space a `Basic` scheme, each once the characters around it are read.
 */
const MARKS: Uint8Array = (() => {
  const table = new Uint8Array(128);
  table[UNDERSCORE] = MAY_HOLD_SHAPE;
  table[PERCENT] = HAS_ESCAPE;
  table[DOT] = HAS_DOT;
  table[LOWER_E] = HAS_JSON_OPENING;
  table[SPACE] = HAS_BASIC_SCHEME;
  table[9 /* tab */] = HAS_BASIC_SCHEME;
  return table;
})();

/**
 * One loop over the characters, no call and no allocation: the common path holds none of them and pays only this.
 * Base64 is noted only when {@link MIN_BASE64_RUN} characters in a row could encode printable ASCII at one of the
 * four alignments (four counters of a byte each in `streaks`, a character's {@link STREAK_MASK} keeping those it
 * continues): paths, UUIDs and user agents almost never have such a stretch, and base64 of a key always does.
 */
function charsOf(s: string): number {
  let found = 0;
  let streaks = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128) {
      streaks = 0;
      continue;
    }
    streaks = (streaks + 0x01010101) & STREAK_MASK[((i & 3) << 7) | c]!;
    if (((streaks + STREAK_REACHED) & 0x80808080) !== 0) {
      found |= MAY_HOLD_BASE64;
      streaks = 0; // noted once; no counter may pass 0x7F
    }
    const marks = MARKS[c]!;
    if (marks === 0) continue;
    if (marks === HAS_JSON_OPENING) {
      if (isJsonOpeningSecond(s.charCodeAt(i + 1))) found |= HAS_JSON_OPENING;
    } else if (marks === HAS_BASIC_SCHEME) {
      if ((s.charCodeAt(i - 1) | 0x20) === LOWER_C && schemeBasicBefore(s, i)) found |= HAS_BASIC_SCHEME;
    } else found |= marks;
  }
  const kept = found & (MAY_HOLD_SHAPE | HAS_ESCAPE | MAY_HOLD_BASE64 | HAS_BASIC_SCHEME);
  return (found & MAY_HOLD_JWT) === MAY_HOLD_JWT ? kept | MAY_HOLD_SHAPE : kept;
}

const TAB = 9, LOWER_B = 98, LOWER_C = 99;

/** Whether `Basic` (any case, a word of its own) ends just before the white space at `i`. */
function schemeBasicBefore(s: string, i: number): boolean {
  if (i < 5 || (i > 5 && isAlphanumeric(s.charCodeAt(i - 6)))) return false;
  return (s.charCodeAt(i - 5) | 0x20) === LOWER_B && (s.charCodeAt(i - 4) | 0x20) === LOWER_A && (s.charCodeAt(i - 3) | 0x20) === 115 /* s */ && (s.charCodeAt(i - 2) | 0x20) === 105 /* i */;
}

/**
 * The ranges of HTTP Basic credentials (RFC 7617) in `s`, appended to `out`: after `Basic` (any case) and white space,
 * base64 or base64url that decodes to text with a `:` (`user:password`), however short, with its `=` padding. What
 * decodes to no `user:password` (`Basic authentication`, a challenge's `Basic realm="api"`) is prose and stays.
 */
function basicRanges(s: string, out: number[] | undefined): number[] | undefined {
  for (let i = 5; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c === SPACE || c === TAB) && (s.charCodeAt(i - 1) | 0x20) === LOWER_C && schemeBasicBefore(s, i))) continue;
    let from = i + 1;
    while (from < s.length && (s.charCodeAt(from) === SPACE || s.charCodeAt(from) === TAB)) from++;
    let to = from;
    while (to < s.length && isBase64Char(s.charCodeAt(to))) to++;
    let end = to;
    while (end < s.length && end - to < 2 && s.charCodeAt(end) === 61 /* = */) end++;
    if (to > from && !isBase64Char(s.charCodeAt(end)) && decodeBase64(s, from, to).indexOf(':') !== -1) (out ??= []).push(from, end);
    i = to;
  }
  return out;
}

/** Whether a decoded byte is printable ASCII: a key, a JWT and `id:key` are nothing else. */
const isPrintable = (byte: number): boolean => byte >= 0x20 && byte < 0x7f;

/**
 * Whether the group of base64 characters at `g` (four, or fewer where the run ends at `end`) decodes to printable
 * ASCII only. A group of one character encodes no whole byte and does not count.
 */
function printableGroup(s: string, g: number, end: number): boolean {
  const n = Math.min(4, end - g);
  if (n < 2) return false;
  const v0 = BASE64_VALUE[s.charCodeAt(g)]!;
  const v1 = BASE64_VALUE[s.charCodeAt(g + 1)]!;
  if (!isPrintable((v0 << 2) | (v1 >> 4))) return false;
  if (n < 3) return true;
  const v2 = BASE64_VALUE[s.charCodeAt(g + 2)]!;
  if (!isPrintable(((v1 & 15) << 4) | (v2 >> 2))) return false;
  return n < 4 || isPrintable(((v2 & 3) << 6) | BASE64_VALUE[s.charCodeAt(g + 3)]!);
}

/** The bytes that the base64 characters `[from, to)` encode, as Latin-1 text (whole bytes only). */
function decodeBase64(s: string, from: number, to: number): string {
  let out = '';
  let bits = 0;
  let n = 0;
  for (let i = from; i < to; i++) {
    bits = ((bits << 6) | BASE64_VALUE[s.charCodeAt(i)]!) & 0xffff;
    n += 6;
    if (n >= 8) {
      n -= 8;
      out += String.fromCharCode((bits >> n) & 0xff);
    }
  }
  return out;
}

/**
 * Appends to `out` the part of the base64 characters `[from, to)` that encodes a key or a JWT shape
 * ({@link shapeRanges}) in their decoded text, when there is one: the characters encoding it, widened to the stretch
 * and the rest of its last group but not across a `/` (in a path, `/v1/keys/<base64>` is one run of base64
 * characters; the segments before stay), and the `=` padding after it (escaped or not: `%3D`).
 */
function encodedCredential(s: string, from: number, to: number, out: number[] | undefined): number[] | undefined {
  if (Math.floor(((to - from) * 6) / 8) < MIN_DECODED) return out;
  const found = shapeRanges(decodeBase64(s, from, to), undefined);
  if (found === undefined) return out;
  let first = found[0]!;
  let last = found[1]!;
  for (let r = 2; r < found.length; r += 2) {
    first = Math.min(first, found[r]!);
    last = Math.max(last, found[r + 1]!);
  }
  let start = from + Math.floor((first * 4) / 3); // the character holding the first bits of byte `first`
  let end = Math.min(to, from + Math.ceil((last * 4) / 3)); // and the last bits of byte `last - 1`
  // Widened within the stretch, and past its end over the group that ended it (the last, partial group of an encoding
  // may end in bits no printable byte has): bounded, so that stretches of one run are each read a bounded number of times.
  while (start > from && s.charCodeAt(start - 1) !== SLASH) start--;
  for (const limit = Math.min(s.length, to + 3); end < limit && s.charCodeAt(end) !== SLASH && isBase64Char(s.charCodeAt(end));) end++;
  for (let pads = 0; pads < 2; pads++) {
    if (s.charCodeAt(end) === 61 /* = */) end++;
    else if (s.charCodeAt(end) === PERCENT && s.charCodeAt(end + 1) === 51 /* 3 */ && (s.charCodeAt(end + 2) | 0x20) === 100 /* d */) end += 3;
  }
  (out ??= []).push(start, end);
  return out;
}

/**
 * The ranges of base64 (standard or base64url, padded or not) that decode to text holding a keyward key or a JWT —
 * HTTP Basic credentials `base64(key:)` or `base64(id:key)` sent in a user agent, a path segment or a query value —
 * appended to `out`. A run of {@link MIN_BASE64_RUN} or more base64 characters (the run may start before the encoded
 * text: `/v1/keys/<base64>` is one run, `/` being base64) is read at each of the four alignments of its groups; a
 * stretch of groups that all decode to printable ASCII, as a key, a JWT and `id:key` do, is decoded and searched.
 * Before any decoding, a group is checked by arithmetic alone, and ordinary words, paths and UUIDs fail within a
 * group or two. Linear: each character is read in four alignments, and decoded at most once in each.
 */
function base64Ranges(s: string, out: number[] | undefined): number[] | undefined {
  let i = 0;
  while (i < s.length) {
    if (!isBase64Char(s.charCodeAt(i))) {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < s.length && isBase64Char(s.charCodeAt(end))) end++;
    if (end - i >= MIN_BASE64_RUN) {
      for (let k = 0; k < 4; k++) {
        let from = i + k;
        let g = from;
        for (; g < end; g += 4) {
          if (printableGroup(s, g, end)) continue;
          out = encodedCredential(s, from, g, out);
          from = g + 4;
        }
        if (from < end) out = encodedCredential(s, from, end, out);
      }
    }
    i = end;
  }
  return out;
}

/** One pass of {@link redactCredentials} over `s`, given what {@link charsOf} found in it; `s` itself when nothing matched. */
function redactPass(s: string, value: string | undefined, chars: number): string {
  let ranges = (chars & MAY_HOLD_SHAPE) !== 0 ? shapeRanges(s, undefined) : undefined;
  if ((chars & MAY_HOLD_BASE64) !== 0) ranges = base64Ranges(s, ranges);
  if ((chars & HAS_BASIC_SCHEME) !== 0) ranges = basicRanges(s, ranges);
  if (value !== undefined && value.length >= MIN_VALUE_LENGTH && value.length <= s.length) {
    for (let at = s.indexOf(value); at !== -1; at = s.indexOf(value, at + value.length)) (ranges ??= []).push(at, at + value.length);
  }
  return ranges === undefined ? s : applyRanges(s, ranges);
}

const UPPER_F = 70, LOWER_F = 102;
const hexValue = (c: number): number => (c >= ZERO && c <= NINE ? c - ZERO : c >= UPPER_A && c <= UPPER_F ? c - UPPER_A + 10 : c >= LOWER_A && c <= LOWER_F ? c - LOWER_A + 10 : -1);

/** `s` with percent-escapes of visible ASCII (`%21`–`%7E`, every character a credential can hold) unescaped. */
function unescapeVisible(s: string): string {
  let out = '';
  let from = 0;
  for (let i = s.indexOf('%'); i !== -1 && i + 2 < s.length; i = s.indexOf('%', i + 1)) {
    const hi = hexValue(s.charCodeAt(i + 1));
    const lo = hexValue(s.charCodeAt(i + 2));
    const code = hi * 16 + lo;
    if (hi < 0 || lo < 0 || code <= 0x20 || code >= 0x7f) continue;
    out += s.slice(from, i) + String.fromCharCode(code);
    from = i + 3;
    i += 2;
  }
  return from === 0 ? s : out + s.slice(from);
}

/**
 * Returns `text` with every credential in it replaced by `[REDACTED]`: anything shaped like a keyward key of any prefix
 * (`<prefix>_<env>_` and 22 or more base62 characters; shape only, so near-misses go too), anything shaped like a JWT
 * (a base64url JSON object — `eyJ…`, or `eyAi…` for a header written with spaces — `.` `…` `.` `…`), and `value` (a
 * credential known to be in play, 8 characters or more) wherever it appears; and base64 or base64url (padded or not)
 * that decodes to text holding a key or a JWT shape — HTTP Basic credentials `base64(key:)` or `base64(id:key)` in a
 * user agent, a path segment or a query value — from the first character encoding it to the end of its encoding (a
 * `/` before it, as in `/v1/keys/<base64>`, stays). Base64 that decodes to anything else is left as it is, but for an
 * HTTP Basic credential: after `Basic` (any case) and white space, base64 that decodes to `user:password`, however
 * short (`Basic authentication` and a challenge's `Basic realm="api"` are prose and stay).
 * When `text` holds percent-escapes and only its unescaped form shows a credential, the unescaped form is returned,
 * redacted; escapes of escapes are looked behind too, up to three levels (`%5F`, `%255F`, `%25255F`). Linear time;
 * text with no `_`, no `%`, not both `ey`/`ew` and `.`, no `Basic` before white space and no 17 characters in a row
 * that could be base64 of printable text, that cannot contain `value` is returned as is after one loop over its
 * characters (no decoding).
 *
 * @example
 * ```ts
 * redactCredentials('/v1/kw_live_4fTq…x9/docs') // '/v1/[REDACTED]/docs' (a whole key)
 * redactCredentials('/v1/s3cr3t-v4lue/docs', 's3cr3t-v4lue') // '/v1/[REDACTED]/docs'
 * redactCredentials(`acme-cli/2.1 Basic ${btoa('kw_live_4fTq…x9:')}`) // 'acme-cli/2.1 Basic [REDACTED]'
 * ```
 */
export function redactCredentials(text: string, value?: string): string {
  const chars = charsOf(text);
  if (chars === 0 && (value === undefined || value.length > text.length)) return text; // the common path
  const out = redactPass(text, value, chars);
  if ((chars & HAS_ESCAPE) === 0) return out;
  // Escaped more than once (`%255F` for `_`), a credential shows only after as many unescapes: look up to
  // MAX_UNESCAPES levels deep, each one linear.
  let current = out;
  for (let depth = 0; depth < MAX_UNESCAPES; depth++) {
    const unescaped = unescapeVisible(current);
    if (unescaped === current) return out;
    const again = redactPass(unescaped, value, charsOf(unescaped));
    if (again !== unescaped) return again;
    current = unescaped;
  }
  return out;
}

/** How many levels of percent-escaping {@link redactCredentials} looks behind (`%5F`, `%255F`, `%25255F`). */
const MAX_UNESCAPES = 3;

/** Options of {@link createEventPathRedactor}. */
export interface EventPathRedactorOptions {
  /** More query parameter names to redact by name (e.g. the `queryParam` credentials are read from). */
  readonly queryParams?: readonly string[];
}

/**
 * The `path` field of request events: `(path, query, presented credential)` → the path and query with credential
 * parameters redacted by name (as {@link redactQuery}), then the presented credential, key-shaped and JWT-shaped
 * substrings redacted wherever they appear ({@link redactCredentials}). Built once per instance (names prepared up
 * front); a path with no query, no `_` or `%`, not both `ey`/`ew` and `.` and no stretch that could be base64 of a
 * credential costs one loop over its characters and no allocation, and the path of the previous call, when it held no credential, only a comparison.
 *
 * @example
 * ```ts
 * const eventPath = createEventPathRedactor({ queryParams: ['access_key'] });
 * eventPath('/v1/kw_live_4fTq…x9/docs', 'x-api-key=kw_live_4fTq…x9', undefined) // '/v1/[REDACTED]/docs?x-api-key=[REDACTED]'
 * ```
 */
export function createEventPathRedactor(options: EventPathRedactorOptions = {}): (path: string, query: string | undefined, credential: string | undefined) => string {
  const names = queryNames(options.queryParams ?? []);
  // The last text in which nothing was found: a request's events, and requests to the same route, repeat their path,
  // and then only the presented credential is looked for again. Never holds anything that was redacted.
  let clean = '';
  return (path, query, credential) => {
    let text = path;
    if (query) text = redactUserinfo(redactNamedParams(`${path}?${query}`, names));
    else if (path !== clean) {
      // The path of the previous clean call needs neither search (both leave their own output as it is). Otherwise a
      // path alone is read for parameters only when it has an `=` (`/a;jsessionid=…`, `/cb#access_token=…`), and for
      // user information only when it is no origin-form path (`http://user:pass@host/x`, `//user:pass@host/x`).
      if (path.indexOf('=') !== -1) text = redactNamedParams(path, names);
      if (path.charCodeAt(0) !== SLASH || path.charCodeAt(1) === SLASH) text = redactUserinfo(text);
    }
    if (text === clean && (credential === undefined || credential.length > text.length || text.indexOf(credential) === -1)) return text;
    const out = redactCredentials(text, credential);
    if (out === text) clean = text;
    return out;
  };
}
